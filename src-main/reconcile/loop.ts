// The scheduled wallet reconciliation (issue 15 item 3; docs/payouts.md "Reconciliation"): the pipeline runtime
// (src-main/pipeline/runtime.ts) runs `runDue()` after every payout batch and on a timer. Each run checks the next
// window of time against the operator wallet's list_transactions (./service.ts `runWalletReconciliation`), so
// consecutive runs cover the timeline once, without gaps or overlaps:
//
//   window start = the previous run's end (first run: the earliest payment the ledger knows, at most … ago);
//   window end   = now − lag, so a payment still in flight (sent, not yet proven paid in the ledger) is not
//                  reported as unexpected; and at most `maxWindowSec` after the start, so a long gap is caught up
//                  in several bounded runs.
//
// Every run is stored in the ledger (`recon_run`, append-only). What the operator sees is `openDifferences`: the
// differences of the recent runs, minus those a later run has since matched (a booking that arrived after the lag,
// a payout whose outcome was proven later). The status of the loop (last run, last error) is kept per ledger so the
// IPC handlers can show it (`reconcile.status`).

import type { Clock } from '../../src-shared/clock'
import type { ReconcileDifferenceView, ReconcileStatusView } from '../../src-shared/ipc/recipients'
import type { Logger } from '../../src-shared/log'
import type { LedgerStore } from '../ledger/types'
import type { ReconcileRunRow } from './procedures'
import { describeDifference, type ReconcileWallet, runWalletReconciliation } from './service'

export interface ReconcileLoopOptions {
  ledger: LedgerStore
  wallet: ReconcileWallet
  clock: Clock
  log: Logger
  /** The window end stays this far behind now. Default 120 s. */
  lagSec?: number
  /** The longest window one run covers. Default 1 day. */
  maxWindowSec?: number
  /** How far back the very first run starts when the ledger knows no payment yet. Default 1 hour. */
  firstWindowSec?: number
  /** Seconds fetched on both sides of a window so boundary payments still match. Default 10 min. */
  marginSec?: number
  /** At most this many windows per `runDue` (a long history is caught up over several passes). Default 24. */
  maxRunsPerPass?: number
}

export interface ReconcileLoop {
  /** Runs every window that is due (possibly several to catch up); resolves with the number of runs made. */
  runDue(): Promise<number>
  status(): Promise<ReconcileStatusView>
}

interface LoopState {
  lagSec: number
  lastError: string | null
}

const running = new WeakMap<LedgerStore, LoopState>()

export function createReconcileLoop(o: ReconcileLoopOptions): ReconcileLoop {
  const lagSec = o.lagSec ?? 120
  const maxWindowSec = o.maxWindowSec ?? 86_400
  const firstWindowSec = o.firstWindowSec ?? 3_600
  const marginSec = o.marginSec ?? 600
  const maxRuns = o.maxRunsPerPass ?? 24
  const state: LoopState = { lagSec, lastError: null }
  running.set(o.ledger, state)

  async function windowStart(untilSec: number): Promise<number> {
    const [last] = await o.ledger.call<ReconcileRunRow[]>('reconcile.runs', { limit: 1 })
    if (last) return last.untilSec
    const [first] = await o.ledger.query<{ t: number | null }>(
      `SELECT MIN(t) AS t FROM (SELECT MIN(booked_at_ms) AS t FROM acct_settlement
        UNION ALL SELECT MIN(created_at_ms) FROM payout_invoice)`,
    )
    const earliest = first?.t === null || first?.t === undefined ? null : Math.floor(Number(first.t) / 1000)
    return Math.max(0, Math.min(earliest ?? untilSec, untilSec - firstWindowSec))
  }

  return {
    async runDue() {
      let runs = 0
      try {
        for (;;) {
          const endSec = Math.floor(o.clock.nowMs() / 1000) - lagSec
          const fromSec = await windowStart(endSec)
          const untilSec = Math.min(endSec, fromSec + maxWindowSec)
          if (untilSec <= fromSec) break
          await runWalletReconciliation({
            ledger: o.ledger,
            wallet: o.wallet,
            period: { fromSec, untilSec },
            marginSec,
            clock: o.clock,
            log: o.log,
          })
          runs++
          if (untilSec >= endSec || runs >= maxRuns) break
        }
        state.lastError = null
      } catch (e) {
        state.lastError = (e as Error).message
        o.log.warn('wallet reconciliation failed; the next run tries the same window again', {
          reason: state.lastError,
        })
      }
      return runs
    },
    status: () => reconcileStatus(o.ledger),
  }
}

