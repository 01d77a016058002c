// The settlement history and Dashboard IPC through the real dispatcher over the real services (createServices with
// an in-process ledger holding every registered module, seeded with the README fleet): keyset paging visits every
// row once in each sort order, each filter narrows to exactly the matching rows, the search finds a hash prefix and
// a full hash, the detail has legs and append-only notes, the CSV carries the filter and its dictionary, the
// Dashboard sums the periods exactly, a booking pushes `settlements.changed`, and a worklist resolution (who, when,
// note, refund reference) is part of the detail.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import type { EventName, Result } from '../../src-shared/ipc/contract'
import type {
  DashboardSummaryView,
  SettlementCsvView,
  SettlementDetailView,
  SettlementNoteView,
  SettlementPageView,
} from '../../src-shared/ipc/settlements'
import { hashOf, readmeRecord, seedReadme, T0_MS } from '../accounting/test-support'
import { createAppLog } from '../app-log'
import { createDispatcher, type Dispatch } from '../ipc'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import { createServices, type Services } from '../services'
import { countSettlements, csvField, listSettlements, majorToMinor } from './query'

const caller = { transport: 'ws', caller: 'test' } as const
const clock = manualClock(T0_MS + 3_600_000)
let dir: string
let services: Services
let ledger: InProcessLedger
let d: Dispatch
const appLog = createAppLog()
const pushed: Array<{ event: EventName; payload: unknown }> = []
let onPush: (() => void) | null = null

