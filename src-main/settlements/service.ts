// The settlement history and Dashboard service (issue 9): the `settlements.list/get/addNote/csv` and
// `dashboard.summary` IPC handlers (shapes in src-shared/ipc/settlements.ts), and the live push
// `settlements.changed`, so no screen needs a Refresh button.
//
// The push watches the ledger: every committed transaction moves its sequence number (reported, throttled, by
// the store's status listener); the service then reads a small fingerprint of the history — newest settlement,
// newest status change, newest paid leg, newest note, newest payout event and receipt attempt, newest record
// outcome — each a lookup on an index or a rowid, and emits only when it moved. Relay-cursor writes and other
// unrelated commits therefore cost one tiny query and reach no screen.
import { nowSec } from '../../src-shared/clock'
import type { Handlers } from '../../src-shared/ipc/contract'
import type { DashboardSummaryView, SettlementNoteView } from '../../src-shared/ipc/settlements'
import { delegationWarnings, type FleetPartsSlot, loadDelegationViews } from '../fleet/pairing-service'
import type { LedgerStore } from '../ledger/types'
import { toApiError } from '../lps/service'
import type { ServiceContext } from '../service-context'
import { dashboardSummary } from './dashboard'
import { getSettlement, listSettlements, settlementsCsv } from './query'

type SettlementMethods =
  | 'settlements.list'
  | 'settlements.get'
  | 'settlements.addNote'
  | 'settlements.csv'
  | 'dashboard.summary'

/** Who writes a note from the console's UI (the same author the worklist actions record). */
const AUTHOR = 'operator'
/** get_balance is asked at most this often; the Dashboard reloads on every change. */
const BALANCE_TTL_MS = 30_000
const BALANCE_TIMEOUT_MS = 8_000
const BALANCE_RETRY_MS = 5_000
/** Changes are coalesced over this window before the fingerprint is read. */
const CHANGE_DEBOUNCE_MS = 200

export interface SettlementsWiring {
  /** The running fleet feature's parts (operator wallet client, fleet service), or null while it is inert. */
  fleet?: FleetPartsSlot
}

