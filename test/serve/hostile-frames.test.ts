// Hostile WebSocket frames from a token holder against the real `satmachine serve` process (docs/headless.md): each
// of the five frames that used to end the process ("Unhandled 'error' event") is written byte for byte over a raw
// TCP socket after a genuine upgrade. Each must close only that connection, with the RFC 6455 close code for it and
// a log line; afterwards the process still answers HTTP and a bridge connection opened before the attack still
// answers calls. Also: a flood of calls on one connection is answered `busy` beyond the in-flight limit instead of
// queueing. Needs the built app (npm test builds first).
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

const root = resolve(import.meta.dirname, '../..')
let served: ServedProcess
let dataDir: string
let token: string
let port: number
let witness: WebSocket

/** One WebSocket frame as a client would send it (masked unless told otherwise). `lengthOverride` lies in the header. */
function frame(
  opcode: number,
  payload: Buffer,
  opts: { mask?: boolean; fin?: boolean; lengthOverride?: bigint } = {},
): Buffer {
  const mask = opts.mask ?? true
  const len = opts.lengthOverride ?? BigInt(payload.length)
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | opcode]
  const m = mask ? 0x80 : 0
  let ext = Buffer.alloc(0)
  if (len < 126n) head.push(m | Number(len))
  else if (len < 65536n) {
    head.push(m | 126)
    ext = Buffer.alloc(2)
    ext.writeUInt16BE(Number(len))
  } else {
    head.push(m | 127)
    ext = Buffer.alloc(8)
    ext.writeBigUInt64BE(len)
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, payload])
  const key = randomBytes(4)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i % 4] as number)
  return Buffer.concat([Buffer.from(head), ext, key, body])
}

interface ServerFrame {
  opcode: number
  payload: Buffer
}

/** Splits the server's (unmasked) frames out of a byte stream; returns the frames and the unparsed rest. */
function parseFrames(buf: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = []
  let at = 0
  for (;;) {
    if (buf.length - at < 2) break
    const b1 = buf[at + 1] as number
    let len = b1 & 0x7f
    let off = at + 2
    if (len === 126) {
      if (buf.length - at < 4) break
      len = buf.readUInt16BE(at + 2)
      off = at + 4
    } else if (len === 127) {
      if (buf.length - at < 10) break
      len = Number(buf.readBigUInt64BE(at + 2))
      off = at + 10
    }
    if (buf.length < off + len) break
    frames.push({ opcode: (buf[at] as number) & 0x0f, payload: buf.subarray(off, off + len) })
    at = off + len
  }
  return { frames, rest: buf.subarray(at) }
}

interface RawBridge {
  socket: Socket
  frames: ServerFrame[]
  /** Resolves once the server has closed the TCP connection. */
  ended: Promise<void>
  /** Resolves when `pred` holds for the frames received so far. */
  until(pred: (frames: ServerFrame[]) => boolean): Promise<void>
}

/** A genuine upgrade over a raw socket (token in the header), then whatever bytes the test writes. */
function rawBridge(): Promise<RawBridge> {
  return new Promise((res, rej) => {
    const socket = connect(port, '127.0.0.1')
    const frames: ServerFrame[] = []
    const waiters: Array<() => void> = []
    let buf = Buffer.alloc(0)
    let upgraded = false
    let endedResolve: () => void = () => {}
    const ended = new Promise<void>((r) => {
      endedResolve = r
    })
    const bridge: RawBridge = {
      socket,
      frames,
      ended,
      until(pred) {
        return new Promise((r) => {
          const check = () => {
            if (pred(frames)) {
              r()
              return true
            }
            return false
          }
          if (!check()) waiters.push(() => void check())
        })
      },
    }
    // Writes after the server closed may fail with EPIPE/ECONNRESET: that is the server doing its job.
    socket.on('error', () => endedResolve())
    socket.on('close', () => {
      endedResolve()
      if (!upgraded) rej(new Error('connection closed before the upgrade'))
    })
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.subarray(0, end).toString('latin1')
        buf = buf.subarray(end + 4)
        if (!head.startsWith('HTTP/1.1 101')) {
          rej(new Error(`upgrade refused: ${head.split('\r\n')[0]}`))
          return
        }
        upgraded = true
        res(bridge)
      }
      const parsed = parseFrames(buf)
      frames.push(...parsed.frames)
      buf = Buffer.from(parsed.rest)
      for (const w of waiters) w()
    })
    socket.write(
      [
        'GET /__bridge HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        `x-satmachine-token: ${token}`,
        '',
        '',
      ].join('\r\n'),
    )
  })
}

function closeCode(frames: ServerFrame[]): number | undefined {
  const c = frames.find((f) => f.opcode === 0x8)
  return c && c.payload.length >= 2 ? c.payload.readUInt16BE(0) : undefined
}

let witnessSeq = 0
/** One call on the witness connection (opened before any attack). */
function witnessCall(method: string): Promise<{ ok: boolean; value?: unknown }> {
  const id = ++witnessSeq
  return new Promise((res) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const m = JSON.parse(String(raw))
      if (m.id === id) {
        witness.off('message', onMessage)
        res(m.result)
      }
    }
    witness.on('message', onMessage)
    witness.send(JSON.stringify({ id, method, args: [] }))
  })
}

