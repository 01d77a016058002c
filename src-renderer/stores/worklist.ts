// Worklist store: what needs the operator's hand (src-shared/ipc/worklist.ts) — errored or stuck settlements,
// refunds owed, fee mismatches, payouts that failed for good or whose outcome is unknown, paused wallet connections,
// alerts, reconciliation differences, revoked ATMs whose wallet connection is still to be revoked in the wallet, and
// recipients whose sats wait for a destination — and the actions that clear them. Every action goes to the main side, which
// re-checks the state; on success the list is fetched again (the ledger, not this store, decides what is left), on
// failure the error is kept under the item's key, naming the field, and the list is left as it was.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { WalletRevocationView } from '../../src-shared/ipc/fleet-machine'
import type { WorklistView } from '../../src-shared/ipc/worklist'
import { type ApiError, api, fieldReason, toApiError } from '../api'
import { followPushes } from './follow'

export type { WalletRevocationView } from '../../src-shared/ipc/fleet-machine'
export type { PayoutWorkItem, ReconcileWorkItem, SettlementWorkItem, WorklistView } from '../../src-shared/ipc/worklist'

/** The operator-facing names of the fields the worklist actions take. */
const FIELD_LABELS: Record<string, string> = {
  settlementId: 'Settlement id',
  stuckMinutes: 'Stuck after (minutes)',
  kind: 'Kind',
  reference: 'Refund reference',
  note: 'Note',
  connectionId: 'Wallet connection',
  payoutId: 'Payout id',
  acceptUnpaid: 'Confirmed unpaid',
}

export interface ActionError {
  /** The argument the main side refused (`settlementId`, `reference` …), or null for a refusal of the action. */
  field: string | null
  /** One sentence for the operator; a field error starts with the field's label. */
  message: string
  code: string
}

/**
 * Maps a refusal to an inline message. A schema error's path (`args[0].reference`) becomes the field and its label
 * leads the sentence ("Refund reference: Must be 1–200 characters."); any other refusal (not found, wrong state,
 * ledger unavailable) is shown with the main side's own message.
 */
export function actionError(e: ApiError): ActionError {
  const m = /^args\[0\]\.([A-Za-z]+)/.exec(e.field ?? '')
  if (m?.[1]) {
    const field = m[1]
    return { field, code: e.code, message: `${FIELD_LABELS[field] ?? field}: ${fieldReason(e)}` }
  }
  return { field: null, code: e.code, message: e.message }
}

/** Parses a settlement id typed by the operator; the renderer refuses what is not a whole number before sending. */
export function parseSettlementId(text: string): number | ActionError {
  const t = text.trim()
  if (!/^\d{1,15}$/.test(t))
    return { field: 'settlementId', code: 'bad_args', message: 'Settlement id: Must be a whole number.' }
  return Number(t)
}

/** How many items of each section the view shows; `total` is what the sidebar badge and the header count. */
export function worklistCounts(v: WorklistView | null): {
  settlements: number
  payouts: number
  paused: number
  alerts: number
  reconcile: number
  wallet: number
  waiting: number
  total: number
} {
  const settlements = v?.settlements.length ?? 0
  const payouts = v?.payouts.length ?? 0
  const paused = v?.pausedConnections.length ?? 0
  const alerts = v?.alerts.length ?? 0
  const reconcile = v?.reconcile?.items.length ?? 0
  const wallet = v?.walletRevocations?.length ?? 0
  const waiting = v?.waitingRecipients?.length ?? 0
  return {
    settlements,
    payouts,
    paused,
    alerts,
    reconcile,
    wallet,
    waiting,
    total: settlements + payouts + paused + alerts + reconcile + wallet + waiting,
  }
}

/** A release needs the operator's explicit "it was not paid" when the wallet could not prove the outcome. */
export function needsAcceptUnpaid(errorCode: string | null): boolean {
  return errorCode === 'UNVERIFIABLE'
}

