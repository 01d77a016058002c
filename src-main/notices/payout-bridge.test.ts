// Payout runner → notices glue: which runner events become LP notices and which become operator conditions.
import { describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import type { OperatorAlert } from '../../src-shared/notices/texts'
import { createPayoutNoticeBridge } from './payout-bridge'
import type { NoticeService } from './service'

function recorder() {
  const conditions: Array<[string, boolean, OperatorAlert | undefined]> = []
  const paidNotices: string[] = []
  const notices = {
    reportCondition: async (key: string, active: boolean, alert?: OperatorAlert) => {
      conditions.push([key, active, alert])
      return []
    },
    notifyPayoutPaidById: async (id: string) => {
      paidNotices.push(id)
      return null
    },
  } as unknown as NoticeService
  return { notices, conditions, paidNotices }
}

describe('createPayoutNoticeBridge', () => {
  it('sends the LP notice on paid and raises repeated failures from the threshold on', async () => {
    const r = recorder()
    const b = createPayoutNoticeBridge(r.notices, { log: memoryLogger(), clock: manualClock(0), failureThreshold: 2 })
    const fail = (reason: string) =>
      b.onRunnerEvent({ type: 'state', payoutId: 'po-1', state: 'failed_retryable', reason, atMs: 1 })
    fail('no route')
    await b.idle()
    expect(r.conditions).toEqual([])
    fail('timeout')
    await b.idle()
    expect(r.conditions).toEqual([
      [
        'repeated_failures:po-1',
        true,
        { kind: 'repeated_failures', recipient: 'payout po-1', failures: 2, lastError: 'timeout' },
      ],
    ])
    b.onRunnerEvent({ type: 'state', payoutId: 'po-1', state: 'paid', reason: null, atMs: 2 })
    await b.idle()
    expect(r.paidNotices).toEqual(['po-1'])
    expect(r.conditions.at(-1)).toEqual(['repeated_failures:po-1', false, undefined])
    b.onRunnerEvent({ type: 'planned' })
    await b.idle()
    expect(r.conditions).toHaveLength(2)
  })

  it('raises a pause from the alert event (or a paused cycle after a restart) and clears it on a running cycle', async () => {
    const r = recorder()
    const clock = manualClock(5_000)
    const b = createPayoutNoticeBridge(r.notices, { log: memoryLogger(), clock })
    b.onCycle({ paused: 'insufficient balance' })
    b.onRunnerEvent({ type: 'alert', kind: 'insufficient_balance', message: 'balance 0', atMs: 9_000 })
    b.onCycle({ paused: null })
    b.onWalletBalance(10n, 100n, 50n)
    b.onWalletBalance(200n, 100n)
    await b.idle()
    expect(r.conditions).toEqual([
      ['payouts_paused', true, { kind: 'payouts_paused', reason: 'insufficient balance', sinceMs: 5_000 }],
      ['payouts_paused', true, { kind: 'payouts_paused', reason: 'balance 0', sinceMs: 5_000 }],
      ['payouts_paused', false, undefined],
      ['wallet_low', true, { kind: 'wallet_low', balanceMsat: 10n, thresholdMsat: 100n, dueMsat: 50n }],
      ['wallet_low', false, undefined],
    ])
  })
})
