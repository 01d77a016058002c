// Signature verification throughput for incoming relay events (NIP-01 id + BIP-340 signature): the WASM verifier
// (nostr-wasm / libsecp256k1) that the relay pool uses, against the pure JS fallback (@noble/curves) and
// nostr-tools' own pure verifyEvent, over 10,000 distinct events. Each pass verifies fresh copies, so no cached
// "verified" flag can help. Also measures the pool's whole per-event check (shape copy + verify + freeze).
// Run: `npm run bench -- bench/verify.bench.ts`.
import { verifyEvent as ntVerifyEvent } from 'nostr-tools/pure'
import { initNostrWasm } from 'nostr-wasm'
import { describe, expect, it } from 'vitest'
import {
  type EventVerifier,
  freezeEvent,
  nobleVerifier,
  parseSignedEvent,
  type SignedEvent,
  wasmVerifier,
} from '../src-main/nostr/event-verifier'
import { recordBench, round } from './lib'

const N = Number(process.env.VERIFY_BENCH_EVENTS ?? 10_000)

async function makeEvents(n: number): Promise<SignedEvent[]> {
  // Signing with WASM keeps set-up short; ten keys, realistic ATM-record-sized content and tags.
  const nw = await initNostrWasm()
  const keys = Array.from({ length: 10 }, () => nw.generateSecretKey())
  const out: SignedEvent[] = []
  for (let i = 0; i < n; i++) {
    const ev = {
      kind: 30079,
      created_at: 1_790_000_000 + i,
      tags: [
        ['d', `tx-${i}`],
        ['p', 'a'.repeat(64)],
      ],
      content: `record ${i} `.padEnd(230, 'x'),
    } as SignedEvent
    nw.finalizeEvent(ev, keys[i % keys.length]!)
    out.push(ev)
  }
  return out
}

const clone = (e: SignedEvent): SignedEvent => ({ ...e, tags: e.tags.map((t) => [...t]) })

type Check = (e: SignedEvent) => boolean

/**
 * Times every check over all events, interleaved chunk by chunk so that load from other processes on this shared
 * machine hits every contender alike. Reports the overall rate and the best chunk's rate.
 */
function race(events: SignedEvent[], checks: Record<string, Check>, chunks = 10) {
  const names = Object.keys(checks)
  const totalMs: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]))
  const bestPerSec: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]))
  for (const n of names) for (const e of events.slice(0, 200).map(clone)) checks[n]!(e) // warm-up
  const size = Math.ceil(events.length / chunks)
  for (let c = 0; c < chunks; c++) {
    const slice = events.slice(c * size, (c + 1) * size)
    for (const n of names) {
      const copies = slice.map(clone)
      const t0 = performance.now()
      let ok = 0
      for (const e of copies) if (checks[n]!(e)) ok++
      const ms = performance.now() - t0
      expect(ok).toBe(slice.length)
      totalMs[n]! += ms
      bestPerSec[n] = Math.max(bestPerSec[n]!, Math.round((slice.length / ms) * 1000))
    }
  }
  return Object.fromEntries(
    names.map((n) => {
      const perSec = Math.round((events.length / totalMs[n]!) * 1000)
      console.log(
        `[verify] ${n}: ${events.length} events in ${round(totalMs[n]!, 1)} ms = ${perSec}/s (best chunk ${bestPerSec[n]}/s)`,
      )
      return [
        n,
        { events: events.length, ms: round(totalMs[n]!, 1), eventsPerSec: perSec, bestChunkPerSec: bestPerSec[n] },
      ]
    }),
  )
}

describe('event signature verification', () => {
  it(`verifies ${N} events: WASM vs pure JS`, async () => {
    const events = await makeEvents(N)
    const wasm: EventVerifier = await wasmVerifier()
    const noble = nobleVerifier()
    const results = race(events, {
      wasmVerifier: (e) => wasm.verify(e) === 'ok',
      nobleVerifier: (e) => noble.verify(e) === 'ok',
      nostrToolsPure: (e) => ntVerifyEvent(e),
      poolCheckWasm: (e) => {
        // What the pool does per incoming event: defensive copy, verify, freeze.
        const copy = parseSignedEvent(e)
        const ok = wasm.verify(copy) === 'ok'
        freezeEvent(copy)
        return ok
      },
    })
    const speedup = round(results.wasmVerifier!.eventsPerSec / results.nobleVerifier!.eventsPerSec, 2)
    console.log(`[verify] WASM / pure JS speed-up: ${speedup}x`)
    recordBench('nostr-verify', { ...results, wasmOverPureJs: speedup })
  })
})