async function stillServing(): Promise<void> {
  expect(served.proc.exitCode).toBeNull()
  expect(served.proc.signalCode).toBeNull()
  const r = await fetch(`${served.origin}/`, { headers: { 'x-satmachine-token': token } })
  expect(r.status).toBe(200)
  expect(witness.readyState).toBe(WebSocket.OPEN)
  expect(await witnessCall('ledger.status')).toMatchObject({ ok: true, value: { state: 'ready' } })
  // A fresh connection still upgrades and answers.
  const fresh = await rawBridge()
  fresh.socket.write(frame(0x1, Buffer.from(JSON.stringify({ id: 1, method: 'app.info', args: [] }))))
  await fresh.until((f) => f.some((x) => x.opcode === 0x1))
  expect(JSON.parse(String(fresh.frames[0]?.payload))).toMatchObject({ id: 1, result: { ok: true } })
  fresh.socket.destroy()
}

beforeAll(async () => {
  if (!existsSync(join(root, 'out/main/cli.js'))) throw new Error('out/main is missing: run npm run build first')
  dataDir = mkdtempSync(join(tmpdir(), 'satmachine-hostile-'))
  served = await startServeProcess(dataDir)
  token = new URL(served.url).searchParams.get('token') ?? ''
  port = Number(new URL(served.url).port)
  witness = await new Promise<WebSocket>((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/__bridge`, { headers: { 'x-satmachine-token': token } })
    ws.once('open', () => res(ws))
    ws.once('error', rej)
  })
  // Wait for the ledger, so "still serving" compares like with like.
  for (;;) {
    const r = (await witnessCall('ledger.status')) as { ok: boolean; value?: { state?: string } }
    if (r.ok && r.value?.state === 'ready') break
    await new Promise<void>((res) => setImmediate(res))
  }
})

afterAll(async () => {
  witness?.close()
  await served?.stop()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

const HOSTILE: Array<{ name: string; bytes: () => Buffer; code: number }> = [
  {
    name: 'a message over 1 MiB',
    bytes: () => frame(0x1, Buffer.alloc(1024 * 1024 + 1, 0x61)),
    code: 1009,
  },
  {
    name: 'an unmasked client frame',
    bytes: () => frame(0x1, Buffer.from('{"id":1,"method":"app.info","args":[]}'), { mask: false }),
    code: 1002,
  },
  {
    name: 'a text message that is not valid UTF-8',
    bytes: () => frame(0x1, Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d])),
    code: 1007,
  },
  {
    name: 'a reserved opcode (0x3)',
    bytes: () => frame(0x3, Buffer.from('hello')),
    code: 1002,
  },
  {
    name: 'a header declaring a 4 GiB length',
    bytes: () => frame(0x1, Buffer.alloc(0), { lengthOverride: 4n * 1024n * 1024n * 1024n }),
    code: 1009,
  },
]

describe('hostile frames from a token holder', () => {
  for (const h of HOSTILE) {
    it(`${h.name}: closes that connection with ${h.code}, logs it, and the process keeps serving`, async () => {
      const before = served.output().split('bridge client closed: bad frame').length
      const attacker = await rawBridge()
      attacker.socket.write(h.bytes())
      await attacker.ended
      expect(closeCode(attacker.frames)).toBe(h.code)
      await stillServing()
      expect(served.output().split('bridge client closed: bad frame').length).toBe(before + 1)
    })
  }
})

describe('per-connection in-flight limit', () => {
  it('answers calls beyond 64 in flight with busy, answers every call, and keeps the connection', async () => {
    const calls = 500
    const flood = await rawBridge()
    const bytes = Buffer.concat(
      Array.from({ length: calls }, (_, i) =>
        frame(0x1, Buffer.from(JSON.stringify({ id: i + 1, method: 'ledger.status', args: [] }))),
      ),
    )
    flood.socket.write(bytes)
    await flood.until((f) => f.filter((x) => x.opcode === 0x1).length >= calls)
    const answers = flood.frames.filter((x) => x.opcode === 0x1).map((x) => JSON.parse(String(x.payload)))
    expect(new Set(answers.map((a) => a.id)).size).toBe(calls)
    const busy = answers.filter((a) => a.result.ok === false)
    expect(busy.length).toBeGreaterThan(0)
    for (const b of busy) expect(b.result.error.code).toBe('busy')
    expect(answers.filter((a) => a.result.ok === true).length).toBeGreaterThanOrEqual(64)
    // The connection is still usable once the answers are in.
    const n = flood.frames.length
    flood.socket.write(frame(0x1, Buffer.from(JSON.stringify({ id: 9999, method: 'app.info', args: [] }))))
    await flood.until((f) => f.length > n)
    expect(JSON.parse(String(flood.frames[n]?.payload))).toMatchObject({ id: 9999, result: { ok: true } })
    flood.socket.destroy()
    await stillServing()
  })
})
