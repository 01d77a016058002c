// The CLI dispatch table: help lists every command, unknown commands and bad options fail with a one-line reason.
import { describe, expect, it } from 'vitest'
import { COMMANDS, electronBinary, main } from './cli'

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err }
}

describe('satmachine CLI', () => {
  it('help lists every registered command', async () => {
    const c = capture()
    expect(await main(['help'], c.io)).toBe(0)
    expect(c.out[0]).toBe('usage: satmachine <command> [options]')
    for (const cmd of COMMANDS) expect(c.out.some((l) => l.trimStart().startsWith(cmd.name))).toBe(true)
    expect(COMMANDS.map((x) => x.name)).toEqual(expect.arrayContaining(['start', 'serve', 'help']))
    expect(new Set(COMMANDS.map((x) => x.name)).size).toBe(COMMANDS.length)
  })

  it('refuses an unknown command with exit 2', async () => {
    const c = capture()
    expect(await main(['frobnicate'], c.io)).toBe(2)
    expect(c.err).toEqual(["satmachine: unknown command 'frobnicate'; try 'satmachine help'"])
  })

  it('serve refuses a bad port and an unknown option before starting anything', async () => {
    const c = capture()
    expect(await main(['serve', '--port', '99999'], c.io)).toBe(2)
    expect(c.err).toEqual(['satmachine serve: --port: expected an integer in [0, 65535]'])
    const d = capture()
    expect(await main(['serve', '--bogus'], d.io)).toBe(2)
    expect(d.err[0]).toMatch(/^satmachine serve: unknown option '--bogus'/)
  })

  it('serve refuses a malformed --signer-emu address and the retired software operator key option', async () => {
    const c = capture()
    expect(await main(['serve', '--signer-emu', '10.0.0.1:4000'], c.io)).toBe(2)
    expect(c.err.at(-1)).toMatch(/^satmachine serve: --signer-emu: expected 127\.0\.0\.1:PORT/)
    const d = capture()
    expect(await main(['serve', '--operator-key-file', '/nonexistent/operator.key'], d.io)).toBe(2)
    expect(d.err[0]).toMatch(/^satmachine serve: unknown option '--operator-key-file'/)
  })

  it('finds no Electron binary where ELECTRON_EXEC_PATH points nowhere', () => {
    expect(electronBinary({ ELECTRON_EXEC_PATH: '/nonexistent/electron' })).toBeUndefined()
    expect(electronBinary({ ELECTRON_EXEC_PATH: process.execPath })).toBe(process.execPath)
  })

  it('every command answers --help with exit 0 and lists its options', async () => {
    for (const name of COMMANDS.map((c) => c.name).filter((n) => n !== 'help')) {
      const c = capture()
      expect(await main([name, '--help'], c.io), name).toBe(0)
      expect(c.out.join('\n'), name).toMatch(/usage: satmachine/)
      expect(c.err, name).toEqual([])
    }
    const s = capture()
    await main(['serve', '--help'], s.io)
    for (const o of ['--port', '--data-dir', '--demo', '--reset', '--secret-key-file', '--accept-plaintext-secrets'])
      expect(s.out.join('\n')).toContain(o)
  })

  it('refuses an unknown --demo value naming it, and --reset without --demo', async () => {
    const c = capture()
    expect(await main(['serve', '--demo', 'fast,turbo'], c.io)).toBe(2)
    expect(c.err.at(-1)).toMatch(/--demo: unknown value 'fast', 'turbo'; known: full, /)
    const d = capture()
    expect(await main(['serve', '--reset'], d.io)).toBe(2)
    expect(d.err.at(-1)).toMatch(/--reset: only with --demo/)
  })
})
