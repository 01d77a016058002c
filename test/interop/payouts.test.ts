// Payout state machine over the REAL relay and the REAL @getalby/sdk wallet service (issue 5, Done-when 3):
// the wallet answers with each NIP-47 error code, hangs past the timeout, drops a response, duplicates one, sends
// a wrong or a missing preimage, cannot cover the batch, and the console "crashes" between steps. Each case must
// end in the right state, and the wallet side (the simulated Lightning ledger) must show the payment at most
// once. Tests are named after the transitions they exercise. Time that the protocol judges (request expiry,
// back-off) comes from one shared manual clock, moved forward by the tests instead of sleeping.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import '../../src-main/ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import type { Row } from '../../src-main/ledger/types'
import type { PayoutView, PayoutWorklist } from '../../src-main/payouts/procedures'
import { createPayoutRunner, type PayoutCrashPoint, type PayoutRunnerEvent } from '../../src-main/payouts/runner'
import { NwcClient } from '../../src-main/wallet/nwc-client'
import type { Clock } from '../../src-shared/clock'
import { formatLogLine, memoryLogger } from '../../src-shared/log'
import { NIP47_WALLET_ERROR_CODES } from '../../src-shared/nostr/nip47'
import { LightningNetwork, type SimWallet } from '../support/lightning'
import {
  cashOutRecord,
  SEEDED_RECIPIENTS,
  seedAccounting,
  setPolicies,
  walletInvoiceResolver,
} from '../support/payout-fixture'
import { type RelayHandle, startRelay } from '../support/relay'
import { startWalletService, type WalletConnection, type WalletServiceFixture } from '../support/wallet-service'

// Real time plus whatever the tests advanced: the relay judges NIP-40 expiration by its own (real) clock, so our
// clock must never fall behind it, while tests still jump ahead to make requests and back-offs expire.
let offsetMs = 0
const clock: Clock = { nowMs: () => Date.now() + offsetMs }
const advance = (ms: number) => {
  offsetMs += ms
}
let relay: RelayHandle
let net: LightningNetwork
let svc: WalletServiceFixture
let n = 0
const cleanup: Array<() => unknown> = []

beforeAll(async () => {
  relay = await startRelay()
  net = new LightningNetwork({ nowSec: () => Math.floor(clock.nowMs() / 1000) })
  svc = await startWalletService({
    relayUrls: [relay.url],
    network: net,
    nowSec: () => Math.floor(clock.nowMs() / 1000),
  })
})
afterAll(async () => {
  await svc?.close()
  await relay?.stop()
})
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

const TTL_SEC = 30
const REPLY_MS = 4000
const BACKOFF = { baseMs: 10_000, maxMs: 60_000, maxAttempts: 3 }

interface Rig {
  store: InProcessLedger
  op: WalletConnection
  lp: SimWallet
  lpConn: WalletConnection
  events: PayoutRunnerEvent[]
  runner: ReturnType<typeof createPayoutRunner>
  /** A new runner and NWC client on the same ledger: what a restarted console builds. */
  restart(crashPoint?: (p: PayoutCrashPoint) => void): ReturnType<typeof createPayoutRunner>
  payout(): Promise<PayoutView & { bolt11: string | null }>
  walletPayments(): number
  accrual(): Promise<bigint>
  history(): Promise<string[]>
  worklist(): Promise<PayoutWorklist>
}