/** Runs looked at for open differences: the newest this many … */
const RECENT_RUNS = 200
/** … within this many days. */
const RECENT_DAYS = 7

interface StoredReport {
  matched?: Array<{ paymentHash: string }>
  differences: Array<{
    kind: string
    paymentHash: string | null
    refs: string[]
    direction: 'incoming' | 'outgoing'
    ledgerMsat: string | null
    walletMsat: string | null
    deltaMsat: string | null
    walletState: string | null
    atMs: number | null
  }>
}

/** Differences of the recent runs that no later run has matched, newest first. */
export async function openReconcileDifferences(
  ledger: LedgerStore,
  nowMs: number,
  limit = 1000,
): Promise<{ runs: ReconcileRunRow[]; differences: ReconcileDifferenceView[] }> {
  const all = await ledger.call<ReconcileRunRow[]>('reconcile.runs', { limit: RECENT_RUNS })
  const runs = all.filter((r) => r.untilSec * 1000 >= nowMs - RECENT_DAYS * 86_400_000)
  const matchedLater = new Set<string>()
  const out: ReconcileDifferenceView[] = []
  // Newest run first: a difference is dropped when a newer run matched its payment hash.
  for (const run of runs) {
    const report = JSON.parse(run.reportJson) as StoredReport
    for (const d of report.differences) {
      if (d.paymentHash !== null && matchedLater.has(d.paymentHash)) continue
      out.push({
        runId: run.id,
        kind: d.kind,
        paymentHash: d.paymentHash,
        refs: d.refs,
        direction: d.direction,
        ledgerMsat: d.ledgerMsat,
        walletMsat: d.walletMsat,
        deltaMsat: d.deltaMsat,
        atMs: d.atMs,
        text: describeDifference({
          kind: d.kind as Parameters<typeof describeDifference>[0]['kind'],
          paymentHash: d.paymentHash,
          refs: d.refs,
          direction: d.direction,
          ledgerMsat: d.ledgerMsat === null ? null : BigInt(d.ledgerMsat),
          walletMsat: d.walletMsat === null ? null : BigInt(d.walletMsat),
          deltaMsat: d.deltaMsat === null ? null : BigInt(d.deltaMsat),
          walletState: d.walletState as Parameters<typeof describeDifference>[0]['walletState'],
          atMs: d.atMs,
        }),
      })
    }
    for (const m of report.matched ?? []) matchedLater.add(m.paymentHash)
  }
  return { runs, differences: out.slice(0, limit) }
}

/** The loop's status for the ledger (running = a pipeline on this ledger created a loop). */
export async function reconcileStatus(ledger: LedgerStore, nowMs = Date.now()): Promise<ReconcileStatusView> {
  const st = running.get(ledger)
  const { runs, differences } = await openReconcileDifferences(ledger, nowMs)
  const [last] = runs.length > 0 ? runs : await ledger.call<ReconcileRunRow[]>('reconcile.runs', { limit: 1 })
  return {
    running: st !== undefined,
    lastRun: last
      ? {
          runId: last.id,
          fromSec: last.fromSec,
          untilSec: last.untilSec,
          matched: last.matched,
          differences: last.differences,
          atMs: last.atMs,
        }
      : null,
    openDifferences: differences.length,
    lagSec: st?.lagSec ?? 120,
    lastError: st?.lastError ?? null,
  }
}

/** Forgets the loop of a ledger (the pipeline stopped). */
export function forgetReconcileLoop(ledger: LedgerStore): void {
  running.delete(ledger)
}
