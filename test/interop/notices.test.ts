// Interop: NIP-17 notices over REAL relay processes on 127.0.0.1 (test/support/relay.ts). The console key sends
// gift-wrapped DMs through the relay pool; the LP side reads them back from its own DM relay with its own pool and
// opens them with its own key (and with nostr-tools' independent nip17 implementation); a stranger cannot.
// Operator alerts are debounced against a manual clock and land both on the desktop sink and on the phone key.
// Monthly statements are computed from a real ledger (accounting procedures) and sent once.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as toolsNip17 from 'nostr-tools/nip17'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedReadme, T0_MS } from '../../src-main/accounting/test-support'
import '../../src-main/ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import { createRelayPool, type RelayPool, type VerifiedEvent } from '../../src-main/nostr/relay-pool'
import {
  createNoticeService,
  type DesktopNotification,
  emitNoticeSink,
  NoticeSendError,
} from '../../src-main/notices/service'
import { queryOnce } from '../../src-main/receipts/query'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { manualClock, systemClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import { copyEvent, type NostrEvent, signTemplateWithKey } from '../../src-shared/nostr/event'
import { KIND_DM_RELAYS, KIND_GIFT_WRAP, unwrapGiftWrap } from '../../src-shared/nostr/nip17'
import { payoutPaidText } from '../../src-shared/notices/texts'
import { type RelayHandle, startRelay } from '../support/relay'

let relayA: RelayHandle // the console's relays (and where DM-relay lists are looked up)
let relayB: RelayHandle // the LP's / phone's DM relay
let consolePool: RelayPool
let readerPool: RelayPool
const dir = mkdtempSync(join(tmpdir(), 'notices-'))

function party() {
  const sk = generateSecretKey()
  return { sk, pk: getPublicKey(sk), signer: createSoftwareSigner(sk) }
}
const consoleKey = party()

async function wrapsFor(pubkey: string, relay: string): Promise<NostrEvent[]> {
  const r = await queryOnce(readerPool, [{ kinds: [KIND_GIFT_WRAP], '#p': [pubkey] }], {
    relays: [relay],
    timeoutMs: 10_000,
  })
  expect(r.timedOut).toBe(false)
  return r.events.map((e: VerifiedEvent) => copyEvent(e as NostrEvent))
}

beforeAll(async () => {
  relayA = await startRelay()
  relayB = await startRelay()
  consolePool = await createRelayPool({ relays: [relayA.url], backoff: { initialMs: 20, maxMs: 200 } })
  readerPool = await createRelayPool({ relays: [relayA.url, relayB.url], backoff: { initialMs: 20, maxMs: 200 } })
})

afterAll(async () => {
  await consolePool?.close()
  await readerPool?.close()
  await relayA?.stop()
  await relayB?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const payoutText = () =>
  payoutPaidText({
    recipientName: 'Ana',
    paidMsat: 150_000_000n,
    fiatEquivalentMinor: 11_250n,
    currency: 'GTQ',
    remainingBalanceMinor: 88_750n,
    paymentHash: 'cd'.repeat(32),
    paidAtMs: Date.UTC(2026, 10, 21, 18, 0),
    timeZone: 'America/Guatemala',
  })

describe('LP DMs (NIP-17) over real relays', () => {
  it('delivers to the DM relays of the LP 10050 list; only the LP key opens it', async () => {
    const lp = party()
    const stranger = party()
    // The LP announces its DM relay (relay B) on relay A, where the console looks lists up.
    const list = signTemplateWithKey(
      { kind: KIND_DM_RELAYS, created_at: Math.floor(Date.now() / 1000), tags: [['relay', relayB.url]], content: '' },
      lp.sk,
    )
    expect((await readerPool.publish(list, { relays: [relayA.url] }))[0]!.ok).toBe(true)

    const log = memoryLogger('notices')
    const notices = createNoticeService({
      pool: consolePool,
      consoleSigner: consoleKey.signer,
      clock: systemClock,
      log,
      desktop: { show: () => undefined },
      lookupRelays: [relayA.url],
    })
    const sent = await notices.sendDirectMessage({ pubkey: lp.pk }, payoutText())
    expect(sent.status).toBe('sent')
    expect(sent.relays).toEqual([relayB.url])
    expect(sent.results.every((r) => r.ok)).toBe(true)

    const onB = await wrapsFor(lp.pk, relayB.url)
    expect(onB.map((w) => w.id)).toEqual([sent.wrapId])
    // NIP-17: the wrap went only to the LP's DM relays, not to the console's relay.
    expect(await wrapsFor(lp.pk, relayA.url)).toEqual([])

    const opened = await unwrapGiftWrap(onB[0]!, lp.signer)
    expect(opened.senderPubkey).toBe(consoleKey.pk)
    expect(opened.rumor.id).toBe(sent.rumorId)
    expect(opened.rumor.content).toContain('paid you 150,000 sats')
    expect(opened.rumor.content).toContain('GTQ 112.50')
    expect(opened.rumor.content).toContain('Your remaining balance: GTQ 887.50.')
    expect(opened.rumor.tags).toContainEqual(['subject', 'Payout: 150,000 sats'])
    // An independent implementation (nostr-tools nip17) opens it with the LP key too.
    expect(toolsNip17.unwrapEvent(onB[0]!, lp.sk).content).toBe(opened.rumor.content)

    // A different key can open neither the wrap nor, by force, its ciphertext.
    await expect(unwrapGiftWrap(onB[0]!, stranger.signer)).rejects.toMatchObject({ reason: 'not_for_us' })
    expect(() => toolsNip17.unwrapEvent(onB[0]!, stranger.sk)).toThrow()
    await expect(stranger.signer.nip44Decrypt(onB[0]!.pubkey, onB[0]!.content)).rejects.toThrow()
  })

  it('refuses to send to a key with no DM relays, and sends a keyed notice once (ledger idempotency)', async () => {
    const ledger = await openLedgerInProcess({ dir: mkdtempSync(join(dir, 'l-')), autoSnapshot: false })
    try {
      const nobody = party()
      const notices = createNoticeService({
        pool: consolePool,
        consoleSigner: consoleKey.signer,
        clock: systemClock,
        log: memoryLogger('notices'),
        ledger,
        desktop: { show: () => undefined },
        lookupRelays: [relayA.url],
      })
      const err = await notices.sendDirectMessage({ pubkey: nobody.pk }, payoutText()).then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(NoticeSendError)
      expect((err as NoticeSendError).code).toBe('no_dm_relays')

      const lp = party()
      const to = { pubkey: lp.pk, relays: [relayB.url] }
      const n = {
        recipientName: 'Beto',
        paidMsat: 2_000_000n,
        fiatEquivalentMinor: 150n,
        currency: 'GTQ',
        remainingBalanceMinor: 0n,
        paymentHash: 'ef'.repeat(32),
        paidAtMs: Date.now(),
        timeZone: 'UTC',
      }
      // Two racing sends of the same payout notice join; a later one finds the ledger record.
      const [first, racing] = await Promise.all([
        notices.notifyPayoutPaid(to, n, 'po-7'),
        notices.notifyPayoutPaid(to, n, 'po-7'),
      ])
      const second = await notices.notifyPayoutPaid(to, n, 'po-7')
      expect(first.status).toBe('sent')
      expect(racing).toBe(first)
      expect(second).toMatchObject({ status: 'already_sent', wrapId: first.wrapId })
      expect((await wrapsFor(lp.pk, relayB.url)).map((w) => w.id)).toEqual([first.wrapId])
    } finally {
      await ledger.close()
    }
  })

  it('publishes the console key’s own copy (NIP-17 sender copy) to the console relays when configured', async () => {
    const lp = party()
    const notices = createNoticeService({
      pool: consolePool,
      consoleSigner: consoleKey.signer,
      clock: systemClock,
      log: memoryLogger('notices'),
      desktop: { show: () => undefined },
      senderCopyRelays: [relayA.url],
    })
    const sent = await notices.sendDirectMessage({ pubkey: lp.pk, relays: [relayB.url] }, payoutText())
    // The sender copy is published without waiting; poll the console relay for it with a deadline.
    const deadline = Date.now() + 10_000
    let own: NostrEvent[] = []
    while (own.length === 0 && Date.now() < deadline) own = await wrapsFor(consoleKey.pk, relayA.url)
    const mine = await Promise.all(own.map((w) => unwrapGiftWrap(w, consoleKey.signer)))
    const copy = mine.find((m) => m.rumor.id === sent.rumorId)
    expect(copy?.rumor.tags).toContainEqual(['p', lp.pk])
    expect(copy?.rumor.content).toContain('paid you 150,000 sats')
  })
})

describe('operator alerts', () => {
  it('debounces a flapping condition: one desktop notice and one phone DM per raise/resolve', async () => {
    const clock = manualClock(Date.UTC(2026, 10, 21, 12, 0))
    const phone = party()
    const shown: DesktopNotification[] = []
    const notices = createNoticeService({
      pool: consolePool,
      consoleSigner: consoleKey.signer,
      clock,
      log: memoryLogger('alerts'),
      desktop: { show: (n) => shown.push(n) },
      operatorPhone: () => ({ pubkey: phone.pk, relays: [relayB.url] }),
      debounce: { raiseAfterMs: 60_000, clearAfterMs: 300_000, remindEveryMs: 0, minGapMs: 600_000 },
    })
    const low = { kind: 'wallet_low' as const, balanceMsat: 40_000_000n, thresholdMsat: 100_000_000n }
    // Flaps for 50 s: never held for a minute, so nothing is sent.
    for (let i = 0; i < 5; i++) {
      await notices.reportCondition('wallet_low', true, low)
      clock.advanceMs(5_000)
      await notices.reportCondition('wallet_low', false)
      clock.advanceMs(5_000)
      await notices.tick()
    }
    expect(shown).toEqual([])
    // Now it holds.
    await notices.reportCondition('wallet_low', true, low)
    clock.advanceMs(60_000)
    const raised = await notices.tick()
    expect(raised.map((d) => d.phase)).toEqual(['raised'])
    expect(shown).toEqual([
      {
        title: 'Wallet balance low',
        body: 'The operator wallet holds 40,000 sats, below the 100,000 sats threshold.',
        level: 'warn',
      },
    ])
    // Flapping while alerted sends nothing more.
    for (let i = 0; i < 10; i++) {
      await notices.reportCondition('wallet_low', i % 2 === 1, low)
      clock.advanceMs(30_000)
      await notices.tick()
    }
    expect(shown).toHaveLength(1)
    await notices.reportCondition('wallet_low', false)
    clock.advanceMs(300_000)
    await notices.tick()
    expect(shown.map((s) => s.title)).toEqual(['Wallet balance low', 'Resolved: Wallet balance low'])

    // The phone got exactly the same two messages as DMs it can open.
    const wraps = await wrapsFor(phone.pk, relayB.url)
    const texts = (await Promise.all(wraps.map((w) => unwrapGiftWrap(w, phone.signer)))).map((m) => m.rumor)
    expect(texts.map((r) => r.tags.find((t) => t[0] === 'subject')?.[1]).sort()).toEqual([
      'Resolved: Wallet balance low',
      'Wallet balance low',
    ])
    expect(texts.every((r) => r.pubkey === consoleKey.pk)).toBe(true)
  })

  it('headless sink pushes a notice event; a failing phone DM still shows the desktop notice', async () => {
    const pushed: Array<{ event: string; payload: unknown }> = []
    const clock = manualClock(1_000)
    const sink = emitNoticeSink(((event: string, payload: unknown) => pushed.push({ event, payload })) as never, clock)
    const log = memoryLogger('alerts')
    const notices = createNoticeService({
      pool: consolePool,
      consoleSigner: consoleKey.signer,
      clock,
      log,
      desktop: sink,
      // No relays and no lookup relays: the phone DM cannot go anywhere.
      operatorPhone: () => ({ pubkey: party().pk }),
      debounce: { raiseAfterMs: 0 },
    })
    await notices.reportCondition('paused', true, { kind: 'payouts_paused', reason: 'wallet unreachable', sinceMs: 0 })
    expect(pushed).toEqual([
      {
        event: 'notice',
        payload: {
          level: 'error',
          text: 'Payouts paused: Payouts are paused since 1970-01-01 00:00: wallet unreachable.',
          atMs: 1_000,
        },
      },
    ])
    expect(log.records.some((r) => r.msg === 'operator alert DM not sent')).toBe(true)
  })
})

describe('monthly statements from the ledger', () => {
  let ledger: InProcessLedger
  beforeAll(async () => {
    ledger = await openLedgerInProcess({ dir: mkdtempSync(join(dir, 's-')), autoSnapshot: false })
    await seedReadme(ledger)
    await ledger.call('accounting.bookSettlement', {
      machineId: 'atm-1',
      direction: 'cash_out',
      paymentHash: '12'.repeat(32),
      wireMsat: '266800000',
      fiatMinor: '200000',
      currency: 'GTQ',
      atmEventId: 'ev-1',
      createdAt: Math.floor(T0_MS / 1000),
      bookedAtMs: T0_MS + 1000,
    })
  })
  afterAll(async () => {
    await ledger?.close()
  })

  it('sends last month’s statement to each LP with a contact, once, with figures that add up', async () => {
    const ana = party()
    await ledger.call('notices.setContact', {
      recipientKind: 'lp',
      recipientId: 'lp-a',
      pubkey: ana.pk,
      relays: [relayB.url],
      atMs: T0_MS,
    })
    // 2026-04-10 in Guatemala: the statement covers March 2026, when the deposits and the cash-out happened.
    const clock = manualClock(Date.UTC(2026, 3, 10, 15, 0))
    const notices = createNoticeService({
      pool: consolePool,
      consoleSigner: consoleKey.signer,
      clock,
      log: memoryLogger('statements'),
      ledger,
      desktop: { show: () => undefined },
      timeZone: () => 'America/Guatemala',
    })
    const run = await notices.runMonthlyStatements()
    expect(run.period).toBe('2026-03')
    expect(run.sent).toEqual(['lp-a'])
    expect(run.skipped).toEqual([{ lpId: 'lp-b', reason: 'no DM contact' }])
    expect(run.failed).toEqual([])
    const again = await notices.runMonthlyStatements()
    expect(again.sent).toEqual([])
    expect(again.alreadySent).toEqual(['lp-a'])

    const wraps = await wrapsFor(ana.pk, relayB.url)
    expect(wraps).toHaveLength(1)
    const body = (await unwrapGiftWrap(wraps[0]!, ana.signer)).rumor.content
    const audit = await ledger.call<{ lps: Array<{ lpId: string; balanceMinor: string }> }>('accounting.auditBalances')
    const closing = BigInt(audit.lps.find((l) => l.lpId === 'lp-a')!.balanceMinor)
    expect(body).toContain('Statement for 2026-03 (America/Guatemala).')
    expect(body).toContain('Opening balance:        GTQ 0.00')
    expect(body).toContain('Deposits confirmed:   + GTQ 9,000.00')
    const converted = 900_000n - closing
    expect(converted).toBeGreaterThan(0n)
    const fmt = (m: bigint) => `GTQ ${(m / 100n).toLocaleString('en-US')}.${(m % 100n).toString().padStart(2, '0')}`
    expect(body).toContain(`Converted at the ATMs: − ${fmt(converted)}`)
    expect(body).toContain(`Closing balance:        ${fmt(closing)}`)
    expect(body).toMatch(/Sats distributed to you: [0-9,.]+ sats/)
  })

  it('a later month gets its own statement (a new idempotency key)', async () => {
    const notices = createNoticeService({
      pool: consolePool,
      consoleSigner: consoleKey.signer,
      clock: manualClock(Date.UTC(2026, 5, 10)),
      log: memoryLogger('statements'),
      ledger,
      desktop: { show: () => undefined },
    })
    // Ana's contact is set, so she gets May; Beto has none.
    const run = await notices.runMonthlyStatements()
    expect(run.period).toBe('2026-05')
    expect(run.sent).toEqual(['lp-a'])
    expect(run.skipped.map((s) => s.lpId)).toEqual(['lp-b'])
  })
})

describe('payout notices from the ledger', () => {
  it('sends the notice of a paid LP payout that was never notified, once, with the figures from the ledger', async () => {
    const ledger = await openLedgerInProcess({ dir: mkdtempSync(join(dir, 'p-')), autoSnapshot: false })
    try {
      await seedReadme(ledger)
      await ledger.call('accounting.bookSettlement', {
        machineId: 'atm-1',
        direction: 'cash_out',
        paymentHash: '21'.repeat(32),
        wireMsat: '266800000',
        fiatMinor: '200000',
        currency: 'GTQ',
        atmEventId: 'ev-9',
        createdAt: Math.floor(T0_MS / 1000),
        bookedAtMs: T0_MS + 1000,
      })
      const [leg] = await ledger.query<{ id: number; msat: bigint; fiat_minor: bigint }>(
        "SELECT id, msat, fiat_minor FROM acct_leg WHERE kind = 'lp' AND recipient_id = 'lp-a'",
        [],
        { bigint: true },
      )
      const [accrual] = await ledger.query<{ id: number }>(
        "SELECT MAX(id) AS id FROM acct_accrual WHERE recipient_id = 'lp-a'",
      )
      const paidMsat = (leg!.msat / 1000n) * 1000n
      const paidAt = T0_MS + 5000
      // The paid payout as the payout module records it (row, 'paid' event, covered leg).
      await ledger.transaction([
        {
          sql: `INSERT INTO payout (id, recipient_kind, recipient_id, seq, amount_msat, max_fee_msat, connection_id, state,
                  payment_hash, attempt, preimage, planned_at_ms, updated_at_ms, accrual_id)
                VALUES ('po-9', 'lp', 'lp-a', 1, ?, 0, 'op', 'paid', ?, 1, ?, ?, ?, ?)`,
          params: [paidMsat, '43'.repeat(32), '65'.repeat(32), paidAt, paidAt, accrual!.id],
        },
        {
          sql: "INSERT INTO payout_event (payout_id, transition, from_state, to_state, at_ms) VALUES ('po-9', 'markPaid', 'sending', 'paid', ?)",
          params: [paidAt],
        },
        {
          sql: "UPDATE acct_leg SET paid_ref = 'payout:po-9', paid_at_ms = ? WHERE id = ?",
          params: [paidAt, Number(leg!.id)],
        },
      ])
      const ana = party()
      await ledger.call('notices.setContact', {
        recipientKind: 'lp',
        recipientId: 'lp-a',
        pubkey: ana.pk,
        relays: [relayB.url],
        atMs: T0_MS,
      })
      const notices = createNoticeService({
        pool: consolePool,
        consoleSigner: consoleKey.signer,
        clock: manualClock(paidAt + 60_000),
        log: memoryLogger('notices'),
        ledger,
        desktop: { show: () => undefined },
        timeZone: () => 'America/Guatemala',
        operatorName: () => 'Lobby ATM',
      })
      expect(await notices.retryPayoutNotices()).toEqual(['po-9'])
      expect(await notices.retryPayoutNotices()).toEqual([])
      const wraps = await wrapsFor(ana.pk, relayB.url)
      expect(wraps).toHaveLength(1)
      const body = (await unwrapGiftWrap(wraps[0]!, ana.signer)).rumor.content
      const fiatEq = (paidMsat * leg!.fiat_minor) / leg!.msat
      const remaining = 900_000n - leg!.fiat_minor
      const fmt = (m: bigint) => `GTQ ${(m / 100n).toLocaleString('en-US')}.${(m % 100n).toString().padStart(2, '0')}`
      expect(body).toContain(`Lobby ATM has paid you ${(paidMsat / 1000n).toLocaleString('en-US')} sats.`)
      expect(body).toContain(`Fiat equivalent at the settlement rate: ${fmt(fiatEq)}`)
      expect(body).toContain(`Your remaining balance: ${fmt(remaining)}.`)
      expect(body).toContain('43'.repeat(32))
    } finally {
      await ledger.close()
    }
  })
})
