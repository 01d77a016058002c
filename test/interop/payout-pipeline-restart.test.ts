// The money pipeline across a console restart (src-main/pipeline/runtime.ts): a simulated ATM keeps selling while
// the console is down (ledger closed, relay pool and wallet client gone), and the rebuilt pipeline — ledger reopened
// from its snapshot and journal, relay cursor resumed — books every record once, pays every leg once and sends one
// DM per LP payout, over a REAL relay process and the REAL @getalby/sdk wallet service.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBytes } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, describe, expect, it } from 'vitest'
import { createLedgerCursorStore } from '../../src-main/fleet/cursor-store'
import '../../src-main/ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import type { Row } from '../../src-main/ledger/types'
import { ledgerDestinationLookup } from '../../src-main/lps/service'
import { createRelayPool, type RelayPool, type VerifiedEvent } from '../../src-main/nostr/relay-pool'
import { createDestinationResolver } from '../../src-main/payouts/destinations/resolver'
import { type ConsoleRuntime, createConsoleRuntime } from '../../src-main/pipeline/runtime'
import { aesGcmSecretBox } from '../../src-main/secrets/file-key'
import { openSecretStore, SecretSlots } from '../../src-main/secrets/secret-store'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { NwcClient } from '../../src-main/wallet/nwc-client'
import { systemClock } from '../../src-shared/clock'
import { copyEvent, type NostrEvent, signTemplateWithKey } from '../../src-shared/nostr/event'
import { KIND_DM_RELAYS, KIND_GIFT_WRAP, unwrapGiftWrap } from '../../src-shared/nostr/nip17'
import { startFleetHarness, waitFor } from '../support/fleet-harness'
import type { SimWallet } from '../support/lightning'