async function hasTable(ledger: LedgerStore, name: string): Promise<boolean> {
  return (await ledger.query(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`, [name])).length > 0
}

/** A string that changes whenever the settlement history (or what its screens show) changes. */
export async function historyFingerprint(ledger: LedgerStore): Promise<string> {
  const opt = async (table: string, expr: string) =>
    (await hasTable(ledger, table)) ? `(SELECT ${expr} FROM ${table})` : 'NULL'
  const sql = `SELECT (SELECT MAX(id) FROM acct_settlement) AS a, (SELECT MAX(status_changed_at_ms) FROM acct_settlement) AS b,
    (SELECT MAX(paid_at_ms) FROM acct_leg) AS c, (SELECT MAX(id) FROM acct_note) AS d,
    (SELECT MAX(id) FROM acct_worklist_ack) AS e, ${await opt('payout_event', 'MAX(id)')} AS f,
    ${await opt('rcpt_attempt', 'MAX(id)')} AS g, ${await opt('fleet_record_outcome', 'MAX(id)')} AS h,
    ${await opt('payout_alert', 'MAX(id)')} AS i`
  const [r] = await ledger.query(sql)
  return Object.values(r ?? {})
    .map((v) => (v === null ? '-' : String(v)))
    .join('.')
}

export function settlementsHandlers(
  ctx: ServiceContext,
  wiring: SettlementsWiring = {},
): Pick<Handlers, SettlementMethods> {
  const log = ctx.log.child('settlements')
  const now = () => ctx.clock.nowMs()

  // ---- live push ----------------------------------------------------------------------------------------------
  let lastPrint: string | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  let checking = false
  let again = false
  let closed = false
  const check = async (ledger: LedgerStore) => {
    if (checking) {
      again = true
      return
    }
    checking = true
    try {
      const print = await historyFingerprint(ledger)
      if (print !== lastPrint) {
        const first = lastPrint === null
        lastPrint = print
        if (!first) ctx.emit('settlements.changed', { version: print, atMs: now() })
      }
    } catch (e) {
      log.debug('change check failed', { reason: (e as Error).message })
    } finally {
      checking = false
      if (again && !closed) {
        again = false
        schedule(ledger)
      }
    }
  }
  const schedule = (ledger: LedgerStore) => {
    if (timer || closed) return
    timer = setTimeout(() => {
      timer = undefined
      void check(ledger)
    }, CHANGE_DEBOUNCE_MS)
  }
  void ctx.ledgerReady.then(() => {
    let ledger: LedgerStore
    try {
      ledger = ctx.ledger()
    } catch {
      return
    }
    let seq = -1
    void check(ledger)
    const off = ledger.onStatus((st) => {
      if (st.seq === seq) return
      seq = st.seq
      schedule(ledger)
    })
    ctx.onClose(() => {
      closed = true
      off()
      if (timer) clearTimeout(timer)
    })
  })

  // ---- wallet balance (cached) ---------------------------------------------------------------------------------
  let balance: DashboardSummaryView['wallet'] = { balanceMsat: null, error: null, checkedAtMs: null }
  let balanceInFlight: Promise<void> | null = null
  const refreshBalance = async (): Promise<void> => {
    const parts = wiring.fleet?.current() ?? null
    if (!parts) {
      balance = { balanceMsat: null, error: 'No operator wallet is connected yet.', checkedAtMs: now() }
      return
    }
    let t: ReturnType<typeof setTimeout> | undefined
    try {
      const msat = await Promise.race([
        parts.nwc.getBalance(),
        new Promise<never>((_, rej) => {
          t = setTimeout(() => rej(new Error('the wallet did not answer in time')), BALANCE_TIMEOUT_MS)
        }),
      ])
      balance = { balanceMsat: msat.toString(), error: null, checkedAtMs: now() }
    } catch (e) {
      balance = {
        balanceMsat: null,
        error: `The wallet did not give its balance: ${(e as Error).message}`,
        checkedAtMs: now(),
      }
    } finally {
      if (t) clearTimeout(t)
    }
  }

  return {
    'settlements.list': async (a) => listSettlements(ctx.ledger(), a),
    'settlements.get': async ({ settlementId }) =>
      getSettlement(ctx.ledger(), settlementId, ctx.settings.get().operatorPubkey),
    'settlements.addNote': async ({ settlementId, text }): Promise<SettlementNoteView> => {
      const atMs = now()
      try {
        const r = await ctx.ledger().call<{ noteId: number }>('accounting.addNote', {
          settlementId,
          text,
          author: AUTHOR,
          atMs,
        })
        log.info('settlement note added', { settlementId, noteId: r.noteId })
        return { id: r.noteId, author: AUTHOR, system: false, text, createdAtMs: atMs }
      } catch (e) {
        throw toApiError(e)
      }
    },
    'settlements.csv': async (a) => {
      const r = await settlementsCsv(ctx.ledger(), a, now())
      log.info('settlements exported', { rows: r.rows, truncated: r.truncated })
      return r
    },
    'dashboard.summary': async ({ balance: wantBalance }) => {
      const ledger = ctx.ledger()
      const parts = wiring.fleet?.current() ?? null
      // A failure (no wallet yet, no answer) is asked again sooner than a good balance is refreshed.
      const ttl = balance.error === null ? BALANCE_TTL_MS : BALANCE_RETRY_MS
      if (wantBalance !== false && (balance.checkedAtMs === null || now() - balance.checkedAtMs > ttl)) {
        balanceInFlight ??= refreshBalance().finally(() => {
          balanceInFlight = null
        })
        await balanceInFlight
      }
      const [machines, delegations] = await Promise.all([
        parts ? parts.fleet.machines() : Promise.resolve([]),
        loadDelegationViews(ledger, ctx.settings.get().operatorPubkey, nowSec(ctx.clock)).then(delegationWarnings),
      ])
      return dashboardSummary({
        ledger,
        nowMs: now(),
        timeZone: ctx.settings.get().timeZone,
        machines,
        delegations,
        wallet: wantBalance === false ? { balanceMsat: null, error: null, checkedAtMs: null } : balance,
      })
    },
  }
}
