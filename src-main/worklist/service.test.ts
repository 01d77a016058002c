// The worklist IPC methods through the real dispatcher over the real services (createServices with an in-process
// ledger holding every registered module): an errored settlement shows up and is retried, a stuck one is
// force-reset only once it has been stuck long enough, a refund owed is listed until the operator records how it
// was handed back, and bad or out-of-state requests answer bad_args / conflict / not_found naming the field.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import type { Result } from '../../src-shared/ipc/contract'
import type { SettlementStatusView, WorklistView } from '../../src-shared/ipc/worklist'
import { readmeRecord, seedReadme, T0_MS } from '../accounting/test-support'
import { createAppLog } from '../app-log'
import { createDispatcher, type Dispatch } from '../ipc'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import { createServices, type Services } from '../services'

const caller = { transport: 'ws', caller: 'test' } as const
const clock = manualClock(T0_MS + 60_000)
let dir: string
let services: Services
let ledger: InProcessLedger
let d: Dispatch
const appLog = createAppLog()

const ok = <T>(r: Result<unknown>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`)
  return r.value as T
}
const list = async (stuckMinutes?: number) =>
  ok<WorklistView>(await d('worklist.list', [stuckMinutes === undefined ? {} : { stuckMinutes }], caller))

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'worklist-'))
  services = await createServices({
    runtime: 'node',
    dataDir: dir,
    appLog,
    emit: () => {},
    clock,
    openLedger: async (o) => {
      ledger = await openLedgerInProcess({ dir: o.dir, autoSnapshot: false })
      return ledger
    },
  })
  await services.ledgerReady
  await seedReadme(ledger)
  d = createDispatcher(services.handlers, appLog.log)
}, 30_000)
afterAll(async () => {
  await services?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('worklist IPC', () => {
  it('starts empty', async () => {
    const w = await list()
    expect(w.settlements).toEqual([])
    expect(w.payouts).toEqual([])
    expect(w.pausedConnections).toEqual([])
    expect(w.reconcile).toBeNull()
  })

  it('lists an errored settlement and retries it back to pending', async () => {
    const booked = await ledger.call<{ settlementId: number }>('accounting.bookSettlement', readmeRecord(1))
    const id = booked.settlementId
    await ledger.call('accounting.claimSettlement', { settlementId: id, token: 't1', atMs: T0_MS + 2000 })
    await ledger.call('accounting.failSettlement', { settlementId: id, token: 't1', atMs: T0_MS + 3000, error: 'boom' })
    const w = await list()
    expect(w.settlements).toContainEqual(expect.objectContaining({ kind: 'errored', settlementId: id, reason: 'boom' }))

    const r = ok<SettlementStatusView>(await d('settlements.retry', [{ settlementId: id }], caller))
    expect(r).toEqual({ settlementId: id, status: 'pending' })
    expect((await list()).settlements.some((s) => s.kind === 'errored' && s.settlementId === id)).toBe(false)

    // Retrying again is a state conflict naming the settlement.
    const again = await d('settlements.retry', [{ settlementId: id }], caller)
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict', field: 'args[0].settlementId' } })
  })

  it('force-resets a stuck settlement only after it has been stuck long enough', async () => {
    const { settlementId: id } = await ledger.call<{ settlementId: number }>(
      'accounting.bookSettlement',
      readmeRecord(2),
    )
    await ledger.call('accounting.claimSettlement', { settlementId: id, token: 't2', atMs: clock.nowMs() })
    const early = await d('settlements.forceReset', [{ settlementId: id, stuckMinutes: 30 }], caller)
    expect(early).toMatchObject({ ok: false, error: { code: 'conflict' } })

    clock.advanceMs(31 * 60_000)
    expect((await list(30)).settlements).toContainEqual(
      expect.objectContaining({ kind: 'stuck', settlementId: id, status: 'processing' }),
    )
    const r = ok<SettlementStatusView>(
      await d('settlements.forceReset', [{ settlementId: id, stuckMinutes: 30 }], caller),
    )
    expect(r.status).toBe('errored')
  })

  it('lists a refund owed after a partial dispense until the operator records it handed back', async () => {
    const { settlementId: id } = await ledger.call<{ settlementId: number }>(
      'accounting.bookSettlement',
      readmeRecord(3, { fiatMinor: '150000', fiatRequestedMinor: '200000' }),
    )
    const refund = (await list()).settlements.find((s) => s.kind === 'refund_due' && s.settlementId === id)
    expect(refund).toBeDefined()
    expect(BigInt(refund!.amountMsat!)).toBeGreaterThan(0n)

    const missingRef = await d('worklist.resolve', [{ settlementId: id, kind: 'refund_due' }], caller)
    expect(missingRef).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].reference' } })

    ok(await d('worklist.resolve', [{ settlementId: id, kind: 'refund_due', reference: 'drawer-7' }], caller))
    expect((await list()).settlements.some((s) => s.kind === 'refund_due' && s.settlementId === id)).toBe(false)
  })

  it('refuses bad arguments naming the field, and unknown payouts as not found', async () => {
    const bad = await d('settlements.retry', [{ settlementId: 0 }], caller)
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].settlementId' } })
    const kind = await d('worklist.resolve', [{ settlementId: 1, kind: 'other' }], caller)
    expect(kind).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].kind' } })
    const missing = await d('payouts.release', [{ payoutId: 'nope' }], caller)
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found', field: 'args[0].payoutId' } })
    ok(await d('payouts.resume', [{ connectionId: 'operator' }], caller))
  })
})
