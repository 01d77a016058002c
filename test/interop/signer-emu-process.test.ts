// `satmachine signer-emu` as a separate process (the built CLI, as the Chromium e2e and an operator run it): it
// prints its ready line, a SignerClient in this process pairs and signs over its TCP port with the approval pressed
// through the HTTP control API, a control-API unplug ends a pending request as "unplugged, nothing signed", and
// SIGTERM ends the process with exit 0.
import { type ChildProcess, spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { httpEmulatorControl } from '../../src-main/signer/device/control-client'
import { connectTcpEmulator } from '../../src-main/signer/device/tcp'
import { createSignerClient } from '../../src-shared/nshp/client'
import { SignerError } from '../../src-shared/nshp/types'

const ROOT = resolve(import.meta.dirname, '../..')
let proc: ChildProcess | undefined

afterAll(() => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL')
})

it('runs as its own process: ready line, pairing, signing, unplug, clean exit', async () => {
  proc = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'satmachine.mjs'), 'signer-emu', '--mode', 'test', '--serial', 'EMU-PROC-1'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const child = proc
  let out = ''
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString()
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const ready = await new Promise<{ dataPort: number; controlPort: number; pubkey: string; serial: string }>(
    (res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no ready line within 30 s:\n${out}`)), 30_000)
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString()
        const line = out.split('\n').find((l) => l.startsWith('signer-emu ready '))
        if (line) {
          clearTimeout(timer)
          res(JSON.parse(line.slice('signer-emu ready '.length)))
        }
      })
      void exited.then((code) => rej(new Error(`exited ${code} before ready:\n${out}`)))
    },
  )
  expect(ready.serial).toBe('EMU-PROC-1')
  const remote = httpEmulatorControl(ready.controlPort)
  const client = createSignerClient({ transport: await connectTcpEmulator({ port: ready.dataPort }) })
  expect(await client.getInfo()).toMatchObject({ demo: true, serial: 'EMU-PROC-1', protocolVersion: 1 })
  const paired = client.getPublicKey({ display: true })
  await remote.waitFor('reviewing')
  await remote.press('approve')
  client.pin(await paired)
  expect(client.pinnedPubkey).toBe(ready.pubkey)
  const signed = client.signEvent({ created_at: 1_767_225_600, kind: 30078, tags: [['d', 'cfg']], content: 'fee 7%' })
  await remote.waitFor('reviewing')
  await remote.press('approve')
  expect((await signed).pubkey).toBe(ready.pubkey)
  const pending = client
    .signEvent({ created_at: 1_767_225_601, kind: 30078, tags: [['d', 'cfg']], content: 'fee 8%' })
    .catch((e: unknown) => e)
  await remote.waitFor('reviewing')
  await remote.unplug()
  const err = await pending
  expect(err).toBeInstanceOf(SignerError)
  expect((err as SignerError).code).toBe('unplugged')
  child.kill('SIGTERM')
  expect(await exited).toBe(0)
  expect(out).toContain('signer-emu stopped')
})
