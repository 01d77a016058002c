// The onboarding wizard's main side over the real services (createServices, in-process ledger): progress saved to
// the data directory and resumed by a new set of services; a real relay process checked live (and a closed port
// refused in operator words); a real NIP-47 wallet service answering get_info and get_balance (and a malformed
// URI refused naming the field); the default fees saved as the fleet's fee configuration, refused in percent
// when they break the rules; the signer read from the provider, degrading when none is connected.
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LightningNetwork } from '../../test/support/lightning'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import { startNodeServices } from '../../test/support/services'
import { useTempDirs } from '../../test/support/temp-dirs'
import { startWalletService, type WalletConnection, type WalletServiceFixture } from '../../test/support/wallet-service'
import type { OperatorSignerProvider } from '../fleet/operator-signer'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { Services } from '../services'
import { createSoftwareSigner } from '../signer/software-signer'

const tempDir = useTempDirs('onboarding-')
let relay: RelayHandle
let svc: WalletServiceFixture
let op: WalletConnection

beforeAll(async () => {
  relay = await startRelay()
  svc = await startWalletService({ relayUrls: [relay.url], network: new LightningNetwork() })
  op = await svc.fundedConnection('operator', 21_000_000n)
}, 60_000)

afterAll(async () => {
  await svc?.close()
  await relay?.stop()
})

async function refusal(p: Promise<unknown>): Promise<{ code: string; field?: string; message: string }> {
  try {
    await p
  } catch (e) {
    return e as { code: string; field?: string; message: string }
  }
  throw new Error('expected a refusal')
}

describe('onboarding handlers', () => {
  it('keeps the progress in the data directory and resumes it after a restart', async () => {
    const dataDir = tempDir()
    let s: Services = await startNodeServices({ dataDir })
    try {
      const first = await s.handlers['onboarding.status']()
      expect(first).toMatchObject({ step: 'signer', done: [], dismissed: false, configured: false })
      expect(first.missing).toEqual(expect.arrayContaining(['operator', 'operatorWallet', 'relays']))
      // No signer connected: the wizard says so instead of failing.
      expect(first.signer).toMatchObject({ connected: false, pubkey: null, matchesOperator: false })
      expect(first.signer.description).toMatch(/signer/)
      await s.handlers['onboarding.save']({ done: 'signer' })
      await s.handlers['onboarding.save']({ step: 'wallet', done: 'relays' })
    } finally {
      await s.close()
    }
    s = await startNodeServices({ dataDir })
    try {
      expect(await s.handlers['onboarding.status']()).toMatchObject({ step: 'wallet', done: ['signer', 'relays'] })
      const closed = await s.handlers['onboarding.save']({ dismissed: true })
      expect(closed.dismissed).toBe(true)
    } finally {
      await s.close()
    }
  })

  it('reads the connected signer from the provider and compares it with the pinned operator key', async () => {
    const sk = new Uint8Array(32).fill(0x31)
    // A provider holding a key, as the device feature's or the remote bunker's is once connected.
    const signer = createSoftwareSigner(sk)
    const provider: OperatorSignerProvider = {
      current: () => signer,
      pubkey: () => getPublicKey(sk),
      describe: () => 'test signer',
    }
    const s = await startNodeServices({ dataDir: tempDir(), operatorSigner: provider })
    try {
      const st = await s.handlers['onboarding.status']()
      expect(st.signer).toMatchObject({ connected: true, pubkey: getPublicKey(sk), matchesOperator: false })
      expect(st.signer.npub).toMatch(/^npub1/)
    } finally {
      await s.close()
    }
  })

  it('checks a relay live: a real relay answers, a closed port and a non-URL are refused in plain words', async () => {
    const s = await startNodeServices({ dataDir: tempDir() })
    try {
      const ok = await s.handlers['onboarding.checkRelay']({ url: relay.url })
      expect(ok).toMatchObject({ url: relay.url, ok: true, error: null })
      expect(ok.latencyMs).toBeGreaterThanOrEqual(0)
      const closed = await s.handlers['onboarding.checkRelay']({ url: 'ws://127.0.0.1:9' })
      expect(closed).toMatchObject({ ok: false, latencyMs: null })
      expect(closed.error).toMatch(/connection refused/)
      const bad = await refusal(Promise.resolve().then(() => s.handlers['onboarding.checkRelay']({ url: 'http://x' })))
      expect(bad).toMatchObject({ code: 'bad_args', field: 'args[0].url' })
    } finally {
      await s.close()
    }
  })

  it('checks a wallet connection with get_info and get_balance, and names the field when the URI is wrong', async () => {
    const s = await startNodeServices({ dataDir: tempDir() })
    try {
      const w = await s.handlers['onboarding.checkWallet']({ nwcUri: op.uri })
      expect(w.balanceMsat).toBe('21000000')
      expect(w.methods).toEqual(expect.arrayContaining(['get_info', 'get_balance', 'pay_invoice']))
      expect(w.missingMethods).toEqual([])
      const bad = await refusal(
        Promise.resolve(s.handlers['onboarding.checkWallet']({ nwcUri: 'nostr+walletconnect://nope' })),
      )
      expect(bad).toMatchObject({ code: 'bad_args', field: 'args[0].nwcUri' })
    } finally {
      await s.close()
    }
  }, 30_000)

  it('saves the default fees as the fleet fee configuration and refuses broken ones in percent', async () => {
    let store: InProcessLedger | undefined
    const s = await startNodeServices({
      dataDir: tempDir(),
      openLedger: async ({ dir, log }) => {
        store = await openLedgerInProcess({ dir, logger: log })
        return store
      },
    })
    try {
      const fees = {
        cashOut: { platformPpm: 10_000, operatorPpm: 50_000 },
        cashIn: { platformPpm: 10_000, operatorPpm: 40_000 },
        splits: [
          { id: 'owner', weightPpm: 700_000 },
          { id: 'tech', weightPpm: 300_000 },
        ],
      }
      const st = await s.handlers['onboarding.setFees'](fees)
      expect(st.fees).toEqual(fees)
      expect(st.done).toContain('fees')
      const [cfg] = await store!.query<{
        machine_id: string | null
        cash_out_operator_ppm: number
        splits_json: string
      }>('SELECT machine_id, cash_out_operator_ppm, splits_json FROM acct_config ORDER BY seq DESC LIMIT 1')
      expect(cfg).toEqual({ machine_id: null, cash_out_operator_ppm: 50_000, splits_json: JSON.stringify(fees.splits) })
      const tooMuch = await refusal(
        Promise.resolve().then(() =>
          s.handlers['onboarding.setFees']({ ...fees, cashOut: { platformPpm: 100_000, operatorPpm: 60_000 } }),
        ),
      )
      expect(tooMuch).toMatchObject({ code: 'bad_args', field: 'args[0].cashOut.operatorPpm' })
      expect(tooMuch.message).toMatch(/at most 15 %/)
      const badSplit = await refusal(
        Promise.resolve().then(() =>
          s.handlers['onboarding.setFees']({ ...fees, splits: [{ id: 'owner', weightPpm: 600_000 }] }),
        ),
      )
      expect(badSplit).toMatchObject({ field: 'args[0].splits' })
      expect(badSplit.message).toMatch(/add up to 100 %, they add up to 60 %/)
    } finally {
      await s.close()
    }
  })
})
