// The money pipeline inside the real services (src-main/services.ts → src-main/pipeline/feature.ts): inert without
// fleet and payout wiring, and, wired to a real relay process and the real @getalby/sdk wallet service, paying an
// LP registered through the IPC handler (`lps.register`, whose NWC destination URI the LP service seals in the
// secret store) for sales of a paired simulated ATM, with the LP's NIP-17 DM and a kind 3079 receipt per sale.
import { join } from 'node:path'
import { hexToBytes } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { createAppLog } from '../../src-main/app-log'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import type { Row } from '../../src-main/ledger/types'
import { createRelayPool, type VerifiedEvent } from '../../src-main/nostr/relay-pool'
import type { ConsoleRuntime } from '../../src-main/pipeline/runtime'
import { aesGcmSecretBox } from '../../src-main/secrets/file-key'
import { openSecretStore } from '../../src-main/secrets/secret-store'
import { createServices } from '../../src-main/services'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { copyEvent, type NostrEvent, signTemplateWithKey } from '../../src-shared/nostr/event'
import { KIND_DM_RELAYS, KIND_GIFT_WRAP, unwrapGiftWrap } from '../../src-shared/nostr/nip17'
import { startFleetHarness, waitFor } from '../support/fleet-harness'
import { startNodeServices } from '../support/services'
import { useTempDirs } from '../support/temp-dirs'

const tmp = useTempDirs('pipeline-services-')

