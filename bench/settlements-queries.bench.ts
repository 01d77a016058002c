// Where the settlements view's time goes on the main side at 1,000,000 settlements (issue 9): every query the list,
// the count and the detail drawer send to the ledger, for each filter alone and in the pairs an operator combines,
// with its EXPLAIN QUERY PLAN and its time (min/median/max over several runs), the JSON size of a page, and how
// long opening the ledger (with its migrations, e.g. the history's indexes built on a million rows) takes.
// It opens the ledger in this process (no worker, no bridge): the UI bench (./settlements-ui.bench.ts) times the
// same calls through the bridge in Chromium; this one says which statement costs what and why.
//
// `npm run bench -- bench/settlements-queries.bench.ts --data-dir DIR` (or SETTLEMENTS_BENCH_DIR=DIR; skipped
// without one): a data directory seeded by `satmachine demo-seed` or by the UI bench. Only migrations not yet
// applied are written to it. It must not be open in a running console (the ledger's lock).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import initSqlJs from 'sql.js'
import { expect, it } from 'vitest'
import type { SettlementFilter, SettlementSort } from '../src-shared/ipc/settlements'
import '../src-main/ledger/registry'
import { openLedgerInProcess } from '../src-main/ledger/store'
import type { LedgerStore, Row, SqlParams } from '../src-main/ledger/types'
import { countSettlements, getSettlement, listSettlements } from '../src-main/settlements/query'
import { recordBench, spread } from './lib'

const RUNS = 7

const dataDir = (): string | undefined => process.env.SETTLEMENTS_BENCH_DIR

interface Seen {
  sql: string
  plan: string[]
  ms: number[]
}

/** A LedgerStore that times every query and records its plan once. */
function tracing(ledger: LedgerStore, seen: Seen[]): LedgerStore {
  return {
    ...ledger,
    query: async <T extends Row = Row>(sql: string, params?: SqlParams, o?: { bigint?: boolean }) => {
      const t0 = performance.now()
      const rows = await ledger.query<T>(sql, params, o)
      const ms = performance.now() - t0
      const key = sql.replace(/\s+/g, ' ').trim()
      let s = seen.find((x) => x.sql === key)
      if (!s) {
        const plan = await ledger.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)
        s = { sql: key, plan: plan.map((p) => p.detail), ms: [] }
        seen.push(s)
      }
      s.ms.push(ms)
      return rows
    },
  }
}

const dir = dataDir()

/**
 * What migration 1790 costs at this size: the newest snapshot loaded into a separate sql.js database (as the
 * ledger does at open) and the index built on it again under another name. Snapshots are a 64-byte header and
 * the SQLite file (src-main/ledger/files.ts).
 */
async function migration1790Ms(ledgerDir: string): Promise<{ loadMs: number; createIndexMs: number }> {
  const snap = readdirSync(ledgerDir)
    .filter((f) => /^snapshot-\d{16}\.sqlite$/.test(f))
    .sort()
    .at(-1)
  if (!snap) throw new Error(`no snapshot in ${ledgerDir}`)
  const SQL = await initSqlJs()
  const t0 = performance.now()
  const db = new SQL.Database(readFileSync(join(ledgerDir, snap)).subarray(64))
  const loadMs = Math.round(performance.now() - t0)
  try {
    const t1 = performance.now()
    db.run('CREATE INDEX bench_mismatch_booked ON acct_settlement (booked_at_ms, id) WHERE fee_mismatch_flagged = 1')
    return { loadMs, createIndexMs: Math.round(performance.now() - t1) }
  } finally {
    db.close()
  }
}

