// The `satmachine` launcher (bin/satmachine.mjs) ends the process once a command has finished, even when a library
// left a handle open: it names what is left and keeps the command's exit code. Run against a stand-in CLI in a
// copy of the launcher's layout (bin/ + out/main/cli.js), so the test does not depend on a build.
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = mkdtempSync(join(tmpdir(), 'launcher-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function layout(cliSource: string): string {
  const dir = mkdtempSync(join(root, 'app-'))
  mkdirSync(join(dir, 'bin'))
  mkdirSync(join(dir, 'out', 'main'), { recursive: true })
  copyFileSync(join(import.meta.dirname, '..', '..', 'bin', 'satmachine.mjs'), join(dir, 'bin', 'satmachine.mjs'))
  writeFileSync(join(dir, 'out', 'main', 'cli.js'), cliSource)
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  return join(dir, 'bin', 'satmachine.mjs')
}

function run(launcher: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [launcher, 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    p.on('exit', (code) => resolve({ code, stderr }))
  })
}

describe('bin/satmachine.mjs exit', () => {
  it('exits with the command code and names the handle a finished command left open', async () => {
    const launcher = layout(
      "import { createServer } from 'node:net'\nexport async function main() { createServer().listen(0, '127.0.0.1'); return 3 }\n",
    )
    const r = await run(launcher)
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(
      /still running 5 s after the command finished \(left open: .*TCPServerWrap.*\); exiting with code 3/,
    )
  }, 60_000)

  it('lets a command that closed everything end at once, silently', async () => {
    const launcher = layout('export async function main() { return 0 }\n')
    const r = await run(launcher)
    expect(r.code).toBe(0)
    // No watchdog line: the process ended by itself, the unref'd timer kept nothing alive.
    expect(r.stderr).toBe('')
  }, 60_000)
})
