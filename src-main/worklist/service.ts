// The worklist service: the `worklist.*`, `settlements.*` and `payouts.*` IPC handlers (shapes in
// src-shared/ipc/worklist.ts) over the accounting, payout and reconciliation procedures. It gathers everything that
// needs a human into one view and offers the actions that clear an item: retry an errored settlement, force-reset a
// stuck one, mark a refund handed back or a fee mismatch looked into, resume a paused wallet connection, release a
// payout that failed for good. Every action is one journaled ledger procedure; the author is recorded on it.
//
// Ledger refusals become ApiErrors naming the IPC argument (`args[0].settlementId`), with a log line giving the
// reason, through the same mapping the LP service uses.

import { nowSec } from '../../src-shared/clock'
import type { Handlers } from '../../src-shared/ipc/contract'
import type { SettlementWorkItem, WorklistView } from '../../src-shared/ipc/worklist'
import { delegationWarnings, loadDelegationViews, walletRevocations } from '../fleet/pairing-service'
import { toApiError } from '../lps/service'
import type { PayoutWorklist } from '../payouts/procedures'
import type { WaitingRecipient } from '../payouts/waiting'
import { openReconcileDifferences } from '../reconcile/loop'
import type { ServiceContext } from '../service-context'

type WorklistMethods =
  | 'worklist.list'
  | 'worklist.resolve'
  | 'settlements.retry'
  | 'settlements.forceReset'
  | 'payouts.resume'
  | 'payouts.release'

/** Who acts from the console's UI; the hardware-signer issue will put the operator's npub here. */
const AUTHOR = 'operator'
const DEFAULT_STUCK_MINUTES = 30

export function worklistHandlers(ctx: ServiceContext): Pick<Handlers, WorklistMethods> {
  const log = ctx.log.child('worklist')
  const now = () => ctx.clock.nowMs()

  /** Runs one ledger procedure for `method`, turning a refusal into a typed ApiError with a log line. */
  async function act<R>(method: WorklistMethods, procedure: string, args: Record<string, unknown>): Promise<R> {
    try {
      return await ctx.ledger().call<R>(procedure, args)
    } catch (e) {
      const api = toApiError(e)
      if (api !== e) log.warn('worklist action refused', { method, reason: (api as Error).message })
      throw api
    }
  }

  return {
    'worklist.list': async ({ stuckMinutes }) => {
      const ledger = ctx.ledger()
      const [settlements, payouts, reconcile, delegations, waitingRecipients] = await Promise.all([
        ledger.call<SettlementWorkItem[]>('accounting.worklist', {
          nowMs: now(),
          stuckMinutes: stuckMinutes ?? DEFAULT_STUCK_MINUTES,
        }),
        ledger.call<PayoutWorklist>('payouts.worklist', {}),
        // Differences of the recent reconciliation runs that no later run has matched (src-main/reconcile/loop.ts).
        openReconcileDifferences(ledger, now()),
        // Delegations expiring within 14 days (or expired) of ATMs still in the roster (docs/protocol.md §10.3).
        loadDelegationViews(ledger, ctx.settings.get().operatorPubkey, nowSec(ctx.clock)).then(delegationWarnings),
        ledger.call<WaitingRecipient[]>('payouts.waitingRecipients', {}),
      ])
      const view: WorklistView = {
        settlements,
        payouts: payouts.items.map((p) => ({
          id: p.id,
          state: p.state,
          recipientKind: p.recipientKind,
          recipientId: p.recipientId,
          amountMsat: p.amountMsat,
          connectionId: p.connectionId,
          attempt: p.attempt,
          paymentHash: p.paymentHash,
          errorCode: p.errorCode,
          reason: p.reason,
          worklistReason: p.worklistReason,
        })),
        pausedConnections: payouts.paused,
        alerts: payouts.alerts,
        reconcile:
          reconcile.runs.length === 0
            ? null
            : {
                runId: reconcile.runs[0]!.id,
                fromSec: reconcile.runs[reconcile.runs.length - 1]!.fromSec,
                untilSec: reconcile.runs[0]!.untilSec,
                items: reconcile.differences.map((i) => ({
                  kind: `reconcile_${i.kind}`,
                  paymentHash: i.paymentHash,
                  direction: i.direction,
                  ledgerMsat: i.ledgerMsat,
                  walletMsat: i.walletMsat,
                  deltaMsat: i.deltaMsat,
                  text: i.text,
                })),
              },
        delegations,
        waitingRecipients,
      }
      // Wallet connections of revoked ATMs still to be revoked in the wallet, until the operator confirms (issue 9d).
      const operatorPubkey = ctx.settings.get().operatorPubkey
      if (operatorPubkey) view.walletRevocations = await walletRevocations(ledger, operatorPubkey)
      return view
    },
    'worklist.resolve': async ({ settlementId, kind, reference, note }) => {
      const r = await act<{ ackId: number }>('worklist.resolve', 'accounting.resolveWorklistItem', {
        settlementId,
        kind,
        reference: reference ?? null,
        note: note ?? null,
        author: AUTHOR,
        atMs: now(),
      })
      log.info('worklist item resolved', { settlementId, kind })
      return r
    },
    'settlements.retry': async ({ settlementId }) => {
      const r = await act<{ status: string }>('settlements.retry', 'accounting.retrySettlement', {
        settlementId,
        author: AUTHOR,
        atMs: now(),
      })
      log.info('settlement retried', { settlementId })
      return { settlementId, status: r.status }
    },
    'settlements.forceReset': async ({ settlementId, stuckMinutes }) => {
      const r = await act<{ status: string }>('settlements.forceReset', 'accounting.forceResetSettlement', {
        settlementId,
        stuckMinutes: stuckMinutes ?? DEFAULT_STUCK_MINUTES,
        author: AUTHOR,
        nowMs: now(),
      })
      log.info('settlement force-reset', { settlementId })
      return { settlementId, status: r.status }
    },
    'payouts.resume': async ({ connectionId }) => {
      await act('payouts.resume', 'payouts.resume', { connectionId, author: AUTHOR, nowMs: now() })
      log.info('payouts resumed', { connectionId })
      return { ok: true as const }
    },
    'payouts.release': async ({ payoutId, note, acceptUnpaid }) => {
      const p = await act<{ id: string; state: string }>('payouts.release', 'payouts.release', {
        payoutId,
        note: note ?? null,
        acceptUnpaid: acceptUnpaid === true,
        author: AUTHOR,
        nowMs: now(),
      })
      log.info('payout released', { payoutId })
      return { payoutId: p.id, state: p.state }
    },
  }
}
