// `satmachine signer-emu`: --help and option refusal through the CLI dispatch, the demo/test-mode gate, and a real
// run: the ready line's ports serve NSHP/1 (a SignerClient signs, approved through the HTTP control API) and the
// control API refuses malformed or cross-site requests.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createSignerClient } from '../../src-shared/nshp/client'
import { main } from '../cli'
import { httpEmulatorControl } from '../signer/device/control-client'
import { connectTcpEmulator } from '../signer/device/tcp'
import { runSignerEmu } from './signer-emu'

const dir = mkdtempSync(join(tmpdir(), 'signer-emu-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const capture = () => {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } }
}

function rawPost(port: number, path: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('satmachine signer-emu', () => {
  it('--help exits 0 and lists the options; unknown options are refused naming them', async () => {
    const h = capture()
    expect(await main(['signer-emu', '--help'], h.io)).toBe(0)
    const text = h.out.join('\n')
    for (const o of [
      '--mode',
      '--key-file',
      '--port',
      '--control-port',
      '--pin',
      '--locked',
      '--report-size',
      '--auto-approve',
    ])
      expect(text).toContain(o)
    const u = capture()
    expect(await main(['signer-emu', '--mode', 'test', '--frobnicate'], u.io)).toBe(2)
    expect(u.err.join('\n')).toContain("unknown option '--frobnicate'")
    const help = capture()
    expect(await main(['help'], help.io)).toBe(0)
    expect(help.out.join('\n')).toContain('signer-emu')
  })

  it('refuses to hold a key unless started in demo or test mode', async () => {
    const none = capture()
    expect(await runSignerEmu([], none.io, new AbortController().signal)).toBe(2)
    expect(none.err.join('\n')).toMatch(/--mode: required, demo or test/)
    const prod = capture()
    expect(await runSignerEmu(['--mode', 'production'], prod.io, new AbortController().signal)).toBe(2)
    expect(prod.err.join('\n')).toMatch(/got 'production'/)
    const locked = capture()
    expect(await runSignerEmu(['--mode', 'test', '--locked'], locked.io, new AbortController().signal)).toBe(2)
    expect(locked.err.join('\n')).toMatch(/--locked: needs --pin/)
  })

  it('serves NSHP/1 on the printed ports; the control API approves and refuses bad requests', async () => {
    const keyFile = join(dir, 'emu.key')
    const c = capture()
    const stop = new AbortController()
    let resolveReady!: () => void
    const readyLine = new Promise<void>((r) => {
      resolveReady = r
    })
    const io = {
      out: (l: string) => {
        c.out.push(l)
        if (l.startsWith('signer-emu ready ')) resolveReady()
      },
      err: (l: string) => c.err.push(l),
    }
    const running = runSignerEmu(['--mode', 'test', '--key-file', keyFile, '--serial', 'EMU-CLI-1'], io, stop.signal)
    await readyLine
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    const ready = JSON.parse((c.out[0] ?? '').slice('signer-emu ready '.length)) as {
      dataPort: number
      controlPort: number
      pubkey: string
      serial: string
    }
    expect(ready.serial).toBe('EMU-CLI-1')
    const client = createSignerClient({ transport: await connectTcpEmulator({ port: ready.dataPort }) })
    const info = await client.getInfo()
    expect(info).toMatchObject({ serial: 'EMU-CLI-1', demo: true })
    const remote = httpEmulatorControl(ready.controlPort)
    // Pairing: the device shows the npub, the operator confirms on it, the host pins what it returned.
    const pk = client.getPublicKey({ display: true })
    const shown = await remote.waitFor('reviewing')
    expect(shown.review?.pages[0]?.lines.map((l) => l.label)).toEqual(['Account', 'npub'])
    await remote.press('approve')
    expect(await pk).toBe(ready.pubkey)
    client.pin(ready.pubkey)
    const ev = client.signEvent({ created_at: 1_767_225_600, kind: 30078, tags: [['d', 'x']], content: 'c' })
    const review = await remote.waitFor('reviewing')
    expect(review.review?.compareCode).toMatch(/^[0-9A-HJKMNP-TV-Z]{6}$/)
    await remote.press('approve')
    expect((await ev).pubkey).toBe(ready.pubkey)
    await expect(remote.press('launch' as never)).rejects.toThrow(/button: one of next, prev, approve, reject/)
    await expect(remote.fault('explode' as never)).rejects.toThrow(/fault: one of/)
    await expect(remote.configure({ keepaliveMs: -1 })).rejects.toThrow(/config.keepaliveMs/)
    expect(await rawPost(ready.controlPort, '/unplug', { 'content-type': 'text/plain' }, '{}')).toBe(415)
    expect(
      await rawPost(
        ready.controlPort,
        '/unplug',
        { 'content-type': 'application/json', host: 'evil.example:80' },
        '{}',
      ),
    ).toBe(403)
    expect((await remote.screen()).state).toBe('idle')
    await client.close()
    stop.abort()
    expect(await running).toBe(0)
    expect(c.out.at(-1)).toBe('signer-emu stopped')
  })
})
