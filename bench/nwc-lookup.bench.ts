// Round-trip latency of one NIP-47 lookup_invoice through our client, the real relay process on 127.0.0.1 and the
// real @getalby/sdk wallet service (sign + NIP-44 encrypt, relay, service decrypt + answer, relay, verify +
// decrypt). Run: `npx vitest bench bench/nwc-lookup.bench.ts`.
import { afterAll, bench, describe } from 'vitest'
import { NwcClient } from '../src-main/wallet/nwc-client'
import { LightningNetwork } from '../test/support/lightning'
import { type RelayHandle, startRelay } from '../test/support/relay'
import { startWalletService, type WalletServiceFixture } from '../test/support/wallet-service'

// Set up at module load: vitest 4 runs bench bodies before describe-level beforeAll hooks would be of use here.
const relay: RelayHandle = await startRelay()
const svc: WalletServiceFixture = await startWalletService({ relayUrls: [relay.url], network: new LightningNetwork() })
const conn = await svc.fundedConnection('bench', 0n)
const client = new NwcClient({ connection: conn.uri })
const { paymentHash } = await client.makeInvoice({ amountMsat: 1_000n })

describe('nwc', () => {
  afterAll(async () => {
    client.close()
    await svc.close()
    await relay.stop()
  })

  bench(
    'lookup_invoice round trip (loopback relay process)',
    async () => {
      await client.lookupInvoice({ paymentHash })
    },
    { iterations: 200, warmupIterations: 20 },
  )
})
