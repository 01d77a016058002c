// End-to-end catch-up rate of the relay pool (NIP-01): a fresh pool subscribes to the real relay process holding
// N stored events and receives, size-checks, copies, verifies (WASM) and delivers all of them, paging 500 at a time.
// This is what a console that was offline for a while pays when it comes back. Run:
// `npm run bench -- bench/relay-pool.bench.ts`.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initNostrWasm } from 'nostr-wasm'
import { describe, expect, it } from 'vitest'
import { createRelayPool } from '../src-main/nostr/relay-pool'
import { connectRaw } from '../test/support/raw-client'
import { startRelay } from '../test/support/relay'
import { recordBench, round } from './lib'

const N = Number(process.env.POOL_BENCH_EVENTS ?? 5000)

describe('relay pool catch-up', () => {
  it(`catches up on ${N} stored events`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pool-bench-'))
    const relay = await startRelay({ persistFile: join(dir, 'events.jsonl') })
    try {
      const nw = await initNostrWasm()
      const sk = nw.generateSecretKey()
      const raw = await connectRaw(relay.url)
      const base = Math.floor(Date.now() / 1000) - N
      for (let i = 0; i < N; i++) {
        const ev = { kind: 1, created_at: base + i, tags: [['t', 'bench']], content: `event ${i}`.padEnd(230, '.') }
        nw.finalizeEvent(ev as never, sk)
        raw.send(['EVENT', ev])
      }
      // Wait (by event, not by time) until the relay has acknowledged every publish.
      await raw.next(() => raw.frames.filter((f) => f[0] === 'OK').length === N, 120_000)
      await raw.close()

      const pool = await createRelayPool({ relays: [relay.url] })
      let delivered = 0
      const t0 = performance.now()
      await new Promise<void>((resolve) => {
        pool.subscribe({
          filters: [{ '#t': ['bench'] }],
          onEvent: () => {
            delivered++
          },
          onCaughtUp: () => resolve(),
        })
      })
      const ms = performance.now() - t0
      await pool.close()
      expect(delivered).toBe(N)
      const perSec = Math.round((N / ms) * 1000)
      console.log(`[relay-pool] caught up on ${N} events in ${round(ms, 1)} ms = ${perSec}/s (${pool.verifier.name})`)
      recordBench('relay-pool-catch-up', {
        events: N,
        ms: round(ms, 1),
        eventsPerSec: perSec,
        verifier: pool.verifier.name,
      })
    } finally {
      await relay.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