/** A ledger with `accruedMsat` accrued for one LP, an operator wallet and the LP's receiving wallet. */
async function rig(
  o: { accruedMsat?: bigint; balanceMsat?: bigint; crashPoint?: (p: PayoutCrashPoint) => void } = {},
): Promise<Rig> {
  const i = ++n
  const dir = mkdtempSync(join(tmpdir(), 'payouts-'))
  const store = await openLedgerInProcess({ dir, logger: memoryLogger('ledger'), autoSnapshot: false })
  cleanup.push(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const op = await svc.fundedConnection(`op-${i}`, o.balanceMsat ?? 10_000_000_000n)
  const lp = net.createWallet(`lp-${i}`, 0n)
  const lpConn = await svc.addConnection({ wallet: lp, methods: ['make_invoice', 'lookup_invoice'] })
  cleanup.push(() => {
    op.close()
    lpConn.close()
  })
  await setPolicies(store, clock.nowMs(), { thresholdMsat: 1000n }, [{ kind: 'lp', id: 'lp-x' }])
  const accrued = o.accruedMsat ?? 21_500n
  await store.transaction([
    {
      sql: `INSERT INTO acct_accrual (recipient_kind, recipient_id, delta_msat, balance_after_msat, created_at_ms)
            VALUES ('lp', 'lp-x', ?, ?, ?)`,
      params: [accrued, accrued, clock.nowMs()],
    },
  ])
  const resolver = walletInvoiceResolver({ 'lp:lp-x': lpConn.uri }, { clock })
  cleanup.push(() => resolver.close())
  const events: PayoutRunnerEvent[] = []
  const runnerLog = memoryLogger('payouts')
  // Printed when a test fails, so a wallet or relay hiccup is visible in the report.
  onTestFailed(() => {
    console.log(runnerLog.records.map(formatLogLine).join('\n'))
  })
  const make = (crashPoint?: (p: PayoutCrashPoint) => void) => {
    const nwc = new NwcClient({
      connection: op.uri,
      clock,
      replyTimeoutMs: REPLY_MS,
      requestTtlSec: TTL_SEC,
      logger: runnerLog,
    })
    cleanup.push(() => nwc.close())
    return createPayoutRunner({
      ledger: store,
      nwcClient: nwc,
      connectionId: 'op',
      clock,
      log: runnerLog,
      destinations: resolver,
      backoff: BACKOFF,
      requestTtlSec: TTL_SEC,
      replyTimeoutMs: REPLY_MS,
      recheckMs: 1000,
      onEvent: (e) => events.push(e),
      ...(crashPoint ? { crashPoint } : {}),
    })
  }
  const r: Rig = {
    store,
    op,
    lp,
    lpConn,
    events,
    runner: make(o.crashPoint),
    restart: (cp) => make(cp),
    async payout() {
      const [row] = await store.query<Row>('SELECT * FROM payout ORDER BY planned_at_ms DESC LIMIT 1')
      return {
        id: String(row!.id),
        state: row!.state,
        requestId: row!.request_id,
        errorCode: row!.error_code,
        reason: row!.reason,
        attempt: Number(row!.attempt),
        bolt11: row!.bolt11,
        paymentHash: row!.payment_hash,
      } as PayoutView & { bolt11: string | null }
    },
    walletPayments: () => op.wallet.transactions.filter((x) => x.type === 'outgoing' && x.state === 'settled').length,
    async accrual() {
      const [row] = await store.query<{ b: bigint }>(
        "SELECT balance_after_msat AS b FROM acct_accrual WHERE recipient_kind = 'lp' AND recipient_id = 'lp-x' ORDER BY id DESC LIMIT 1",
        [],
        { bigint: true },
      )
      return BigInt(row!.b)
    },
    async history() {
      const rows = await store.query<{ transition: string; to_state: string }>(
        'SELECT transition, to_state FROM payout_event ORDER BY id',
      )
      return rows.map((x) => `${x.transition}->${x.to_state}`)
    },
    worklist: () => store.call<PayoutWorklist>('payouts.worklist', {}),
  }
  return r
}

/** Runs cycles (moving the clock by `stepMs` between them) until `done` or the deadline. */
async function cyclesUntil(r: Rig, done: () => Promise<boolean>, stepMs = 1100, deadlineMs = 20_000) {
  const until = Date.now() + deadlineMs
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`condition not reached; history ${(await r.history()).join(', ')}`)
    advance(stepMs)
    await r.runner.runCycle()
  }
}

