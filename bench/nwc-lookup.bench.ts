// Round-trip latency of one NIP-47 lookup_invoice through our client, the real relay process on 127.0.0.1 and the
// real @getalby/sdk wallet service (sign + NIP-44 encrypt, relay, service decrypt + answer, relay, verify +
// decrypt): 20 warm-up calls, then 200 timed sequential calls. Section `nwc-lookup` in bench/results.json.
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { NwcClient } from '../src-main/wallet/nwc-client'
import { LightningNetwork } from '../test/support/lightning'
import { type RelayHandle, startRelay } from '../test/support/relay'
import { startWalletService, type WalletServiceFixture } from '../test/support/wallet-service'
import { percentile, recordBench, round } from './lib'

const WARMUP = 20
const SAMPLES = 200

let relay: RelayHandle
let svc: WalletServiceFixture
let client: NwcClient

beforeAll(async () => {
  relay = await startRelay()
  svc = await startWalletService({ relayUrls: [relay.url], network: new LightningNetwork() })
  const conn = await svc.fundedConnection('bench', 0n)
  client = new NwcClient({ connection: conn.uri })
})
afterAll(async () => {
  client?.close()
  await svc?.close()
  await relay?.stop()
})

it(`lookup_invoice round trip over the loopback relay process (${SAMPLES} samples)`, async () => {
  const { paymentHash } = await client.makeInvoice({ amountMsat: 1_000n })
  for (let i = 0; i < WARMUP; i++) await client.lookupInvoice({ paymentHash })
  const ms: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now()
    const r = await client.lookupInvoice({ paymentHash })
    ms.push(performance.now() - t0)
    expect(r.paymentHash).toBe(paymentHash)
  }
  ms.sort((a, b) => a - b)
  const data = {
    samples: SAMPLES,
    p50Ms: round(percentile(ms, 50)),
    p99Ms: round(percentile(ms, 99)),
    minMs: round(ms[0]!),
    maxMs: round(ms.at(-1)!),
  }
  console.log(`[bench] nwc lookup_invoice: ${JSON.stringify(data)}`)
  recordBench('nwc-lookup', data)
})