export const useWorklistStore = defineStore('worklist', () => {
  const view = ref<WorklistView | null>(null)
  const loading = ref(false)
  const loadError = ref<string | null>(null)
  /** The key of the action in flight (`retry:12`, `release:p-3` …), so only its button shows progress. */
  const busy = ref<string | null>(null)
  /** Inline errors by action key. */
  const errors = ref<Record<string, ActionError>>({})
  /** The last action that succeeded, for a short confirmation line. */
  const done = ref<string | null>(null)

  const counts = computed(() => worklistCounts(view.value))

  async function load(): Promise<void> {
    loading.value = true
    try {
      view.value = await api()['worklist.list']({})
      loadError.value = null
    } catch (e) {
      loadError.value = toApiError(e).message
    } finally {
      loading.value = false
    }
  }

  /** Runs one action under `key`; true on success (the list is then reloaded). */
  async function run(key: string, label: string, call: () => Promise<unknown>): Promise<boolean> {
    busy.value = key
    done.value = null
    const { [key]: _dropped, ...rest } = errors.value
    errors.value = rest
    try {
      await call()
      done.value = label
      await load()
      return true
    } catch (e) {
      errors.value = { ...errors.value, [key]: actionError(toApiError(e)) }
      return false
    } finally {
      busy.value = null
    }
  }

  const retry = (settlementId: number, key = `retry:${settlementId}`) =>
    run(key, `Settlement ${settlementId} queued again.`, () => api()['settlements.retry']({ settlementId }))

  const forceReset = (settlementId: number, key = `reset:${settlementId}`) =>
    run(key, `Settlement ${settlementId} reset to errored.`, () => api()['settlements.forceReset']({ settlementId }))

  const resolveRefund = (settlementId: number, reference: string, note?: string) =>
    run(`refund:${settlementId}`, `Refund for settlement ${settlementId} recorded.`, () =>
      api()['worklist.resolve']({
        settlementId,
        kind: 'refund_due',
        reference: reference.trim(),
        ...(note?.trim() ? { note: note.trim() } : {}),
      }),
    )

  const resolveFeeMismatch = (settlementId: number, note?: string) =>
    run(`fee:${settlementId}`, `Fee mismatch on settlement ${settlementId} marked as looked into.`, () =>
      api()['worklist.resolve']({
        settlementId,
        kind: 'fee_mismatch',
        ...(note?.trim() ? { note: note.trim() } : {}),
      }),
    )

  const resume = (connectionId: string) =>
    run(`resume:${connectionId}`, 'Payouts resumed.', () => api()['payouts.resume']({ connectionId }))

  const release = (payoutId: string, acceptUnpaid: boolean) =>
    run(`release:${payoutId}`, 'Payout released; its amount is planned again.', () =>
      api()['payouts.release']({ payoutId, ...(acceptUnpaid ? { acceptUnpaid: true } : {}) }),
    )

  /**
   * The operator confirms they revoked a revoked ATM's wallet connection in the wallet (the console cannot reach
   * it there); the reminder then leaves the worklist and the Fleet screen. Keyed by the roster version that dropped
   * the ATM, so the main side refuses a confirmation of a reminder that is no longer open.
   */
  const confirmWalletRevoked = (r: WalletRevocationView, note?: string) =>
    run(
      `wallet:${r.atmPubkey}`,
      `Noted: the wallet connection of ${r.name ?? r.machineId ?? 'the revoked machine'} is revoked in your wallet.`,
      () =>
        api()['fleet.confirmWalletRevoked']({
          atmPubkey: r.atmPubkey,
          rosterEventId: r.rosterEventId,
          ...(note?.trim() ? { note: note.trim() } : {}),
        }),
    )

  /** Records a renderer-side refusal (bad typed input) under `key` without calling the main side. */
  function reject(key: string, err: ActionError): void {
    errors.value = { ...errors.value, [key]: err }
  }

  /**
   * Keeps the list current while a screen shows it: loads now and again on every `settlements.changed`,
   * `worklist.changed` and `payouts.changed` push (bookings, status changes, payouts, acknowledgements), so no screen needs a Refresh button. Returns the stop.
   */
  function follow(): () => void {
    const off = followPushes(['settlements.changed', 'worklist.changed', 'payouts.changed'], load)
    void load()
    return off
  }

  function clearError(key: string): void {
    const { [key]: _dropped, ...rest } = errors.value
    errors.value = rest
  }

  return {
    view,
    loading,
    loadError,
    busy,
    errors,
    done,
    counts,
    load,
    retry,
    forceReset,
    resolveRefund,
    resolveFeeMismatch,
    resume,
    release,
    confirmWalletRevoked,
    reject,
    clearError,
    follow,
  }
})