describe('payout pipeline in the services', () => {
  it('stays inert without fleet wiring, even with payout wiring', async () => {
    const appLog = createAppLog()
    const services = await startNodeServices({ dataDir: tmp(), appLog, payouts: {} })
    expect(await services.handlers['relay.status']()).toEqual({ relays: [] })
    const inert = appLog.recent(200).find((r) => r.msg === 'payout pipeline inert')
    expect(inert?.fields.reason).toMatch(/fleet feature is not set up/)
    await services.close()
  })

  it('pays an LP registered over IPC for ATM sales: wallet = ledger, one DM per payout, receipts', async () => {
    const SALES = 10
    const h = await startFleetHarness({ recordRelays: 1 })
    const relayUrl = h.recordRelays[0]!.url
    const dir = tmp()
    const secrets = await openSecretStore({
      dir: join(dir, 'secrets'),
      box: aesGcmSecretBox(hexToBytes('3d'.repeat(32))),
      log: h.log.child('secrets'),
    })
    let ledger: InProcessLedger | undefined
    let runtime: ConsoleRuntime | undefined
    const reader = await createRelayPool({ relays: [relayUrl] })
    const notices: string[] = []
    const services = await createServices({
      runtime: 'node',
      dataDir: dir,
      appLog: createAppLog(),
      emit: (event, payload) => {
        if (event === 'notice') notices.push((payload as { text: string }).text)
      },
      openLedger: async ({ dir: d, log }) => {
        ledger = await openLedgerInProcess({ dir: d, logger: log })
        return ledger
      },
      fleet: {
        operatorPubkey: h.operatorPubkey,
        consoleSigner: createSoftwareSigner(h.consoleSecret),
        nwcUri: h.op.uri,
        relays: [relayUrl],
      },
      lps: { secrets },
      payouts: {
        timing: { payoutIntervalMs: 500, receiptIntervalMs: 500, settlementIntervalMs: 500 },
        receipts: { retryInitialMs: 500 },
        // A threshold above the operator's balance: the "wallet low" alert must reach the desktop (notice event).
        walletLowMsat: () => 10n ** 15n,
        noticeDebounce: { raiseAfterMs: 0 },
        onRuntime: (r) => {
          runtime = r
        },
      },
    })
    try {
      await services.ledgerReady
      await waitFor('pipeline running', () => runtime !== undefined)
      const q = <T extends Row>(sql: string) => ledger!.query<T>(sql, [], { bigint: true })

      // The LP: her own wallet connection, handed over as a URI through the IPC handler (sealed at rest).
      const lpSk = generateSecretKey()
      const lpPk = getPublicKey(lpSk)
      const lpWallet = h.net.createWallet('lp-dora', 0n)
      const lpConn = await h.svc.addConnection({ wallet: lpWallet, methods: ['make_invoice', 'lookup_invoice'] })
      const lp = await services.handlers['lps.register']({
        npub: npubEncode(lpPk),
        name: 'Dora',
        currency: 'EUR',
        mode: 'flow',
        destination: { kind: 'nwc', uri: lpConn.uri },
        payout: { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 5000 },
      })
      expect(lp.destination).toEqual({ kind: 'nwc', walletPubkey: lpConn.walletPubkey })
      const dep = await services.handlers['lps.deposit.record']({ lpId: lp.id, amountMinor: '10000000' })
      await services.handlers['lps.deposit.confirm']({ depositId: dep.depositId })
      // Platform fee and the operator's commission (the default single split) go to keysend destinations.
      const platform = h.net.createWallet('platform-svc', 0n)
      const owner = h.net.createWallet('owner-svc', 0n)
      for (const [kind, id, w] of [
        ['platform', 'platform', platform],
        ['split', 'operator', owner],
      ] as const) {
        await ledger!.call('lps.setDestination', {
          recipientKind: kind,
          recipientId: id,
          destination: { kind: 'keysend', nodeId: w.nodePubkey },
          payout: { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 5000 },
          atMs: Date.now(),
        })
      }
      const dms: NostrEvent[] = []
      const list = signTemplateWithKey(
        { kind: KIND_DM_RELAYS, created_at: Math.floor(Date.now() / 1000), tags: [['relay', relayUrl]], content: '' },
        lpSk,
      )
      expect((await reader.publish(list))[0]!.ok).toBe(true)
      const sub = reader.subscribe({
        filters: [{ kinds: [KIND_GIFT_WRAP], '#p': [lpPk] }],
        onEvent: (ev: VerifiedEvent) => {
          dms.push(copyEvent(ev as NostrEvent))
        },
      })

      const { sim } = await h.pairAtm({ machineId: 'atm-svc-pipe', members: [] })
      await waitFor('machine listed', async () =>
        (await services.handlers['fleet.machines']()).some((m) => m.machineId === 'atm-svc-pipe'),
      )
      for (let i = 0; i < SALES; i++)
        expect((await sim.sell({ fiatMinor: BigInt(2_000 + i * 100) })).accepted).toBe(true)

      await waitFor(
        'all processed, paid and receipted',
        async () => {
          const [s] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM acct_settlement WHERE status = 'processed'")
          const [open] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM payout WHERE state != 'paid'")
          const [acc] = await q<{ n: bigint }>(
            `SELECT COUNT(*) AS n FROM acct_accrual a WHERE balance_after_msat >= 1000 AND a.id = (SELECT MAX(id)
             FROM acct_accrual x WHERE x.recipient_kind = a.recipient_kind AND x.recipient_id = a.recipient_id)`,
          )
          const [rc] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM rcpt_attempt WHERE kind = 'verified'")
          const [lpPaid] = await q<{ n: bigint }>(
            "SELECT COUNT(*) AS n FROM payout WHERE recipient_kind = 'lp' AND state = 'paid'",
          )
          return (
            Number(s!.n) === SALES &&
            Number(open!.n) === 0 &&
            Number(acc!.n) === 0 &&
            Number(rc!.n) === SALES &&
            Number(lpPaid!.n) > 0 &&
            dms.length >= Number(lpPaid!.n)
          )
        },
        60_000,
      )
      sub.close()
      const payouts = await q<{
        recipient_kind: string
        recipient_id: string
        amount_msat: bigint
        payment_hash: string
      }>("SELECT recipient_kind, recipient_id, amount_msat, payment_hash FROM payout WHERE state = 'paid'")
      for (const [kind, id, w] of [
        ['lp', lp.id, lpWallet],
        ['platform', 'platform', platform],
        ['split', 'operator', owner],
      ] as const) {
        const mine = payouts.filter((p) => p.recipient_kind === kind && p.recipient_id === id)
        expect(mine.length, `${kind}:${id} paid`).toBeGreaterThan(0)
        expect(w.balanceMsat).toBe(mine.reduce((s, p) => s + BigInt(p.amount_msat), 0n))
      }
      const lpPayouts = payouts.filter((p) => p.recipient_kind === 'lp')
      const opened = await Promise.all(dms.map((d) => unwrapGiftWrap(d, createSoftwareSigner(lpSk))))
      const payoutHashes = opened
        .filter((m) => m.rumor.tags.some((t) => t[0] === 'subject' && t[1]!.startsWith('Payout:')))
        .map((m) => /Payment hash: ([0-9a-f]{64})/.exec(m.rumor.content)?.[1])
      expect(payoutHashes.sort()).toEqual(lpPayouts.map((p) => p.payment_hash).sort())
      expect(runtime!.stats().settlementsProcessed).toBe(SALES)
      await waitFor('the wallet-low alert on the desktop', () =>
        notices.some((t) => /wallet/i.test(t) && /low/i.test(t)),
      )
    } finally {
      await services.close()
      await reader.close()
      await h.close()
    }
  }, 180_000)
})