describe('payouts over NIP-47', () => {
  it('paysPlannedPayout: whole sats paid once, the sub-sat remainder stays accrued', async () => {
    const r = await rig({ accruedMsat: 21_500n })
    const report = await r.runner.runCycle()
    expect(report.planned).toBe(1)
    const p = await r.payout()
    expect(p.state).toBe('paid')
    expect(r.walletPayments()).toBe(1)
    expect(r.lp.balanceMsat).toBe(21_000n)
    expect(await r.accrual()).toBe(500n)
    expect(await r.history()).toEqual(['plan->planned', 'markSending->sending', 'markPaid->paid'])
    // Published only after markSending was journaled: the request id was on disk before the event left.
    expect(r.events.find((e) => e.type === 'published')?.payoutId).toBe(p.id)
    // Below the threshold again: nothing more is planned.
    expect((await r.runner.runCycle()).planned).toBe(0)
  })

  it('paysPlannedPayoutsFromBookedLegs: every recipient of booked settlements paid; paid + accrued = legs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payouts-legs-'))
    const store = await openLedgerInProcess({ dir, logger: memoryLogger('ledger'), autoSnapshot: false })
    cleanup.push(async () => {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    })
    await seedAccounting(store, clock.nowMs())
    await setPolicies(store, clock.nowMs(), { thresholdMsat: 10_000n })
    for (let k = 0; k < 4; k++) await store.call('accounting.bookSettlement', cashOutRecord(k, clock.nowMs()))
    const op = await svc.fundedConnection(`op-legs`, 10_000_000_000n)
    const uris: Record<string, string> = {}
    const wallets: Record<string, SimWallet> = {}
    for (const rc of SEEDED_RECIPIENTS) {
      const w = net.createWallet(`${rc.kind}-${rc.id}-legs`, 0n)
      const c = await svc.addConnection({ wallet: w, methods: ['make_invoice'] })
      cleanup.push(() => c.close())
      uris[`${rc.kind}:${rc.id}`] = c.uri
      wallets[`${rc.kind}:${rc.id}`] = w
    }
    const resolver = walletInvoiceResolver(uris, { clock })
    const nwc = new NwcClient({ connection: op.uri, clock, replyTimeoutMs: 5000 })
    cleanup.push(() => {
      resolver.close()
      nwc.close()
      op.close()
    })
    const runner = createPayoutRunner({
      ledger: store,
      nwcClient: nwc,
      connectionId: 'op',
      clock,
      log: memoryLogger('payouts'),
      destinations: resolver,
    })
    const rep = await runner.runCycle()
    expect(rep.planned).toBe(5)
    expect(rep.paid).toBe(5)
    for (const rc of SEEDED_RECIPIENTS) {
      const legKind = rc.kind === 'platform' ? 'platform_fee' : rc.kind
      const [legs] = await store.query<{ s: bigint; unpaid: bigint }>(
        `SELECT SUM(msat) AS s, SUM(CASE WHEN paid_ref IS NULL THEN msat ELSE 0 END) AS unpaid FROM acct_leg
         WHERE kind = ? AND recipient_id = ?`,
        [legKind, rc.id],
        { bigint: true },
      )
      const [acc] = await store.query<{ b: bigint }>(
        'SELECT balance_after_msat AS b FROM acct_accrual WHERE recipient_kind = ? AND recipient_id = ? ORDER BY id DESC LIMIT 1',
        [rc.kind, rc.id],
        { bigint: true },
      )
      const received = wallets[`${rc.kind}:${rc.id}`]!.balanceMsat
      expect(received % 1000n).toBe(0n)
      expect(received + BigInt(acc!.b)).toBe(BigInt(legs!.s))
      expect(BigInt(acc!.b) < 1000n).toBe(true)
      // Legs wholly covered by the payout are marked paid; what is not marked is covered by the accrual.
      expect(BigInt(legs!.unpaid) >= BigInt(acc!.b)).toBe(true)
    }
    expect(op.wallet.transactions.filter((x) => x.type === 'outgoing').length).toBe(5)
  })

  const pausing = ['INSUFFICIENT_BALANCE', 'QUOTA_EXCEEDED', 'RESTRICTED', 'UNAUTHORIZED']
  const retryable = ['RATE_LIMITED', 'INTERNAL', 'PAYMENT_FAILED', ...pausing]
  for (const code of NIP47_WALLET_ERROR_CODES) {
    const state = retryable.includes(code) ? 'failed_retryable' : 'failed_final'
    const name = `${state === 'failed_retryable' ? 'markFailedRetryable' : 'markFailedFinal'}On${code}`
    it(`${name}: wallet answers ${code} → ${state}${pausing.includes(code) ? ', payouts paused' : ''}`, async () => {
      const r = await rig()
      r.op.inject({ kind: 'error', code }, { method: 'pay_invoice' })
      await r.runner.runCycle()
      const p = await r.payout()
      expect(p.state).toBe(state)
      expect(p.errorCode).toBe(code)
      expect(r.walletPayments()).toBe(0)
      expect(await r.accrual()).toBe(21_500n) // doesNotSettleFailedPayout: nothing posted
      const wl = await r.worklist()
      if (state === 'failed_final') {
        expect(wl.items.map((x) => x.id)).toContain(p.id)
        expect(wl.items.find((x) => x.id === p.id)!.worklistReason).toContain(code)
      }
      expect(wl.paused.length).toBe(pausing.includes(code) ? 1 : 0)
    })
  }

  it('scheduleRetry after resume: a wallet refusal (INSUFFICIENT_BALANCE) pauses; after resume the payout is paid once', async () => {
    const r = await rig()
    r.op.inject({ kind: 'error', code: 'INSUFFICIENT_BALANCE' }, { method: 'pay_invoice' })
    await r.runner.runCycle()
    expect((await r.payout()).state).toBe('failed_retryable')
    advance(BACKOFF.maxMs)
    const paused = await r.runner.runCycle()
    expect(paused.paused).toMatch(/INSUFFICIENT_BALANCE/)
    expect((await r.payout()).state).toBe('planned') // proven unpaid, but not sent while paused
    expect(r.walletPayments()).toBe(0)
    await r.store.call('payouts.resume', { connectionId: 'op', author: 'operator', nowMs: clock.nowMs() })
    expect((await r.runner.runCycle()).paid).toBe(1)
    expect(r.walletPayments()).toBe(1)
  })

  it('doesNotSettleFailedPayout: a final failure posts nothing and plans nothing new until released', async () => {
    const r = await rig()
    r.op.inject({ kind: 'error', code: 'OTHER' }, { method: 'pay_invoice' })
    await r.runner.runCycle()
    const p = await r.payout()
    expect(p.state).toBe('failed_final')
    expect((await r.runner.runCycle()).planned).toBe(0) // the amount stays reserved by the worklist item
    await r.store.call('payouts.release', { payoutId: p.id, author: 'operator', nowMs: clock.nowMs() })
    const rep = await r.runner.runCycle()
    expect(rep.planned).toBe(1)
    expect(rep.paid).toBe(1)
    expect(r.walletPayments()).toBe(1)
    expect(await r.accrual()).toBe(500n)
  })

  it('scheduleRetry: a retryable failure backs off, a lookup proves it unpaid, the same invoice is paid once', async () => {
    const r = await rig()
    r.op.inject({ kind: 'error', code: 'RATE_LIMITED' }, { method: 'pay_invoice' })
    await r.runner.runCycle()
    const first = await r.payout()
    expect(first.state).toBe('failed_retryable')
    await r.runner.runCycle() // back-off not over: nothing happens
    expect((await r.payout()).state).toBe('failed_retryable')
    advance(BACKOFF.baseMs)
    await r.runner.runCycle()
    const p = await r.payout()
    expect(p.state).toBe('paid')
    expect(p.attempt).toBe(2)
    expect(p.bolt11).toBe(first.bolt11)
    expect(r.walletPayments()).toBe(1)
  })

  it('markFailedFinal after retries are exhausted (RETRIES_EXHAUSTED, on the worklist)', async () => {
    const r = await rig()
    for (let k = 0; k < BACKOFF.maxAttempts; k++)
      r.op.inject({ kind: 'error', code: 'PAYMENT_FAILED' }, { method: 'pay_invoice' })
    await r.runner.runCycle()
    await cyclesUntil(r, async () => (await r.payout()).state === 'failed_final', BACKOFF.maxMs)
    const p = await r.payout()
    expect(p.errorCode).toBe('PAYMENT_FAILED')
    expect(p.attempt).toBe(BACKOFF.maxAttempts)
    expect(r.walletPayments()).toBe(0)
    expect((await r.worklist()).items.map((x) => x.id)).toContain(p.id)
  })

  it('markUnknown on a timeout, then reconcileUnknown after expiry finds no trace and the retry pays once', async () => {
    const r = await rig()
    r.op.inject({ kind: 'hang' }, { method: 'pay_invoice' })
    await r.runner.runCycle()
    const p = await r.payout()
    expect(p.state).toBe('unknown')
    expect(p.errorCode).toBe('TIMEOUT')
    // Still live: a lookup finds nothing, but the request could arrive yet, so no new request is minted.
    advance(1100)
    await r.runner.runCycle()
    expect((await r.payout()).requestId).toBe(p.requestId)
    advance(TTL_SEC * 1000)
    await cyclesUntil(r, async () => (await r.payout()).state === 'paid')
    expect((await r.payout()).requestId).not.toBe(p.requestId)
    expect(r.walletPayments()).toBe(1)
    expect(await r.history()).toContain('reconcileUnknown->failed_retryable')
  })

  it('reconcilesUnknownAsPaid: a dropped response (the wallet paid) ends paid via lookup, paid once', async () => {
    const r = await rig()
    r.op.inject({ kind: 'drop' }, { method: 'pay_invoice' })
    await r.runner.runCycle()
    expect((await r.payout()).state).toBe('unknown')
    expect(r.walletPayments()).toBe(1)
    await cyclesUntil(r, async () => (await r.payout()).state === 'paid')
    expect(r.walletPayments()).toBe(1)
    expect(await r.history()).toContain('reconcileUnknown->paid')
    expect(await r.accrual()).toBe(500n)
  })

  it('markPaid once when the wallet duplicates its response (second says PAYMENT_FAILED)', async () => {
    const r = await rig()
    r.op.inject(
      { kind: 'duplicate', second: { error: { code: 'PAYMENT_FAILED', message: 'invoice is already paid' } } },
      { method: 'pay_invoice' },
    )
    await r.runner.runCycle()
    expect((await r.payout()).state).toBe('paid')
    await r.runner.runCycle()
    expect(r.walletPayments()).toBe(1)
    expect(await r.history()).toEqual(['plan->planned', 'markSending->sending', 'markPaid->paid'])
  })

  for (const fault of ['wrong_preimage', 'missing_preimage'] as const) {
    it(`reconcilesUnknownAsPaid after a ${fault}: never paid on the answer, proven by lookup`, async () => {
      const r = await rig()
      r.op.inject({ kind: fault }, { method: 'pay_invoice' })
      await r.runner.runCycle()
      const p = await r.payout()
      expect(p.state).toBe('paid')
      expect(await r.history()).toEqual([
        'plan->planned',
        'markSending->sending',
        'markUnknown->unknown',
        'reconcileUnknown->paid',
      ])
      expect(r.walletPayments()).toBe(1)
    })
  }

  it('markUnknown stays unknown when the wrong preimage comes and the lookup also fails', async () => {
    const r = await rig()
    r.op.inject({ kind: 'wrong_preimage' }, { method: 'pay_invoice' })
    r.op.inject({ kind: 'error', code: 'INTERNAL' }, { method: 'lookup_invoice' })
    await r.runner.runCycle()
    expect((await r.payout()).state).toBe('unknown')
    await cyclesUntil(r, async () => (await r.payout()).state === 'paid')
    expect(r.walletPayments()).toBe(1)
  })

  it('pausesBatchWhenBalanceShort: get_balance first; nothing of the batch is paid; alert raised', async () => {
    const r = await rig({ balanceMsat: 20_000n })
    const rep = await r.runner.runCycle()
    expect(rep.paused).toMatch(/cannot cover/)
    expect((await r.payout()).state).toBe('planned')
    expect(r.walletPayments()).toBe(0)
    expect(r.events.some((e) => e.type === 'alert' && e.kind === 'insufficient_balance')).toBe(true)
    const wl = await r.worklist()
    expect(wl.paused[0]!.reason).toMatch(/cannot cover/)
    expect(wl.alerts[0]!.kind).toBe('insufficient_balance')
    // Still paused after a top-up until the operator resumes.
    r.op.wallet.balanceMsat += 1_000_000n
    expect((await r.runner.runCycle()).paused).not.toBeNull()
    await r.store.call('payouts.resume', { connectionId: 'op', author: 'operator', nowMs: clock.nowMs() })
    expect((await r.runner.runCycle()).paid).toBe(1)
    expect(r.walletPayments()).toBe(1)
  })

  it('resumeSending after a crash before publishing: the SAME stored event is sent, paid once', async () => {
    const r = await rig({
      crashPoint: (pt) => {
        if (pt === 'sending_journaled') throw new Error('simulated crash')
      },
    })
    await r.runner.runCycle()
    const before = await r.payout()
    expect(before.state).toBe('sending')
    expect(r.op.handled.filter((h) => h.method === 'pay_invoice').length).toBe(0)
    const runner = r.restart()
    await runner.runCycle()
    const p = await r.payout()
    expect(p.state).toBe('paid')
    expect(p.requestId).toBe(before.requestId)
    expect(r.op.handled.filter((h) => h.method === 'pay_invoice').map((h) => h.requestId)).toEqual([before.requestId])
    expect(await r.history()).toEqual([
      'plan->planned',
      'markSending->sending',
      'markUnknown->unknown',
      'resumeSending->sending',
      'markPaid->paid',
    ])
    expect(r.walletPayments()).toBe(1)
  })

  it('reconcileUnknown after a crash once the request was published: lookup proves paid, nothing re-sent', async () => {
    const r = await rig({
      crashPoint: (pt) => {
        if (pt === 'published') throw new Error('simulated crash')
      },
    })
    await r.runner.runCycle()
    await r.op.waitForHandled(2) // make_invoice is on the LP's connection; here: get_balance + pay_invoice
    const runner = r.restart()
    await runner.runCycle()
    expect((await r.payout()).state).toBe('paid')
    expect(r.walletPayments()).toBe(1)
    expect(await r.history()).toContain('reconcileUnknown->paid')
    expect(r.op.handled.filter((h) => h.method === 'pay_invoice').length).toBe(1)
  })

  it('refuses to plan below the threshold and keeps the schedule (minimum interval)', async () => {
    const r = await rig({ accruedMsat: 999n })
    expect((await r.runner.runCycle()).planned).toBe(0)
    await r.store.call('payouts.setRecipient', {
      recipientKind: 'lp',
      recipientId: 'lp-x',
      thresholdMsat: 1000n,
      minIntervalMs: 3_600_000,
      // Keep a destination: a recipient without one is not planned (its sats wait on the worklist).
      destination: { kind: 'nwc', test: 'lp:lp-x' },
      maxFeeBaseMsat: 0n,
      maxFeePpm: 0,
      atMs: clock.nowMs(),
    })
    await r.store.transaction([
      {
        sql: `INSERT INTO acct_accrual (recipient_kind, recipient_id, delta_msat, balance_after_msat, created_at_ms)
              VALUES ('lp', 'lp-x', 5000, 5999, ?)`,
        params: [clock.nowMs()],
      },
    ])
    expect((await r.runner.runCycle()).paid).toBe(1)
    await r.store.transaction([
      {
        sql: `INSERT INTO acct_accrual (recipient_kind, recipient_id, delta_msat, balance_after_msat, created_at_ms)
              VALUES ('lp', 'lp-x', 5000, 5999, ?)`,
        params: [clock.nowMs()],
      },
    ])
    expect((await r.runner.runCycle()).planned).toBe(0) // within the hour
    advance(3_600_000)
    expect((await r.runner.runCycle()).planned).toBe(1)
  })

  it('start/kick: the background loop pays a kicked payout and stop() waits for the running cycle', async () => {
    const r = await rig()
    r.runner.start(60_000)
    r.runner.kick()
    const until = Date.now() + 10_000
    while (!r.events.some((e) => e.type === 'state' && e.state === 'paid')) {
      if (Date.now() > until) throw new Error('the background loop did not pay')
      await new Promise((res) => setTimeout(res, 20))
    }
    await r.runner.stop()
    expect((await r.payout()).state).toBe('paid')
    expect(r.walletPayments()).toBe(1)
  })
})
