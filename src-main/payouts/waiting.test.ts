// A recipient without a destination is not planned, keeps accruing, and shows as waiting with its whole sats;
// setting a destination plans exactly those whole sats and leaves the sub-sat remainder accrued.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { appendAccrual, recipientAccrual } from '../accounting/entries'
import { accountingMigrations } from '../accounting/procedures'
import { openSqlJsLedger, type SqlJsLedger } from '../accounting/sqljs-txdb'
import { payoutMigrations, plan, setRecipient } from './procedures'
import { waitingRecipients } from './waiting'

let L: SqlJsLedger
beforeAll(async () => {
  L = await openSqlJsLedger([...accountingMigrations, ...payoutMigrations])
})
afterAll(() => L?.close())

const policy = { thresholdMsat: 1000n, minIntervalMs: 0, maxFeeBaseMsat: 0n, maxFeePpm: 0, atMs: 1 }

it('a removed destination: nothing planned, the sats wait on the worklist, then are paid whole', () => {
  appendAccrual(L.db, { kind: 'platform', recipientId: 'platform', deltaMsat: 12_345n, atMs: 1 })
  appendAccrual(L.db, { kind: 'split', recipientId: 'owner', deltaMsat: 7_001n, atMs: 1 })
  // The platform never had a destination; the owner's was removed.
  L.call(setRecipient, { recipientKind: 'split', recipientId: 'owner', ...policy })
  expect(L.call(plan, { nowMs: 2, connectionId: 'operator' })).toEqual([])
  const w = L.call(waitingRecipients, {})
  expect(w.map((x) => x.text)).toEqual([
    'platform fee recipient has no destination: 12 sats waiting',
    'split recipient owner has no destination: 7 sats waiting',
  ])
  expect(w[0]!.accruedMsat).toBe('12345')
  // Still accruing while it waits.
  appendAccrual(L.db, { kind: 'platform', recipientId: 'platform', deltaMsat: 1_000n, atMs: 3 })
  expect(recipientAccrual(L.db, 'platform', 'platform')).toBe(13_345n)
  L.call(setRecipient, {
    recipientKind: 'platform',
    recipientId: 'platform',
    ...policy,
    destination: { kind: 'keysend', nodeId: `02${'ab'.repeat(32)}` },
  })
  const planned = L.call(plan, { nowMs: 4, connectionId: 'operator' })
  expect(planned.map((p) => [p.recipientId, p.amountMsat])).toEqual([['platform', '13000']])
  expect(L.call(waitingRecipients, {}).map((x) => x.recipientId)).toEqual(['owner'])
})
