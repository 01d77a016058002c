// A second headless console on a data directory another console holds: it exits non-zero naming the process that
// holds it and prints no URL (the BUILT app, two real processes). Needs `npx electron-vite build` first.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

describe('data directory lock', () => {
  let root: string | undefined
  let first: ServedProcess | undefined
  afterAll(async () => {
    await first?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('refuses a second console on a locked data directory, naming the holder, with no URL', async () => {
    root = await mkdtemp(join(tmpdir(), 'satmachine-lock-'))
    const args = ['--secret-key-file', join(root, 'k')]
    first = await startServeProcess(join(root, 'data'), args)
    const second = await startServeProcess(join(root, 'data'), args).then(
      (s) => s,
      (e: Error) => e,
    )
    expect(second).toBeInstanceOf(Error)
    const msg = (second as Error).message
    expect(msg).toMatch(/serve exited with 1 before printing a URL/)
    expect(msg).toContain(`locked by process ${first.proc.pid}`)
    // No URL to open: the per-launch token link is never printed.
    expect(msg).not.toMatch(/token=/)
  }, 60_000)
})