const ok = <T>(r: Result<unknown>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`)
  return r.value as T
}
const list = async (args: Record<string, unknown> = {}) =>
  ok<SettlementPageView>(await d('settlements.list', [args], caller))

/** 30 settlements: every 3rd a cash-in, #7 a partial dispense (refund due), one per minute from T0. */
const N = 30
const ids: number[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'settlements-'))
  services = await createServices({
    runtime: 'node',
    dataDir: dir,
    appLog,
    emit: (event, payload) => {
      pushed.push({ event, payload })
      if (event === 'settlements.changed') onPush?.()
    },
    clock,
    openLedger: async (o) => {
      ledger = await openLedgerInProcess({ dir: o.dir, autoSnapshot: false })
      return ledger
    },
  })
  await services.ledgerReady
  await seedReadme(ledger)
  for (let i = 1; i <= N; i++) {
    const over: Record<string, unknown> = { bookedAtMs: T0_MS + i * 60_000, atmEventId: `ev-${i}` }
    if (i % 3 === 0)
      Object.assign(over, { direction: 'cash_in', fiatMinor: String(10_000 * i), wireMsat: String(1_000_000 * i) })
    else Object.assign(over, { fiatMinor: '200000', wireMsat: String(266_800_000 + i) })
    if (i === 7) Object.assign(over, { fiatMinor: '150000', fiatRequestedMinor: '200000' })
    const r = await ledger.call<{ settlementId: number }>('accounting.bookSettlement', readmeRecord(i, over))
    ids.push(r.settlementId)
  }
  d = createDispatcher(services.handlers, appLog.log)
}, 60_000)
afterAll(async () => {
  await services?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('settlements.list', () => {
  it('pages newest first with a keyset cursor, visiting every settlement exactly once', async () => {
    const seen: number[] = []
    let after: string | undefined
    let first: SettlementPageView | undefined
    for (let guard = 0; guard < 10; guard++) {
      const p = await list({ limit: 7, ...(after ? { after } : {}) })
      first ??= p
      seen.push(...p.rows.map((r) => r.id))
      if (!p.next) break
      after = p.next
    }
    expect(seen).toEqual([...ids].reverse())
    expect(ok(await d('settlements.count', [{}], caller))).toEqual({ count: N, capped: false, cap: 10_000 })
    expect(ok(await d('settlements.count', [{ filter: { direction: 'cash_in' } }], caller))).toMatchObject({
      count: 10,
    })
    expect(first?.rows[0]).toMatchObject({ machineId: 'atm-1', machineName: 'Lobby', currency: 'GTQ' })
  })

  it('sorts by fiat ascending with ties broken by id, across pages', async () => {
    const a = await list({ sort: 'fiat_asc', limit: 5 })
    const b = await list({ sort: 'fiat_asc', limit: 5, after: a.next })
    const fiats = [...a.rows, ...b.rows].map((r) => BigInt(r.fiatMinor))
    expect(fiats).toEqual([...fiats].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)))
    expect(fiats[0]).toBe(30_000n)
    // A cursor of one order is refused in another, naming the argument.
    const wrong = await d('settlements.list', [{ sort: 'booked_desc', after: a.next }], caller)
    expect(wrong).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].after' } })
  })

  it('filters by direction, date range, refund due, LP and amount', async () => {
    const cashIn = await list({ filter: { direction: 'cash_in' }, limit: 100 })
    expect(cashIn.rows.length).toBe(10)
    expect(cashIn.rows.every((r) => r.direction === 'cash_in')).toBe(true)

    const range = await list({ filter: { fromMs: T0_MS + 5 * 60_000, toMs: T0_MS + 10 * 60_000 }, limit: 100 })
    expect(range.rows.map((r) => r.id)).toEqual([ids[8], ids[7], ids[6], ids[5], ids[4]])

    const refunds = await list({ filter: { refundDue: true } })
    expect(refunds.rows.map((r) => r.id)).toEqual([ids[6]])
    expect(refunds.rows[0]?.refundDue).toBe(true)

    // The flow LP takes a share of every cash-out.
    const lp = await list({ filter: { lpId: 'lp-a' }, limit: 100 })
    expect(lp.rows.length).toBeGreaterThan(0)
    expect(lp.rows.every((r) => r.direction === 'cash_out')).toBe(true)

    const amount = await list({ filter: { minAmount: '1000', maxAmount: '1500,00' }, limit: 100 })
    expect(amount.rows.map((r) => r.fiatMinor).sort()).toEqual(['120000', '150000', '150000'])

    const none = await list({ filter: { status: 'errored' } })
    expect(none.rows).toEqual([])
    const bad = await d('settlements.list', [{ filter: { fromMs: 10, toMs: 5 } }], caller)
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].filter.toMs' } })
    const inverted = await d('settlements.list', [{ filter: { minAmount: '20', maxAmount: '10' } }], caller)
    expect(inverted).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].filter.maxAmount' } })
  })

  it('finds a settlement by full payment hash and by a hash prefix; an unknown search finds nothing', async () => {
    const full = await list({ filter: { search: hashOf(12) } })
    expect(full.rows.map((r) => r.id)).toEqual([ids[11]])
    const prefix = await list({ filter: { search: hashOf(12).slice(0, 62) } })
    expect(prefix.rows.map((r) => r.id)).toContain(ids[11])
    const nothing = await list({ filter: { search: 'no-such-tx' } })
    expect(nothing).toEqual({ rows: [], next: null })
    expect(ok(await d('settlements.count', [{ filter: { search: 'no-such-tx' } }], caller))).toMatchObject({ count: 0 })
  })
})

describe('the two ways a filter is read', () => {
  // A filter with few matches drives the query from its own index; one with many is tested along the list's
  // order. Which one a request takes depends on the ledger's size, so both are forced here and must agree.
  const filters: Record<string, Record<string, unknown>> = {
    lp: { lpId: 'lp-a' },
    lpAndMachine: { lpId: 'lp-a', machineId: 'atm-1' },
    refundDue: { refundDue: true },
    refundDueCashOut: { refundDue: true, direction: 'cash_out' },
    feeMismatch: { feeMismatch: true },
    amount: { minAmount: '1000', maxAmount: '2000' },
    amountAndRange: { minAmount: '100', fromMs: T0_MS + 5 * 60_000, toMs: T0_MS + 25 * 60_000 },
    amountLpStatus: { minAmount: '1', lpId: 'lp-a', status: 'pending' },
    search: { search: hashOf(12), direction: 'cash_in' },
  }
  for (const [name, filter] of Object.entries(filters))
    it(`answers the same rows and count either way: ${name}`, async () => {
      for (const sort of ['booked_desc', 'fiat_asc', 'msat_desc'] as const) {
        const pages = async (driveBelow: number) => {
          const got: number[] = []
          let after: string | undefined
          for (let guard = 0; guard < 20; guard++) {
            const p = await listSettlements(
              ledger,
              { filter, sort, limit: 4, ...(after ? { after } : {}) },
              { driveBelow },
            )
            got.push(...p.rows.map((r) => r.id))
            if (!p.next) break
            after = p.next
          }
          return got
        }
        const walked = await pages(0)
        const driven = await pages(1_000_000)
        expect(driven).toEqual(walked)
        expect(await countSettlements(ledger, filter, { driveBelow: 1_000_000 })).toEqual(
          await countSettlements(ledger, filter, { driveBelow: 0 }),
        )
        if (name === 'lp' || name === 'amount' || name === 'refundDue') expect(walked.length).toBeGreaterThan(0)
      }
    })
})

describe('settlements.get and addNote', () => {
  it('answers the record fields, the legs with their state, and badges that say what is missing', async () => {
    const id = ids[6] as number
    const s = ok<SettlementDetailView>(await d('settlements.get', [{ settlementId: id }], caller))
    expect(s.row.id).toBe(id)
    expect(s.fiatRequestedMinor).toBe('200000')
    expect(s.result).not.toBeNull()
    expect(s.legs.map((l) => l.kind)).toEqual(expect.arrayContaining(['platform_fee', 'split', 'lp', 'refund_due']))
    expect(s.legs.find((l) => l.kind === 'refund_due')?.state).toBe('refund_owed')
    expect(s.legs.find((l) => l.kind === 'lp' && l.recipientId === 'lp-a')?.recipientName).toBe('Ana')
    // Booked directly (no relay record): the badges say so rather than claim anything.
    expect(s.badges.signature.state).toBe('missing')
    expect(s.badges.wallet.state).toBe('missing')
    expect(s.badges.receipt.state).toBe('missing')
    const missing = await d('settlements.get', [{ settlementId: 999_999 }], caller)
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found', field: 'args[0].settlementId' } })
  })

  it('appends notes with author and time, in order, and refuses control characters', async () => {
    const id = ids[0] as number
    const n1 = ok<SettlementNoteView>(
      await d('settlements.addNote', [{ settlementId: id, text: 'Called the customer' }], caller),
    )
    clock.advanceMs(1000)
    ok(await d('settlements.addNote', [{ settlementId: id, text: 'Second\nline' }], caller))
    const s = ok<SettlementDetailView>(await d('settlements.get', [{ settlementId: id }], caller))
    const mine = s.notes.filter((n) => !n.system)
    expect(mine.map((n) => n.text)).toEqual(['Called the customer', 'Second\nline'])
    expect(mine[0]).toMatchObject({ id: n1.id, author: 'operator', createdAtMs: n1.createdAtMs })
    const bidi = await d('settlements.addNote', [{ settlementId: id, text: 'evil\u202e' }], caller)
    expect(bidi).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].text' } })
    const nowhere = await d('settlements.addNote', [{ settlementId: 999_999, text: 'x' }], caller)
    expect(nowhere).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })
})

describe('settlements.csv', () => {
  it('exports the current filter with a header, exact amounts and a column dictionary', async () => {
    const c = ok<SettlementCsvView>(await d('settlements.csv', [{ filter: { direction: 'cash_in' } }], caller))
    const lines = c.csv.trim().split('\r\n')
    expect(lines[0]?.startsWith('settlement_id,booked_at_utc,local_day,machine_id')).toBe(true)
    expect(c.rows).toBe(10)
    expect(lines.length).toBe(11)
    expect(lines[1]).toContain(',cash_in,')
    expect(lines[1]).toContain(',GTQ,3000.00,')
    expect(c.truncated).toBe(false)
    expect(c.dictionaryCsv.split('\r\n')[0]).toBe('column,meaning')
    expect(c.dictionaryCsv).toContain('wire_msat,')
    expect(c.fileName).toMatch(/^settlements-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.csv$/)
  })

  it('quotes separators and defuses spreadsheet formulas', () => {
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`)
    expect(csvField('-5')).toBe('-5')
  })

  it('rounds typed amounts toward the inside of the range per currency exponent', () => {
    expect(majorToMinor('12.5', 'EUR', 'up')).toBe(1250n)
    expect(majorToMinor('12.5', 'JPY', 'up')).toBe(13n)
    expect(majorToMinor('12.5', 'JPY', 'down')).toBe(12n)
    expect(majorToMinor('12,345', 'BHD', 'down')).toBe(12345n)
  })
})

