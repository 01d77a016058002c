// Minimal raw NIP-01 client for tests: sends frames exactly as given (so a test can publish forged or malformed
// events) and lets the test await the relay's answers (OK, EOSE, CLOSED, AUTH, EVENT) with a deadline, never a sleep.
import WebSocket from 'ws'

export type RelayFrame = [string, ...unknown[]]

export interface RawRelayClient {
  /** Every frame received so far, in order. */
  readonly frames: RelayFrame[]
  send(frame: unknown[]): void
  sendText(text: string): void
  /** Resolves with the first frame (already received or future) matching `pred`; rejects after timeoutMs. */
  next(pred: (f: RelayFrame) => boolean, timeoutMs?: number): Promise<RelayFrame>
  /** Sends EVENT and waits for its OK: resolves [accepted, message]. */
  publish(event: { id: string }, timeoutMs?: number): Promise<[boolean, string]>
  /** Sends REQ and collects stored events up to EOSE (rejects with the reason on CLOSED). */
  query(subId: string, ...filters: Record<string, unknown>[]): Promise<Array<Record<string, unknown>>>
  close(): Promise<void>
}

export async function connectRaw(url: string): Promise<RawRelayClient> {
  const ws = new WebSocket(url)
  const frames: RelayFrame[] = []
  let waiters: Array<{ pred: (f: RelayFrame) => boolean; resolve: (f: RelayFrame) => void; from: number }> = []
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as RelayFrame
    frames.push(frame)
    const idx = frames.length - 1
    for (const w of waiters) {
      if (idx >= w.from && w.pred(frame)) {
        waiters = waiters.filter((x) => x !== w)
        w.resolve(frame)
        break
      }
    }
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })

  const next = (pred: (f: RelayFrame) => boolean, timeoutMs = 5000, from = 0): Promise<RelayFrame> => {
    const seen = frames.slice(from).find(pred)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((x) => x.resolve !== done)
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(-5))}`))
      }, timeoutMs)
      const done = (f: RelayFrame) => {
        clearTimeout(timer)
        resolve(f)
      }
      waiters.push({ pred, resolve: done, from })
    })
  }

  return {
    frames,
    send: (frame) => ws.send(JSON.stringify(frame)),
    sendText: (text) => ws.send(text),
    next: (pred, timeoutMs) => next(pred, timeoutMs),
    async publish(event, timeoutMs) {
      const from = frames.length
      ws.send(JSON.stringify(['EVENT', event]))
      const ok = await next((f) => f[0] === 'OK' && f[1] === event.id, timeoutMs, from)
      return [ok[2] as boolean, ok[3] as string]
    },
    async query(subId, ...filters) {
      const from = frames.length
      ws.send(JSON.stringify(['REQ', subId, ...filters]))
      const end = await next((f) => (f[0] === 'EOSE' || f[0] === 'CLOSED') && f[1] === subId, 5000, from)
      if (end[0] === 'CLOSED') throw new Error(String(end[2]))
      return frames
        .slice(from, frames.indexOf(end))
        .filter((f) => f[0] === 'EVENT' && f[1] === subId)
        .map((f) => f[2] as Record<string, unknown>)
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve()
        ws.once('close', () => resolve())
        ws.close()
      }),
  }
}
