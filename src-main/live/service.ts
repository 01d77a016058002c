// The live push (issue 9; shapes and the table → area rule in src-shared/ipc/live.ts, described in
// docs/architecture.md §2 "Live push"): after the ledger changed, every renderer is told which areas moved —
// `fleet.changed`, `lps.changed`, `payouts.changed`, `worklist.changed` — and the screens reload by themselves.
//
// Where the changes come from: the audit log appends one leaf per row version of every ledger table in the same
// transaction that wrote the row (src-main/audit/log.ts), numbered by its primary key `idx`. So "what changed since
// I last looked" is one range read on that key — `idx > last`, grouped by table — whose cost follows the number of
// rows written since, not the size of the ledger. Re-records after a migration (op M) are no change anyone made and
// are skipped.
//
// When: the ledger's status listener reports every move of its commit sequence (throttled by the store); each one
// pokes a Coalescer that looks once the commits pause for QUIET_MS, or every MAX_WAIT_MS during a steady stream.
// A burst of a thousand bookings therefore costs a few reads and a few pushes per area, not a thousand.
import type { Emit } from '../../src-shared/ipc/contract'
import { type CoalesceOptions, Coalescer, groupChangesByArea, type LiveArea } from '../../src-shared/ipc/live'
import type { LedgerStore } from '../ledger/types'
import type { ServiceContext } from '../service-context'

export const LIVE_COALESCE: CoalesceOptions = { quietMs: 150, maxWaitMs: 750 }

type LiveEvent = 'fleet.changed' | 'lps.changed' | 'payouts.changed' | 'worklist.changed'
const EVENT_OF: Record<LiveArea, LiveEvent> = {
  fleet: 'fleet.changed',
  lps: 'lps.changed',
  payouts: 'payouts.changed',
  worklist: 'worklist.changed',
}

export interface LiveWatcher {
  /** Looks for changes now (tests; the status listener does this by itself). */
  poke(): void
  /** How many times the ledger was read for changes. */
  readonly reads: number
  stop(): void
}

/**
 * Watches `ledger` and emits one `<area>.changed` per area that moved. The first read only notes where the log
 * stands: what was there before the console started is not a change.
 */
export function watchLedger(
  ledger: LedgerStore,
  emit: Emit,
  opts: { nowMs: () => number; coalesce?: CoalesceOptions; onError?: (e: unknown) => void },
): LiveWatcher {
  let last: number | null = null
  const read = async () => {
    if (last === null) {
      const [r] = await ledger.query<{ top: number | null }>('SELECT MAX(idx) AS top FROM audit_leaf')
      last = r?.top ?? -1
      return
    }
    // The newest position first, then everything up to it: a commit landing between the two reads is left for the
    // next look instead of being skipped.
    const [t] = await ledger.query<{ top: number | null }>('SELECT MAX(idx) AS top FROM audit_leaf')
    const top = t?.top ?? -1
    if (top <= last) return
    const rows = await ledger.query<{ tbl: string; newest: number; n: number }>(
      `SELECT tbl, MAX(idx) AS newest, COUNT(*) AS n FROM audit_leaf WHERE idx > ? AND idx <= ? AND op <> 'M' GROUP BY tbl`,
      [last, top],
    )
    last = top
    const byArea = groupChangesByArea(rows.map((r) => ({ table: r.tbl, newest: r.newest, rows: r.n })))
    const atMs = opts.nowMs()
    for (const [area, change] of byArea)
      emit(EVENT_OF[area], { version: String(change.version), rows: change.rows, atMs })
  }
  const coalescer = new Coalescer(
    async () => {
      try {
        await read()
      } catch (e) {
        opts.onError?.(e)
      }
    },
    opts.coalesce ?? LIVE_COALESCE,
    { nowMs: opts.nowMs, set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout) },
  )
  let seq = -1
  const off = ledger.onStatus((st) => {
    if (st.seq === seq) return
    seq = st.seq
    coalescer.poke()
  })
  coalescer.poke()
  return {
    poke: () => coalescer.poke(),
    get reads() {
      return coalescer.runs
    },
    stop() {
      off()
      coalescer.stop()
    },
  }
}

/** Starts the live push once the ledger is open; stops with the services. One line in src-main/services.ts. */
export function startLivePush(ctx: ServiceContext): void {
  const log = ctx.log.child('live')
  void ctx.ledgerReady.then(() => {
    let ledger: LedgerStore
    try {
      ledger = ctx.ledger()
    } catch {
      return // the ledger did not open (or the audit check refused it): nothing will change
    }
    const w = watchLedger(ledger, ctx.emit, {
      nowMs: () => ctx.clock.nowMs(),
      onError: (e) => log.debug('change check failed', { reason: e instanceof Error ? e.message : String(e) }),
    })
    ctx.onClose(() => w.stop())
  })
}
