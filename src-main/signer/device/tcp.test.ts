// The TCP emulator path cuts the byte stream back into whole reports on both ends: a request written in odd-sized
// chunks reaches the device intact, and answers split across TCP segments reach the host client intact. A closed
// socket is an unplug, and the transport refuses hosts other than the loopback interface.
import { connect, createServer, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createSignerClient } from '../../../src-shared/nshp/client'
import { DeviceCore } from '../../../src-shared/nshp/device-core'
import { decodeResponse, encodeRequest } from '../../../src-shared/nshp/messages'
import { SignerError, Status } from '../../../src-shared/nshp/types'
import { Assembler, frameMessage } from '../../../src-shared/nshp-frame'
import { startSignerEmulator } from './emu-server'
import { connectTcpEmulator } from './tcp'

const SK = new Uint8Array(32).fill(6)

describe('TCP emulator transport', () => {
  it('a request written in odd-sized chunks reaches the device whole; the answer comes back whole', async () => {
    const server = await startSignerEmulator({ mode: 'test', secretKey: SK })
    try {
      const sock = await new Promise<Socket>((res) => {
        const s = connect({ host: '127.0.0.1', port: server.dataPort }, () => res(s))
      })
      const asm = new Assembler(0x4242, 64)
      const answer = new Promise<Uint8Array>((resolve) => {
        let buf = Buffer.alloc(0)
        sock.on('data', (c: Buffer) => {
          buf = Buffer.concat([buf, c])
          while (buf.length >= 64) {
            const ev = asm.push(new Uint8Array(buf.subarray(0, 64)))
            buf = buf.subarray(64)
            if (ev.kind === 'message') resolve(ev.message)
          }
        })
      })
      const data = Uint8Array.from({ length: 500 }, (_, i) => i & 0xff)
      const bytes = Buffer.concat(
        frameMessage(0x4242, encodeRequest(9, { command: 'PING', data }), 64).map((r) => Buffer.from(r)),
      )
      for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7 + 3) % 97 || 1) {
        await new Promise<void>((res) => sock.write(bytes.subarray(at, at + n), () => res()))
      }
      const ans = decodeResponse(await answer, 'PING')
      expect(ans.status).toBe(Status.OK)
      expect(
        ans.status === Status.OK && ans.body.command === 'PING' && Buffer.from(ans.body.data).equals(Buffer.from(data)),
      ).toBe(true)
      sock.destroy()
    } finally {
      await server.close()
    }
  })

  it('answers split across TCP segments reach the client whole; a closed socket is an unplug', async () => {
    // A stand-in device process that answers through a DeviceCore but writes each answer in 5-byte pieces.
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const sockets: Socket[] = []
    const srv = createServer((s) => {
      sockets.push(s)
      core.connect((r) => {
        for (let i = 0; i < r.length; i += 5) s.write(Buffer.from(r.subarray(i, i + 5)))
      })
      let buf = Buffer.alloc(0)
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c])
        while (buf.length >= 64) {
          core.receive(new Uint8Array(buf.subarray(0, 64)))
          buf = buf.subarray(64)
        }
      })
    })
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
    const port = (srv.address() as { port: number }).port
    try {
      const client = createSignerClient({ transport: await connectTcpEmulator({ port }) })
      expect(await client.getPublicKey()).toBe(core.pubkey)
      const data = new Uint8Array(300).fill(0x5a)
      expect(await client.ping(data)).toEqual(data)
      const p = client.getInfo().then(
        () => 'answered',
        (e: unknown) => e,
      )
      for (const s of sockets) s.destroy()
      const outcome = await p
      // Either the answer won the race, or the close did: then it is an unplug, never a hang.
      if (outcome !== 'answered') expect((outcome as SignerError).code).toBe('unplugged')
      await expect(client.getInfo()).rejects.toMatchObject({ code: 'unplugged' })
    } finally {
      await new Promise<void>((r) => srv.close(() => r()))
    }
  })

  it('works end to end with 63-byte reports (a USB stack that reserves a report-id byte)', async () => {
    const server = await startSignerEmulator({
      mode: 'test',
      secretKey: SK,
      reportBytes: 63,
      config: { autoApprove: true },
    })
    try {
      const client = createSignerClient({
        transport: await connectTcpEmulator({ port: server.dataPort, reportBytes: 63 }),
        pinnedPubkey: server.core.pubkey,
      })
      expect((await client.getInfo()).reportBytes).toBe(63)
      const ev = await client.signEvent({
        created_at: 1,
        kind: 1,
        tags: [['t', 'x'.repeat(200)]],
        content: 'é'.repeat(300),
      })
      expect(ev.pubkey).toBe(server.core.pubkey)
      await client.close()
    } finally {
      await server.close()
    }
  })

  it('refuses non-loopback hosts and reports a missing emulator as unplugged', async () => {
    await expect(connectTcpEmulator({ host: '10.0.0.1', port: 1 })).rejects.toMatchObject({ code: 'bad-request' })
    const srv = createServer()
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
    const port = (srv.address() as { port: number }).port
    await new Promise<void>((r) => srv.close(() => r()))
    const err = await connectTcpEmulator({ port }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SignerError)
    expect((err as SignerError).code).toBe('unplugged')
  })
})
