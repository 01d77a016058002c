// Tests of the `markSending` transition's invoice guard (src-main/payouts/procedures.ts, src-main/payouts/README.md):
// the runner hands `markSending` to the ledger right behind `attachInvoice` without waiting for the attach's
// fsync, naming the invoice its signed request pays; the transition must refuse when that invoice is not the one
// stored — because the attach was refused, or the payout holds another invoice — and change nothing.
// Real schema and procedures on sql.js.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { PayoutTransitionError } from '../../src-shared/payouts/state-machine'
import { appendAccrual } from '../accounting/entries'
import { accountingMigrations } from '../accounting/procedures'
import { openSqlJsLedger, type SqlJsLedger } from '../accounting/sqljs-txdb'
import { attachInvoice, markSendingProc, PayoutStateError, payoutMigrations, plan, setRecipient } from './procedures'

let L: SqlJsLedger
beforeAll(async () => {
  L = await openSqlJsLedger([...accountingMigrations, ...payoutMigrations])
})
afterAll(() => L?.close())

const hashOf = (salt: string) => bytesToHex(sha256(new TextEncoder().encode(salt)))
const NOW_MS = 1_000_000

/** A recipient with 50 sat accrued and one planned payout; returns its id and amount. */
function plannedPayout(recipientId: string): { id: string; amountMsat: bigint } {
  L.call(setRecipient, {
    recipientKind: 'lp',
    recipientId,
    thresholdMsat: 1000n,
    minIntervalMs: 0,
    maxFeeBaseMsat: 0n,
    maxFeePpm: 1000,
    destination: { kind: 'nwc', test: recipientId },
    atMs: NOW_MS,
  })
  L.call((db) => appendAccrual(db, { kind: 'lp', recipientId, deltaMsat: 50_000n, atMs: NOW_MS }))
  L.call(plan, { nowMs: NOW_MS, connectionId: 'op' })
  const row = L.db.get<{ id: string; amount_msat: bigint }>(
    'SELECT id, amount_msat FROM payout WHERE recipient_id = ?',
    [recipientId],
    { bigint: true },
  )
  if (!row) throw new Error('no payout was planned')
  return { id: row.id, amountMsat: row.amount_msat }
}

const stateOf = (id: string) => L.db.get<{ state: string }>('SELECT state FROM payout WHERE id = ?', [id])?.state
const sendArgs = (id: string, bolt11: string) => ({
  payoutId: id,
  bolt11,
  requestId: hashOf(`request ${id} ${bolt11}`),
  requestJson: '{}',
  requestExpiresAtSec: NOW_MS / 1000 + 60,
  nowMs: NOW_MS,
})

it('markSending with the stored invoice named: planned → sending', () => {
  const p = plannedPayout('guard-ok')
  const hash = hashOf('invoice ok')
  L.call(attachInvoice, {
    payoutId: p.id,
    bolt11: `lnbcrt-test-${hash}`,
    paymentHash: hash,
    amountMsat: p.amountMsat,
    nowMs: NOW_MS,
  })
  const v = L.call(markSendingProc, sendArgs(p.id, `lnbcrt-test-${hash}`))
  expect(v.state).toBe('sending')
  expect(stateOf(p.id)).toBe('sending')
})

it('markSending refuses a request for another invoice than the stored one and changes nothing', () => {
  const p = plannedPayout('guard-other')
  const hash = hashOf('invoice stored')
  L.call(attachInvoice, {
    payoutId: p.id,
    bolt11: `lnbcrt-test-${hash}`,
    paymentHash: hash,
    amountMsat: p.amountMsat,
    nowMs: NOW_MS,
  })
  expect(() => L.call(markSendingProc, sendArgs(p.id, `lnbcrt-test-${hashOf('another invoice')}`))).toThrow(
    PayoutStateError,
  )
  expect(stateOf(p.id)).toBe('planned')
  expect(L.db.get('SELECT 1 AS x FROM payout_request WHERE payout_id = ?', [p.id])).toBeUndefined()
})

it('markSending refuses when the attach before it was refused (no invoice stored)', () => {
  const p = plannedPayout('guard-refused-attach')
  const hash = hashOf('invoice refused')
  // The attach is refused (wrong amount), as it would be inside the ledger ahead of the pipelined markSending.
  expect(() =>
    L.call(attachInvoice, {
      payoutId: p.id,
      bolt11: `lnbcrt-test-${hash}`,
      paymentHash: hash,
      amountMsat: p.amountMsat + 1000n,
      nowMs: NOW_MS,
    }),
  ).toThrow()
  expect(() => L.call(markSendingProc, sendArgs(p.id, `lnbcrt-test-${hash}`))).toThrow(PayoutStateError)
  expect(stateOf(p.id)).toBe('planned')
})

it('markSending without an invoice named still refuses a payout with no invoice (the state machine rule)', () => {
  const p = plannedPayout('guard-unnamed')
  const { bolt11: _named, ...unnamed } = sendArgs(p.id, 'unused')
  expect(() => L.call(markSendingProc, unnamed)).toThrow(PayoutTransitionError)
  expect(stateOf(p.id)).toBe('planned')
})