it.skipIf(!dir || !existsSync(join(dir, 'ledger')))(
  'settlements queries at 1M: plans and times per filter',
  async () => {
    const migration =
      process.env.SETTLEMENTS_BENCH_MIGRATION === '0' ? null : await migration1790Ms(join(dir!, 'ledger'))
    const tOpen = performance.now()
    const ledger = await openLedgerInProcess({ dir: join(dir!, 'ledger'), autoSnapshot: false })
    const openMs = Math.round(performance.now() - tOpen)
    try {
      const n = Number((await ledger.query<{ n: number }>('SELECT MAX(id) AS n FROM acct_settlement'))[0]?.n ?? 0)
      const top = (await listSettlements(ledger, { limit: 50 })).rows[0]!
      const [lp] = await ledger.query<{ id: string }>('SELECT id FROM acct_lp ORDER BY id LIMIT 1')
      const monthFrom = Date.UTC(2026, 5, 1)
      const monthTo = Date.UTC(2026, 6, 1)
      const single: Record<string, SettlementFilter> = {
        none: {},
        machine: { machineId: top.machineId },
        direction: { direction: 'cash_in' },
        statusErrored: { status: 'errored' },
        statusProcessed: { status: 'processed' },
        dateRange: { fromMs: monthFrom, toMs: monthTo },
        oneDay: { fromMs: monthFrom, toMs: monthFrom + 86_400_000 },
        lp: lp ? { lpId: lp.id } : {},
        amountRange: { minAmount: '100', maxAmount: '200' },
        amountLarge: { minAmount: '1000' },
        feeMismatch: { feeMismatch: true },
        refundDue: { refundDue: true },
        searchHash: { search: top.paymentHash },
        searchPrefix: { search: top.paymentHash.slice(0, 12) },
        searchTx: { search: 'no-such-atm-tx' },
      }
      const pairs: Record<string, SettlementFilter> = {
        machineDirection: { machineId: top.machineId, direction: 'cash_in' },
        machineStatus: { machineId: top.machineId, status: 'errored' },
        machineMonth: { machineId: top.machineId, fromMs: monthFrom, toMs: monthTo },
        directionMonth: { direction: 'cash_in', fromMs: monthFrom, toMs: monthTo },
        machineLp: { machineId: top.machineId, ...(lp ? { lpId: lp.id } : {}) },
        machineFeeMismatch: { machineId: top.machineId, feeMismatch: true },
        machineRefundDue: { machineId: top.machineId, refundDue: true },
        monthFeeMismatch: { fromMs: monthFrom, toMs: monthTo, feeMismatch: true },
        monthRefundDue: { fromMs: monthFrom, toMs: monthTo, refundDue: true },
        lpRefundDue: { ...(lp ? { lpId: lp.id } : {}), refundDue: true },
        amountMonth: { minAmount: '100', maxAmount: '200', fromMs: monthFrom, toMs: monthTo },
        directionAmount: { direction: 'cash_out', minAmount: '500' },
        feeMismatchRefundDue: { feeMismatch: true, refundDue: true },
        everything: {
          machineId: top.machineId,
          direction: 'cash_out',
          status: 'processed',
          fromMs: monthFrom,
          toMs: monthTo,
          minAmount: '10',
        },
      }
      const sorts: SettlementSort[] = ['booked_desc', 'fiat_desc', 'msat_asc']
      const out: Record<string, unknown> = {}
      let worstList = 0
      let worstCount = 0
      for (const [name, filter] of Object.entries({ ...single, ...pairs })) {
        for (const sort of name in single || name === 'machineMonth' ? sorts : (['booked_desc'] as const)) {
          const seen: Seen[] = []
          const t = tracing(ledger, seen)
          const listMs: number[] = []
          const countMs: number[] = []
          let rows = 0
          let count = ''
          let bytes = 0
          for (let i = 0; i < RUNS; i++) {
            const t0 = performance.now()
            const p = await listSettlements(t, { filter, sort, limit: 50 })
            listMs.push(performance.now() - t0)
            rows = p.rows.length
            bytes = JSON.stringify(p).length
            if (sort === 'booked_desc') {
              const t1 = performance.now()
              const c = await countSettlements(t, filter)
              countMs.push(performance.now() - t1)
              count = c.capped ? `>${c.cap}` : String(c.count)
            }
          }
          const l = spread(listMs)
          worstList = Math.max(worstList, l.max)
          const c = countMs.length ? spread(countMs) : null
          if (c) worstCount = Math.max(worstCount, c.max)
          out[`${name}/${sort}`] = {
            filter,
            rows,
            count,
            pageJsonBytes: bytes,
            listMs: { min: l.min, median: l.median, max: l.max },
            ...(c ? { countMs: { min: c.min, median: c.median, max: c.max } } : {}),
            queries: seen.map((s) => ({ sql: s.sql.slice(0, 160), plan: s.plan, ...pick(spread(s.ms)) })),
          }
          console.log(
            `[queries] ${name}/${sort}: rows ${rows} count ${count} list ${l.median}/${l.max} ms` +
              (c ? ` count ${c.median}/${c.max} ms` : ''),
          )
        }
      }
      // The drawer's call, for rows across the history.
      const drawerMs: number[] = []
      const drawerSeen: Seen[] = []
      const td = tracing(ledger, drawerSeen)
      for (let i = 0; i < RUNS; i++) {
        const id = Math.max(1, Math.floor((n * (i + 0.5)) / RUNS))
        const t0 = performance.now()
        await getSettlement(td, id, undefined)
        drawerMs.push(performance.now() - t0)
      }
      // The worklist tab's call shares the one ledger worker with the list: how long it holds it.
      const worklistMs: Record<string, ReturnType<typeof pick>> = {}
      for (const [proc, args] of [
        ['accounting.worklist', { nowMs: Date.now(), stuckMinutes: 30 }],
        ['payouts.worklist', {}],
        ['payouts.waitingRecipients', {}],
      ] as const) {
        const times: number[] = []
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now()
          await ledger.call(proc, args)
          times.push(performance.now() - t0)
        }
        worklistMs[proc] = pick(spread(times))
      }
      const result = {
        settlements: n,
        worklistProceduresMs: worklistMs,
        dataDir: dir,
        openLedgerMs: openMs,
        migration1790: migration,
        note:
          'in-process (no worker, no bridge, no JSON): the statement cost alone; the UI bench adds the ledger worker ' +
          'round trip, the WebSocket bridge and rendering',
        worstListMs: worstList,
        worstCountMs: worstCount,
        drawer: {
          ms: pick(spread(drawerMs)),
          queries: drawerSeen.map((s) => ({ sql: s.sql.slice(0, 160), plan: s.plan, ...pick(spread(s.ms)) })),
        },
        filters: out,
      }
      recordBench('settlements-ui-queries', result)
      expect(worstList).toBeGreaterThan(0)
    } finally {
      await ledger.close()
    }
  },
  1_800_000,
)

function pick(s: ReturnType<typeof spread>) {
  return { min: s.min, median: s.median, max: s.max }
}
