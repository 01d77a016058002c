// Glue between the payout runner (src-main/payouts/runner.ts) and the notice service: a paid LP payout sends the
// LP its "payout paid" DM; the runner's pause alerts, repeated failures of one payout, and a low wallet balance
// become operator conditions that the notice service debounces. The runner's event type is matched structurally
// (only the fields used here), so this file does not depend on the runner's internals.
import type { Clock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import type { NoticeService } from './service'

/** The runner events this bridge reads (a subset of PayoutRunnerEvent). */
export type PayoutEventLike =
  | { type: 'state'; payoutId: string; state: string; reason: string | null; atMs: number }
  | { type: 'alert'; kind: string; message: string; atMs: number }
  | { type: string }

export interface PayoutNoticeBridge {
  /** Pass every runner event here (PayoutRunnerOptions.onEvent). */
  onRunnerEvent(e: PayoutEventLike): void
  /** After each runner cycle: null when payouts run, else the pause reason (CycleReport.paused). */
  onCycle(report: { paused: string | null }): void
  /** After each balance check (NwcClient.getBalance), with the operator's threshold and what payouts owe. */
  onWalletBalance(balanceMsat: bigint, thresholdMsat: bigint, dueMsat?: bigint): void
  /** Resolves when every notice started by the calls above has finished (tests, shutdown). */
  idle(): Promise<void>
}

export function createPayoutNoticeBridge(
  notices: NoticeService,
  opts: { log: Logger; clock: Clock; failureThreshold?: number },
): PayoutNoticeBridge {
  const threshold = opts.failureThreshold ?? 3
  const failures = new Map<string, number>()
  const pending = new Set<Promise<unknown>>()
  let pausedSinceMs: number | null = null
  const track = (p: Promise<unknown>, what: string) => {
    const q = p
      .catch((e: unknown) => opts.log.warn(`${what} failed`, { reason: (e as Error)?.message ?? String(e) }))
      .finally(() => pending.delete(q))
    pending.add(q)
  }

  return {
    onRunnerEvent(e) {
      if (e.type === 'state' && 'payoutId' in e) {
        if (e.state === 'paid') {
          failures.delete(e.payoutId)
          track(notices.reportCondition(`repeated_failures:${e.payoutId}`, false), 'failure alert clear')
          track(notices.notifyPayoutPaidById(e.payoutId), 'payout notice')
        } else if (e.state === 'failed_retryable' || e.state === 'failed_final') {
          const n = (failures.get(e.payoutId) ?? 0) + 1
          failures.set(e.payoutId, n)
          if (n >= threshold)
            track(
              notices.reportCondition(`repeated_failures:${e.payoutId}`, true, {
                kind: 'repeated_failures',
                recipient: `payout ${e.payoutId}`,
                failures: n,
                lastError: e.reason ?? e.state,
              }),
              'failure alert',
            )
        }
      } else if (e.type === 'alert' && 'message' in e) {
        pausedSinceMs ??= e.atMs
        track(
          notices.reportCondition('payouts_paused', true, {
            kind: 'payouts_paused',
            reason: e.message,
            sinceMs: pausedSinceMs,
          }),
          'pause alert',
        )
      }
    },
    onCycle(report) {
      if (report.paused === null) {
        pausedSinceMs = null
        track(notices.reportCondition('payouts_paused', false), 'pause alert clear')
        return
      }
      // Still paused (possibly since before a restart, when no alert event was seen in this session).
      pausedSinceMs ??= opts.clock.nowMs()
      track(
        notices.reportCondition('payouts_paused', true, {
          kind: 'payouts_paused',
          reason: report.paused,
          sinceMs: pausedSinceMs,
        }),
        'pause alert',
      )
    },
    onWalletBalance(balanceMsat, thresholdMsat, dueMsat) {
      const low = balanceMsat < thresholdMsat
      track(
        notices.reportCondition(
          'wallet_low',
          low,
          low
            ? { kind: 'wallet_low', balanceMsat, thresholdMsat, ...(dueMsat !== undefined ? { dueMsat } : {}) }
            : undefined,
        ),
        'wallet alert',
      )
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending])
    },
  }
}
