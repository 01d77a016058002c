// IPC shapes of the live push (issue 9, docs/architecture.md §2 "Live push"): the main side tells every renderer
// that one area of the ledger changed — the fleet, the liquidity providers, the payouts, the worklist — so each
// screen reloads what it shows by itself and none needs a Refresh button. The event carries no data: the screens
// ask for what they show through their usual methods, so a push can never show something a method would not.
//
// Which ledger table belongs to which area is decided here (pure, shared by the main side and its tests), and so is
// the coalescing rule that keeps a burst of a thousand bookings from sending a thousand events.
//
// Pure TypeScript: no Node, Electron or DOM imports (the sandboxed preload bundles this through contract.ts).

/** The areas a push names; each is one event, `<area>.changed`. */
export type LiveArea = 'fleet' | 'lps' | 'payouts' | 'worklist'
export const LIVE_AREAS: readonly LiveArea[] = ['fleet', 'lps', 'payouts', 'worklist']

/** Push event payload: one area of the ledger changed. */
export interface LiveChangeView {
  /**
   * Opaque and increasing: the position in the ledger's audit log of the newest change in this area. A screen may
   * compare it with the version it last loaded, but never parses it.
   */
  version: string
  /** How many ledger rows of this area changed since the previous push (a burst shows as one push). */
  rows: number
  atMs: number
}

/** Push event payload: one step of a running backup or restore check, for the Settings screen's progress bar. */
export interface BackupProgressView {
  operation: 'backup' | 'restore'
  /** The step that just started, in the operator's words. */
  step: string
  /** Share of the work done before this step, 0…1. */
  fraction: number
  /** True on the last event of the operation (finished or refused). */
  done: boolean
  /** Set when the operation was refused or failed. */
  error?: string
}

/**
 * The areas a ledger table belongs to (several may apply: a payout moves the payout list, the LP's "paid" column
 * and, when it fails, the worklist). Tables of no area (relay cursors, the audit log's own bookkeeping, receipts
 * handled by `settlements.changed`) answer an empty list.
 */
export function liveAreasOfTable(table: string): LiveArea[] {
  const areas: LiveArea[] = []
  // Fleet: machines, their configs and delegations, every record received (last seen, last record, refused
  // records, booked counts) and the wallet-connection reminders after a revocation.
  if (
    table === 'acct_machine' ||
    table === 'acct_rejected' ||
    table === 'acct_config' ||
    (table.startsWith('fleet_') && table !== 'fleet_cursor')
  )
    areas.push('fleet')
  // Liquidity providers: the provider itself, deposits (recorded, confirmed, reversed), accruals, the LP entries of
  // each settlement, dust settlements, destination checks and the self-service requests.
  if (
    table === 'acct_lp' ||
    table === 'acct_deposit' ||
    table === 'acct_accrual' ||
    table === 'acct_lp_entry' ||
    table === 'acct_dust' ||
    table.startsWith('lp_') ||
    table.startsWith('lpss_')
  )
    areas.push('lps')
  // Payouts: every payment's state and its events, the recipients and their checks, wallet reconciliation.
  if (table.startsWith('payout') || table.startsWith('recipient_') || table === 'recon_run') areas.push('payouts')
  // Worklist: what needs a human comes from settlement states, acknowledgements, payout alerts and pauses,
  // reconciliation differences, delegations and the wallet-connection reminders.
  if (
    table === 'acct_settlement' ||
    table === 'acct_settlement_event' ||
    table === 'acct_worklist_ack' ||
    table === 'payout' ||
    table === 'payout_alert' ||
    table === 'payout_control' ||
    table === 'recon_run' ||
    table === 'fleet_delegation' ||
    table === 'fleet_wallet_revoke_ack' ||
    table === 'fleet_signed_event'
  )
    areas.push('worklist')
  return areas
}

/** One area's summary of the changes since the last push. */
export interface AreaChange {
  version: number
  rows: number
}

/**
 * Folds `(table, newest position, rows)` groups — one per changed table since the last look — into one change per
 * area. Areas without a change are absent.
 */
export function groupChangesByArea(
  groups: ReadonlyArray<{ table: string; newest: number; rows: number }>,
): Map<LiveArea, AreaChange> {
  const out = new Map<LiveArea, AreaChange>()
  for (const g of groups) {
    for (const area of liveAreasOfTable(g.table)) {
      const cur = out.get(area)
      if (!cur) out.set(area, { version: g.newest, rows: g.rows })
      else out.set(area, { version: Math.max(cur.version, g.newest), rows: cur.rows + g.rows })
    }
  }
  return out
}

/** Timers the coalescer uses; injected so tests drive time by hand. */
export interface CoalesceTimers {
  nowMs(): number
  set(fn: () => void, ms: number): unknown
  clear(handle: unknown): void
}

export interface CoalesceOptions {
  /** Runs once no poke came for this long … */
  quietMs: number
  /** … or at the latest this long after the first poke of a burst, so a steady stream still shows. */
  maxWaitMs: number
}

/**
 * Turns many pokes into few runs of one task. A poke opens a window; the task runs when the pokes pause for
 * `quietMs` or, during a steady stream, `maxWaitMs` after the window opened. Never more than one run at a time: a
 * poke that lands while the task runs opens the next window once it finished, so the change it announced is seen.
 * A burst of N pokes within T ms therefore costs at most ⌈T / maxWaitMs⌉ + 1 runs, whatever N is.
 */
export class Coalescer {
  private timer: unknown = null
  private windowStartMs: number | null = null
  private running = false
  private pending = false
  private stopped = false
  /** How many times the task ran (for tests and logs). */
  runs = 0

  constructor(
    private readonly task: () => Promise<void> | void,
    private readonly opts: CoalesceOptions,
    private readonly timers: CoalesceTimers,
  ) {}

  poke(): void {
    if (this.stopped) return
    if (this.running) {
      this.pending = true
      return
    }
    const now = this.timers.nowMs()
    if (this.windowStartMs === null) this.windowStartMs = now
    if (this.timer !== null) this.timers.clear(this.timer)
    const deadline = this.windowStartMs + this.opts.maxWaitMs
    const wait = Math.max(0, Math.min(this.opts.quietMs, deadline - now))
    this.timer = this.timers.set(() => void this.fire(), wait)
  }

  private async fire(): Promise<void> {
    this.timer = null
    this.windowStartMs = null
    if (this.stopped) return
    this.running = true
    this.runs++
    try {
      await this.task()
    } catch {
      // The task reports its own failures; one failed run must not stop the pushes after it.
    } finally {
      this.running = false
      if (this.pending && !this.stopped) {
        this.pending = false
        this.poke()
      }
    }
  }

  /** Stops for good: a pending window is dropped, later pokes are ignored. */
  stop(): void {
    this.stopped = true
    if (this.timer !== null) this.timers.clear(this.timer)
    this.timer = null
  }
}