describe('dashboard.summary', () => {
  it('sums today per direction exactly, with commission, LP distributions, charts and worklist counts', async () => {
    const s = ok<DashboardSummaryView>(await d('dashboard.summary', [{}], caller))
    const today = s.periods.find((p) => p.period === 'today')!
    const out = today.totals.find((t) => t.direction === 'cash_out')!
    const inn = today.totals.find((t) => t.direction === 'cash_in')!
    expect(out.count).toBe(20)
    expect(inn.count).toBe(10)
    // 19 × 2,000.00 + one partial dispense of 1,500.00 GTQ.
    expect(out.fiatMinor).toBe(String(19 * 200_000 + 150_000))
    expect(inn.fiatMinor).toBe(String([3, 6, 9, 12, 15, 18, 21, 24, 27, 30].reduce((a, i) => a + 10_000 * i, 0)))
    expect(BigInt(today.platformFeeMsat)).toBeGreaterThan(0n)
    expect(BigInt(today.operatorFeeMsat)).toBeGreaterThan(0n)
    expect(today.splits.length).toBeGreaterThan(0)
    expect(today.lps.map((l) => l.name)).toContain('Ana')
    expect(s.perDay.reduce((a, x) => a + x.count, 0)).toBe(30)
    expect(s.perMachine).toEqual([
      expect.objectContaining({ machineId: 'atm-1', name: 'Lobby', cashOutCount: 20, cashInCount: 10 }),
    ])
    expect(s.commissionPerDay.length).toBe(1)
    expect(s.worklist.refunds).toBe(1)
    expect(s.wallet.error).toMatch(/No operator wallet/)
  })

  it('pushes settlements.changed after a booking', async () => {
    const pushedNow = new Promise<void>((res) => {
      onPush = res
    })
    await ledger.call('accounting.bookSettlement', readmeRecord(500, { bookedAtMs: T0_MS + 40 * 60_000 }))
    await pushedNow
    const ev = pushed.filter((p) => p.event === 'settlements.changed').at(-1)
    expect(ev?.payload).toMatchObject({ version: expect.any(String) })
    expect((await list({ limit: 1 })).rows[0]?.paymentHash).toBe(hashOf(500))
  })
})

describe('settlements.get after the worklist', () => {
  it('shows a refund handed back with its reference, author, time and note', async () => {
    const id = ids[6] as number
    ok(
      await d(
        'worklist.resolve',
        [{ settlementId: id, kind: 'refund_due', reference: 'R-0007', note: 'Cash handed back at the counter' }],
        caller,
      ),
    )
    const s = ok<SettlementDetailView>(await d('settlements.get', [{ settlementId: id }], caller))
    expect(s.legs.find((l) => l.kind === 'refund_due')?.state).toBe('refund_handed_back')
    expect(s.resolutions).toEqual([
      {
        kind: 'refund_due',
        author: 'operator',
        note: 'Cash handed back at the counter',
        reference: 'R-0007',
        atMs: clock.nowMs(),
      },
    ])
    // A settlement nothing was resolved on says so with an empty list.
    const other = ok<SettlementDetailView>(await d('settlements.get', [{ settlementId: ids[1] as number }], caller))
    expect(other.resolutions).toEqual([])
  })
})