const tmp = mkdtempSync(join(tmpdir(), 'pipeline-restart-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const POLICY = { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 5000, maxFeeBaseMsat: '10000' }

describe('payout pipeline across a console restart', () => {
  it('sales during the downtime are booked, paid and notified once after the restart', async () => {
    const h = await startFleetHarness({ recordRelays: 1 })
    const relayUrl = h.recordRelays[0]!.url
    const ledgerDir = join(tmp, 'ledger')
    const secrets = await openSecretStore({
      dir: join(tmp, 'secrets'),
      box: aesGcmSecretBox(hexToBytes('5e'.repeat(32))),
      log: h.log.child('secrets'),
    })
    const reader = await createRelayPool({ relays: [relayUrl] })
    interface Console {
      ledger: InProcessLedger
      pool: RelayPool
      nwc: NwcClient
      runtime: ConsoleRuntime
      close(): Promise<void>
    }
    const startConsole = async (): Promise<Console> => {
      const ledger = await openLedgerInProcess({ dir: ledgerDir, logger: h.log.child('ledger') })
      const cursorStore = createLedgerCursorStore(() => ledger, { clock: systemClock })
      const pool = await createRelayPool({
        relays: [relayUrl],
        logger: h.log.child('pool'),
        cursorStore,
        backoff: { initialMs: 50, maxMs: 500 },
      })
      const nwc = new NwcClient({ connection: h.op.uri, logger: h.log.child('nwc'), replyTimeoutMs: 15_000 })
      const runtime = await createConsoleRuntime({
        ledger,
        pool,
        wallet: nwc,
        consoleSigner: createSoftwareSigner(h.consoleSecret),
        operatorPubkey: h.operatorPubkey,
        relays: [relayUrl],
        clock: systemClock,
        log: h.log.child('pipeline'),
        cursorStore,
        destinations: createDestinationResolver({ lookup: ledgerDestinationLookup(() => ledger), secrets }),
        timing: { payoutIntervalMs: 500, receiptIntervalMs: 500, settlementIntervalMs: 500 },
        intake: { retryIntervalMs: 1000, operatorCatchUpMs: 3000 },
        receipts: { retryInitialMs: 500 },
      })
      await runtime.start()
      return {
        ledger,
        pool,
        nwc,
        runtime,
        async close() {
          await runtime.close()
          await pool.close()
          nwc.close()
          await ledger.close()
        },
      }
    }

    let c = await startConsole()
    try {
      const { sim } = await h.pairAtm({ machineId: 'atm-restart-01', members: [] })
      await waitFor('machine configured', async () =>
        (await c.runtime.fleet.machines()).some((m) => m.machineId === 'atm-restart-01' && m.rosterStatus === 'member'),
      )
      // Recipients: an LP paid to her own NWC wallet, an LP paid by keysend, platform and operator split by keysend.
      const wallets: Record<string, SimWallet> = {}
      const lps: Record<string, Uint8Array> = {}
      const atMs = Date.now()
      for (const id of ['eva', 'fay']) {
        const sk = generateSecretKey()
        lps[id] = sk
        const w = h.net.createWallet(id, 0n)
        wallets[`lp:${id}`] = w
        let destination: Record<string, string> = { kind: 'keysend', nodeId: w.nodePubkey }
        if (id === 'eva') {
          const conn = await h.svc.addConnection({ wallet: w, methods: ['make_invoice'] })
          await secrets.put(SecretSlots.lpNwc(id), conn.uri)
          destination = { kind: 'nwc', secretSlot: SecretSlots.lpNwc(id), walletPubkey: conn.walletPubkey }
        }
        await c.ledger.call('lps.register', {
          id,
          npub: npubEncode(getPublicKey(sk)),
          pubkey: getPublicKey(sk),
          name: id,
          currency: 'EUR',
          mode: 'flow',
          destination,
          payout: POLICY,
          atMs,
        })
        await c.ledger.call('lps.recordDeposit', { id: `d-${id}`, lpId: id, amountMinor: '100000000', atMs })
        await c.ledger.call('lps.confirmDeposit', { depositId: `d-${id}`, atMs })
        const list = signTemplateWithKey(
          { kind: KIND_DM_RELAYS, created_at: Math.floor(atMs / 1000), tags: [['relay', relayUrl]], content: '' },
          sk,
        )
        expect((await reader.publish(list))[0]!.ok).toBe(true)
      }
      for (const [kind, id] of [
        ['platform', 'platform'],
        ['split', 'operator'],
      ] as const) {
        const w = h.net.createWallet(id, 0n)
        wallets[`${kind}:${id}`] = w
        await c.ledger.call('lps.setDestination', {
          recipientKind: kind,
          recipientId: id,
          destination: { kind: 'keysend', nodeId: w.nodePubkey },
          payout: POLICY,
          atMs,
        })
      }

      const sold: string[] = []
      const sell = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const s = await sim.sell({ fiatMinor: BigInt(1_500 + ((sold.length * 37) % 20) * 300) })
          expect(s.accepted).toBe(true)
          sold.push(s.paymentHash!)
        }
      }
      const q = <T extends Row>(sql: string) => c.ledger.query<T>(sql, [], { bigint: true })
      const count = async (sql: string) => Number((await q<{ n: bigint }>(sql))[0]!.n)

      await sell(20)
      await waitFor(
        'the first 20 booked',
        async () => (await count('SELECT COUNT(*) AS n FROM acct_settlement')) === 20,
      )
      await c.close()
      await sell(20) // the console is down: records wait on the relay
      c = await startConsole()
      await sell(10)

      await waitFor(
        'everything processed, paid, receipted and notified after the restart',
        async () =>
          (await count("SELECT COUNT(*) AS n FROM acct_settlement WHERE status = 'processed'")) === 50 &&
          (await count("SELECT COUNT(*) AS n FROM payout WHERE state != 'paid'")) === 0 &&
          (await count(`SELECT COUNT(*) AS n FROM acct_accrual a WHERE balance_after_msat >= 1000 AND a.id =
             (SELECT MAX(id) FROM acct_accrual x WHERE x.recipient_kind = a.recipient_kind
              AND x.recipient_id = a.recipient_id)`)) === 0 &&
          (await count("SELECT COUNT(*) AS n FROM rcpt_attempt WHERE kind = 'verified'")) === 50,
        90_000,
      )
      await c.runtime.idle()
      const hashes = await q<{ payment_hash: string }>('SELECT payment_hash FROM acct_settlement')
      expect(new Set(hashes.map((r) => r.payment_hash))).toEqual(new Set(sold))
      const payouts = await q<{
        recipient_kind: string
        recipient_id: string
        amount_msat: bigint
        payment_hash: string
      }>('SELECT recipient_kind, recipient_id, amount_msat, payment_hash FROM payout')
      for (const [key, w] of Object.entries(wallets)) {
        const [kind, id] = key.split(':') as [string, string]
        const mine = payouts.filter((p) => p.recipient_kind === kind && p.recipient_id === id)
        const paid = mine.reduce((s, p) => s + BigInt(p.amount_msat), 0n)
        const [legs] = await c.ledger.query<{ s: bigint }>(
          'SELECT SUM(msat) AS s FROM acct_leg WHERE kind = ? AND recipient_id = ?',
          [kind === 'platform' ? 'platform_fee' : kind, id],
          { bigint: true },
        )
        const [acc] = await c.ledger.query<{ b: bigint }>(
          'SELECT balance_after_msat AS b FROM acct_accrual WHERE recipient_kind = ? AND recipient_id = ? ORDER BY id DESC LIMIT 1',
          [kind, id],
          { bigint: true },
        )
        expect(mine.length, `${key} paid`).toBeGreaterThan(0)
        expect(w.balanceMsat, `${key} wallet`).toBe(paid)
        expect(paid + BigInt(acc!.b)).toBe(BigInt(legs!.s))
        expect(new Set(w.transactions.filter((t) => t.type === 'incoming').map((t) => t.paymentHash))).toEqual(
          new Set(mine.map((p) => p.payment_hash)),
        )
      }
      const out = h.op.wallet.transactions.filter((t) => t.type === 'outgoing' && t.state === 'settled')
      expect(new Set(out.map((t) => t.paymentHash)).size).toBe(out.length)
      expect(out).toHaveLength(payouts.length)
      // One DM per LP payout, across both console lives.
      for (const [id, sk] of Object.entries(lps)) {
        const mine = payouts.filter((p) => p.recipient_kind === 'lp' && p.recipient_id === id)
        const got = await new Promise<NostrEvent[]>((resolve) => {
          const evs: NostrEvent[] = []
          const sub = reader.subscribe({
            filters: [{ kinds: [KIND_GIFT_WRAP], '#p': [getPublicKey(sk)] }],
            onEvent: (ev: VerifiedEvent) => {
              evs.push(copyEvent(ev as NostrEvent))
            },
            onCaughtUp: () => {
              sub.close()
              resolve(evs)
            },
          })
        })
        const opened = await Promise.all(got.map((w) => unwrapGiftWrap(w, createSoftwareSigner(sk))))
        const payoutHashes = opened
          .filter((m) => m.rumor.tags.some((t) => t[0] === 'subject' && t[1]!.startsWith('Payout:')))
          .map((m) => /Payment hash: ([0-9a-f]{64})/.exec(m.rumor.content)?.[1])
        expect(payoutHashes.sort()).toEqual(mine.map((p) => p.payment_hash).sort())
      }
    } finally {
      await c.close()
      await reader.close()
      await h.close()
    }
  }, 180_000)
})
