// The quarterly audit report as one self-contained HTML page (docs/audit-export.md "The report"), printed to PDF by
// Chromium (Electron's printToPDF in the app, headless Chromium on the command line). Pure string building: every
// figure comes from the CSV tables and the summary lines the export wrote, so the PDF cannot show a number the
// files do not hold. Sections: provenance, tie-out, transaction ledger, payouts register, one statement per LP,
// cash per machine, wallet reconciliation, exceptions, configuration changes, appendices (column dictionary,
// machines, LPs, file hashes, verification recipe). Totals are printed as plain integers next to their metric
// name so that text extracted from the PDF can be compared with summary.csv.
import { npubEncode } from 'nostr-tools/nip19'
import { currencyExponent, formatMinor } from '../../money/iso4217'
import type { Manifest } from './manifest'
import type { AuditData } from './model'
import { type CsvTable, TABLES, type TableSpec } from './tables'
import { type SummaryLine, summaryValue } from './totals'

/** Charts drawn by the UI's chart library as SVG strings; the report places them on the tie-out page. */
export type ChartSeam = (input: {
  data: AuditData
  summary: readonly SummaryLine[]
}) => { title: string; svg: string }[]

export interface ReportInput {
  data: AuditData
  tables: readonly CsvTable[]
  summary: readonly SummaryLine[]
  manifest: Manifest
  manifestSha256: string
  generatedAtMs: number
  draft: boolean
  charts?: ChartSeam
  /** Table rows per print part (default ROWS_PER_PART); see `renderReport`. */
  rowsPerPart?: number
}

/**
 * Table rows per print part. Chromium's time to lay out and print one table grows faster than its row count
 * (measured on the 10k quarter: about 4 ms a row in parts of 1,000 rows, 10 ms a row at 4,000, and at ~100,000 rows
 * printToPDF fails), so the report is printed in parts of about this many rows and the PDFs joined.
 */
export const ROWS_PER_PART = 1000

export const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)

const npub = (hex: string | null): string => {
  if (!hex) return 'not recorded'
  try {
    return npubEncode(hex)
  } catch {
    return hex
  }
}

/** msat as BTC with 8 decimals (floor to the sat; the msat figure is printed beside it). */
export function btc(msat: bigint): string {
  const neg = msat < 0n
  const sats = (neg ? -msat : msat) / 1000n
  const s = sats.toString().padStart(9, '0')
  return `${neg ? '-' : ''}${s.slice(0, -8)}.${s.slice(-8)}`
}

const CSS = `
@page { size: A4; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 8.5pt; color: #111; margin: 0; }
h1 { font-size: 18pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 0 0 3mm; border-bottom: 1px solid #999; padding-bottom: 1mm; }
h3 { font-size: 10pt; margin: 4mm 0 2mm; }
section { break-before: page; }
section.first, body > section:first-of-type { break-before: auto; }
p { margin: 1mm 0 2mm; line-height: 1.35; }
table { border-collapse: collapse; width: 100%; margin-bottom: 3mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 0.5px solid #bbb; padding: 0.6mm 1mm; text-align: left; vertical-align: top; }
th { background: #eee; font-weight: bold; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.t { white-space: nowrap; }
table.dense { font-size: 6.4pt; }
table.dense td, table.dense th { padding: 0.3mm 0.6mm; }
.mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 7pt; word-break: break-all; }
dl.kv { display: grid; grid-template-columns: 48mm 1fr; gap: 0.8mm 3mm; margin: 0 0 3mm; }
dl.kv dt { font-weight: bold; }
dl.kv dd { margin: 0; }
.muted { color: #555; }
.ok { color: #0a6b2d; font-weight: bold; }
.bad { color: #b00020; font-weight: bold; }
.watermark { position: fixed; top: 42%; left: 0; right: 0; text-align: center; font-size: 90pt; font-weight: bold;
  color: rgba(176, 0, 32, 0.10); transform: rotate(-30deg); z-index: -1; pointer-events: none; }
.charts { display: flex; flex-wrap: wrap; gap: 4mm; }
.charts figure { margin: 0; width: 88mm; }
.charts figcaption { font-size: 8pt; font-weight: bold; }
ol.recipe li { margin-bottom: 1.5mm; line-height: 1.35; }
`

interface Col {
  head: string
  cell: (r: string[], idx: (name: string) => string) => string
  num?: boolean
  /** Never wrapped (times): one line per row keeps the long tables at a fixed number of rows a page. */
  time?: boolean
}

/**
 * A table. With `split`, a table longer than `split.rows` is cut into slices of that many rows: each later slice
 * closes the section it is in and opens a continuation section (a new page, its own header row), so the report can
 * be printed in parts of bounded size (see `renderReport`). The table must then be the last thing in its section.
 */
function tableHtml(
  cols: readonly Col[],
  rows: readonly string[][],
  header: readonly string[],
  cls = '',
  split?: { title: string; rows: number },
): string {
  const index = new Map(header.map((h, i) => [h, i]))
  const open = [`<table class="${cls}"><thead><tr>`]
  for (const c of cols) open.push(`<th${c.num ? ' class="n"' : ''}>${esc(c.head)}</th>`)
  open.push('</tr></thead><tbody>')
  const head = open.join('')
  const parts: string[] = [head]
  const every = split && split.rows > 0 ? split.rows : Number.POSITIVE_INFINITY
  rows.forEach((r, n) => {
    if (n > 0 && n % every === 0 && split) {
      const to = Math.min(rows.length, n + every)
      parts.push(
        '</tbody></table></section>',
        `<section class="cont"><h3>${esc(split.title)}, continued: rows ${n + 1}–${to} of ${rows.length}</h3>`,
        head,
      )
    }
    const idx = (name: string) => {
      const i = index.get(name)
      return i === undefined ? '' : (r[i] ?? '')
    }
    parts.push('<tr>')
    for (const c of cols)
      parts.push(`<td${c.num ? ' class="n"' : c.time ? ' class="t"' : ''}>${esc(c.cell(r, idx))}</td>`)
    parts.push('</tr>')
  })
  if (rows.length === 0) parts.push(`<tr><td colspan="${cols.length}" class="muted">none in this period</td></tr>`)
  parts.push('</tbody></table>')
  return parts.join('')
}

/** A column showing the one filled `<base>_<CUR>` cell with its currency. */
const fiatCell =
  (base: string, currencies: readonly string[]) =>
  (_r: string[], idx: (name: string) => string): string => {
    for (const cur of currencies) {
      const v = idx(`${base}_${cur}`)
      if (v !== '') return `${v} ${cur}`
    }
    return ''
  }

const col = (head: string, name: string, num = false): Col => ({
  head,
  cell: (_r, idx) => idx(name),
  num,
  time: /_at_utc$|_utc$/.test(name),
})
const short = (head: string, name: string, n = 12): Col => ({
  head,
  cell: (_r, idx) => {
    const v = idx(name)
    return v.length > n ? `${v.slice(0, n)}…` : v
  },
})

function summaryTable(lines: readonly SummaryLine[], filter: (l: SummaryLine) => boolean): string {
  const rows = lines.filter(filter)
  const out = [
    '<table><thead><tr><th>metric</th><th>scope</th><th>unit</th><th class="n">value</th><th class="n">as</th></tr></thead><tbody>',
  ]
  for (const l of rows) {
    let as = ''
    if (l.unit === 'msat') as = `${btc(l.value)} BTC`
    else if (l.unit.startsWith('minor_')) as = `${formatMinor(l.value, l.unit.slice(6))} ${l.unit.slice(6)}`
    out.push(
      `<tr><td>${esc(l.metric)}</td><td>${esc(l.scope)}</td><td>${esc(l.unit)}</td><td class="n">${l.value.toString()}</td><td class="n">${esc(as)}</td></tr>`,
    )
  }
  out.push('</tbody></table>')
  return out.join('')
}

function dictionary(specs: readonly TableSpec[], currencies: readonly string[]): string {
  const out: string[] = []
  const curList = currencies.length > 0 ? currencies.join(', ') : 'none'
  for (const s of specs) {
    out.push(
      `<h3>${esc(s.file)} — ${esc(s.title)}</h3><p>${esc(s.help)}</p><table><thead><tr><th>column</th><th>meaning</th></tr></thead><tbody>`,
    )
    for (const c of s.columns)
      out.push(
        `<tr><td class="mono">${esc(c.fiat ? `${c.name}_<CUR>` : c.name)}</td><td>${esc(c.help)}${c.fiat ? esc(` (one column per currency: ${curList})`) : ''}</td></tr>`,
      )
    out.push('</tbody></table>')
  }
  return out.join('')
}

/** The verification recipe, as printed in the report and in docs/audit-export.md. */
export const VERIFICATION_RECIPE: readonly string[] = [
  'Compute the SHA-256 of manifest.json. For a closed quarter it must equal the manifest hash in the operator\'s kind 3080 attestation (attestation.json, tag "x"); the attestation must be signed by the operator\'s key.',
  "For every file listed in manifest.json, compute its SHA-256 and size; they must equal the manifest's.",
  'Check head.json: a kind 30078 event with d = satmachine:audit-head, a valid signature by the console key named in the manifest, and content {"v":1,"tree_size":N,"root":R,"ledger_seq":S}. The attestation names the same head (tag "e").',
  "Read audit-log.bin (for each entry: a 4-byte big-endian length, then the entry's canonical bytes). There must be N entries; hash each as SHA-256(0x00 || bytes) and build the RFC 6962 Merkle tree; its root must be R.",
  'Decode the entries (docs/audit.md gives the encoding) and, for each settlement, leg, payout, LP entry and deposit row in the CSV files, find the newest entry of that ledger row: the amounts, payment hash, machine and direction must be equal. Every settlement of the period in the log must be in transactions.csv.',
  'In transactions.csv, check per row: platform_fee_msat + operator_fee_msat = commission_msat; for cash_out, principal + commission + refund_due = amount_msat; for cash_in, principal - commission = amount_msat; rate_msat_per_major = floor(amount_msat x 10^exponent / fiat_minor); commission_fiat_minor = floor(commission_msat x fiat_minor / amount_msat); sha256(preimage) = payment_hash.',
  "In legs.csv, for each booked settlement: the legs sum to amount_msat (cash_out) or to commission_msat (cash_in); the platform_fee legs to platform_fee_msat; the split legs to operator_fee_msat; the legs' fiat to fiat_minor.",
  'Check every receipt in receipts.jsonl: a kind 3079 event signed by the console key, whose payment_hash, preimage and amount tags equal its transactions.csv row, and sha256(preimage) = payment_hash. Paid payouts in payouts.csv carry a preimage that hashes to their payment hash.',
  "Walk lp-statements.csv per LP from the opening balance in lp-balances.csv: each balance_after = previous balance + delta; the roll-up's deposits, allocations, dust and closing columns are the sums.",
  'Recompute cash-by-machine.csv and the ledger row of wallet-reconciliation.csv from transactions.csv and payouts.csv, and every line of summary.csv with the formulas in docs/audit-export.md; each must be equal.',
  '`satmachine verify-audit DIR` runs all of the above and names the file, line and column of the first differences.',
]

/** The report as one HTML page (report.html) and as the parts it is printed in, each a complete page too. */
export interface RenderedReport {
  html: string
  parts: string[]
}

export function renderReportHtml(r: ReportInput): string {
  return renderReport(r).html
}

/**
 * Renders the report. Every section starts on a new page, so the report is cut into parts at section starts: a
 * part holds whole sections up to about `rowsPerPart` table rows, and a longer table is itself cut into slices of
 * that many rows, each continued on a new page under its own heading. Printed one by one and joined, the parts give
 * the same pages as the whole page would (plus at most one short page where a table is cut).
 */
export function renderReport(r: ReportInput): RenderedReport {
  const perPart = Math.max(1, Math.floor(r.rowsPerPart ?? ROWS_PER_PART))
  const d = r.data
  const p = d.provenance
  const tbl = new Map(r.tables.map((t) => [t.file, t]))
  const get = (f: string): CsvTable => tbl.get(f) ?? { file: f, header: [], rows: [] }
  const cur = r.manifest.currencies
  const fiat = (base: string, head: string): Col => ({ head, cell: fiatCell(base, cur), num: true })
  const title = `Quarterly audit report ${d.period.quarter}`
  const parts: string[] = []
  parts.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data: file:">`,
    `<style>${CSS}</style></head><body>`,
  )
  if (r.draft) parts.push('<div class="watermark">DRAFT</div>')
  const pageHead = parts.join('\n')
  parts.length = 0

  // 1. Header and provenance.
  const state =
    p.periodState === 'open'
      ? 'open — this is a DRAFT: the quarter is not closed and no operator attestation exists'
      : p.periodState === 'closed'
        ? 'closed (locked; the operator attestation is stored, not yet seen on a relay)'
        : 'closed and attested (the operator attestation is on the relays)'
  parts.push(
    `<section class="first" id="provenance"><h1>${esc(title)}${r.draft ? ' — DRAFT' : ''}</h1>`,
    '<dl class="kv">',
    `<dt>Operator</dt><dd>${esc(p.operatorName ?? 'not recorded')}</dd>`,
    `<dt>Operator key</dt><dd class="mono">${esc(npub(p.operatorPubkey))}</dd>`,
    `<dt>Period</dt><dd>${esc(d.period.quarter)}: ${esc(r.manifest.fromUtc)} to ${esc(r.manifest.untilUtc)} (UTC, end excluded). A transaction belongs to the quarter of its ATM record's creation time; LP and payout entries to the quarter they were booked in.</dd>`,
    `<dt>Operator time zone</dt><dd>${esc(p.timeZone)} (local times and LP days use the zone of the fee configuration in force)</dd>`,
    `<dt>Currencies</dt><dd>${esc(cur.join(', ') || 'none')}</dd>`,
    `<dt>Generated</dt><dd>${esc(new Date(r.generatedAtMs).toISOString())}</dd>`,
    `<dt>Software</dt><dd>Satmachine Console ${esc(p.appVersion)}, ledger schema ${p.schemaVersion}</dd>`,
    `<dt>Rate policy</dt><dd>Fiat is stated at the transaction-time rate: the rate the ATM quoted, implied by the settlement's own amounts (msat paid for the cash). No reference market rate or fixed period rate is applied. Payouts are stated at the rate of the last settlement in the same currency before them.</dd>`,
    `<dt>Rounding</dt><dd>All amounts are integers (msat, fiat minor units). Fees and shares use floor and largest-remainder rounding per leg; the remainder of a split goes to the operator float. Derived rates and fiat equivalents are floored.</dd>`,
    `<dt>Period state</dt><dd>${esc(state)}</dd>`,
    `<dt>Signed head</dt><dd class="mono">${p.headEventId ? `event ${esc(p.headEventId)}, tree size ${p.headTreeSize}, root ${esc(p.headRootHex ?? '')}` : 'none — the console has not signed an audit head yet'}</dd>`,
    `<dt>Console key</dt><dd class="mono">${esc(npub(p.consolePubkey))}</dd>`,
    `<dt>Operator attestation</dt><dd class="mono">${p.attestationEventId ? `kind 3080 event ${esc(p.attestationEventId)}` : 'none (period not closed)'}</dd>`,
    `<dt>Manifest SHA-256</dt><dd class="mono">${esc(r.manifestSha256)}</dd>`,
    '</dl>',
    '<p>The companion files (CSV, receipts, audit log) are listed with their SHA-256 in the appendix. Anyone can check this report against them and against the signatures above with the recipe in the last appendix, or run <span class="mono">satmachine verify-audit</span> on the export folder.</p>',
    '</section>',
  )

  // 2. Tie-out.
  const s = r.summary
  const residual = (dir: string) => summaryValue(s, `${dir}.residual`)
  parts.push(
    '<section id="tie-out"><h2>Summary and tie-out</h2>',
    '<p>Every figure below is a line of summary.csv and is recomputed by the verifier from the other files. The residual of each direction is what the legs do not explain: it must be 0.</p>',
    `<p>Residual cash-out: <b class="${residual('cash_out') === 0n ? 'ok' : 'bad'}">${residual('cash_out')} msat</b>; residual cash-in: <b class="${residual('cash_in') === 0n ? 'ok' : 'bad'}">${residual('cash_in')} msat</b>.</p>`,
  )
  for (const dir of ['cash_out', 'cash_in']) {
    parts.push(
      `<h3>${dir === 'cash_out' ? 'Cash-out (customers sell bitcoin)' : 'Cash-in (customers buy bitcoin)'}: volumes and revenue waterfall</h3>`,
    )
    parts.push(
      summaryTable(
        s,
        (l) =>
          (l.metric.startsWith(`${dir}.`) && l.scope === 'total') ||
          (l.metric.startsWith(`${dir}.legs.split`) && l.scope.startsWith('split:')),
      ),
    )
  }
  parts.push('<h3>Payouts, operator result and LPs</h3>')
  parts.push(summaryTable(s, (l) => /^(payouts|operator|lps|settlements)\./.test(l.metric)))
  parts.push('<h3>Per machine</h3>')
  parts.push(summaryTable(s, (l) => l.scope.startsWith('machine:')))
  const charts = r.charts?.({ data: d, summary: s }) ?? []
  if (charts.length > 0) {
    parts.push('<div class="charts">')
    for (const c of charts) parts.push(`<figure><figcaption>${esc(c.title)}</figcaption>${c.svg}</figure>`)
    parts.push('</div>')
  }
  parts.push('</section>')

  // 3. Transaction ledger.
  const tx = get('transactions.csv')
  parts.push(
    '<section id="transactions"><h2>Transaction ledger</h2>',
    `<p>${tx.rows.length} settlements. Amounts in msat; the complete row (local time, event ids, preimage, fee fractions) is in transactions.csv.</p>`,
    tableHtml(
      [
        col('id', 'settlement_id', true),
        col('created (UTC)', 'created_at_utc'),
        { head: 'machine', cell: (_r, i) => i('machine_name') || i('machine_id').slice(0, 10) },
        col('dir', 'direction'),
        col('status', 'status'),
        col('amount msat', 'amount_msat', true),
        fiat('fiat_minor', 'fiat (minor)'),
        col('rate msat/unit', 'rate_msat_per_major', true),
        col('commission', 'commission_msat', true),
        col('platform', 'platform_fee_msat', true),
        col('operator', 'operator_fee_msat', true),
        col('refund', 'refund_due_msat', true),
        short('payment hash', 'payment_hash'),
        {
          head: 'flags',
          cell: (_r, i) =>
            [
              i('fee_mismatch_flagged') === '1' ? 'fee' : '',
              i('notes') !== '0' ? 'note' : '',
              i('generation') !== '0' ? `gen${i('generation')}` : '',
            ]
              .filter(Boolean)
              .join(' '),
        },
      ],
      tx.rows,
      tx.header,
      'dense',
      { title: 'Transaction ledger', rows: perPart },
    ),
    '</section>',
  )

  // 4. Payouts register.
  const pay = get('payouts.csv')
  parts.push(
    '<section id="payouts"><h2>Payouts register</h2>',
    `<p>${pay.rows.length} payouts planned in the period.</p>`,
    tableHtml(
      [
        col('planned (UTC)', 'planned_at_utc'),
        col('kind', 'recipient_kind'),
        short('recipient', 'recipient_id', 16),
        col('state', 'state'),
        col('attempts', 'attempt', true),
        col('amount msat', 'amount_msat', true),
        col('routing fee', 'routing_fee_msat', true),
        fiat('fiat_minor', 'fiat at rate'),
        short('payment hash', 'payment_hash'),
        short('connection', 'connection_id', 10),
      ],
      pay.rows,
      pay.header,
      'dense',
      { title: 'Payouts register', rows: perPart },
    ),
    '</section>',
  )

  // 5. One statement per LP.
  const entries = get('lp-statements.csv')
  const balances = get('lp-balances.csv')
  const deposits = get('deposits.csv')
  const entryLp = entries.header.indexOf('lp_id')
  const depLp = deposits.header.indexOf('lp_id')
  const depStatus = deposits.header.indexOf('status')
  const balLp = balances.header.indexOf('lp_id')
  parts.push('<section id="lps"><h2>LP statements</h2>')
  parts.push(
    '<h3>Roll-up</h3>',
    tableHtml(
      [
        col('LP', 'lp_name'),
        col('mode', 'mode'),
        fiat('opening_minor', 'opening'),
        fiat('deposits_minor', 'deposits'),
        fiat('allocations_minor', 'cash paid out'),
        fiat('dust_minor', 'dust'),
        fiat('closing_minor', 'closing'),
        col('sats received (msat)', 'sats_received_msat', true),
      ],
      balances.rows,
      balances.header,
    ),
  )
  parts.push('</section>')
  for (const lp of d.lps) {
    const bal = balances.rows.find((x) => x[balLp] === lp.id)
    const lpEntries = entries.rows.filter((x) => x[entryLp] === lp.id)
    const lpDeposits = deposits.rows.filter((x) => x[depLp] === lp.id)
    const confirmed = lpDeposits.filter((x) => x[depStatus] === 'confirmed')
    const pending = lpDeposits.filter((x) => x[depStatus] === 'pending')
    const balCell = (name: string) => (bal ? (bal[balances.header.indexOf(`${name}_${lp.currency}`)] ?? '') : '')
    const sats = bal ? (bal[balances.header.indexOf('sats_received_msat')] ?? '0') : '0'
    const allocated = -BigInt(balCell('allocations_minor') || '0')
    const avg =
      allocated > 0n ? ((BigInt(sats) * 10n ** BigInt(currencyExponent(lp.currency))) / allocated).toString() : 'n/a'
    parts.push(
      `<section class="lp" id="lp-${esc(lp.id)}"><h2>Statement: ${esc(lp.name)}</h2>`,
      '<dl class="kv">',
      `<dt>LP</dt><dd class="mono">${esc(lp.id)}</dd>`,
      `<dt>Mode</dt><dd>${esc(lp.mode)}${lp.machineId ? `, machine ${esc(lp.machineId)}` : ''}</dd>`,
      `<dt>Opening balance</dt><dd>${esc(balCell('opening_minor'))} ${esc(lp.currency)} minor units</dd>`,
      `<dt>Deposits</dt><dd>${esc(balCell('deposits_minor'))}</dd>`,
      `<dt>Cash paid out for the LP</dt><dd>${esc(balCell('allocations_minor'))}</dd>`,
      `<dt>Dust settlements</dt><dd>${esc(balCell('dust_minor'))}</dd>`,
      `<dt>Closing balance</dt><dd><b>${esc(balCell('closing_minor'))}</b></dd>`,
      `<dt>Sats received</dt><dd>${esc(sats)} msat; average acquisition rate ${esc(avg)} msat per ${esc(lp.currency)}</dd>`,
      '</dl>',
      '<h3>Confirmed deposits</h3>',
      tableHtml(
        [
          col('deposit', 'deposit_id'),
          fiat('amount_minor', 'amount'),
          col('created', 'created_at_utc'),
          col('confirmed', 'confirmed_at_utc'),
          col('note', 'note'),
        ],
        confirmed,
        deposits.header,
      ),
      '<h3>Pending deposits (not in the balance)</h3>',
      tableHtml(
        [
          col('deposit', 'deposit_id'),
          fiat('amount_minor', 'amount'),
          col('created', 'created_at_utc'),
          col('note', 'note'),
        ],
        pending,
        deposits.header,
      ),
      '<h3>Entries</h3>',
      tableHtml(
        [
          col('entry', 'entry_id', true),
          col('booked (UTC)', 'created_at_utc'),
          col('kind', 'kind'),
          fiat('delta_minor', 'change'),
          fiat('balance_after_minor', 'balance'),
          col('deposit', 'deposit_id'),
          col('leg', 'leg_id', true),
        ],
        lpEntries,
        entries.header,
        'dense',
        { title: `Statement: ${lp.name}, entries`, rows: perPart },
      ),
      '</section>',
    )
  }

  // 6. Cash per machine, 7. wallet.
  const cash = get('cash-by-machine.csv')
  const wallet = get('wallet-reconciliation.csv')
  parts.push(
    '<section id="cash"><h2>Cash reconciliation per machine</h2>',
    '<p>Expected cash movements derived from the booked transactions. The console records no cassette counts: compare these figures with your collection reports; the variance is the counted amount minus the expected one.</p>',
    tableHtml(
      [
        col('machine', 'machine_name'),
        short('id', 'machine_id', 16),
        col('cash-ins', 'cash_in_count', true),
        fiat('cash_inserted_minor', 'inserted'),
        col('cash-outs', 'cash_out_count', true),
        fiat('cash_dispensed_minor', 'dispensed'),
        fiat('net_cash_minor', 'net change'),
      ],
      cash.rows,
      cash.header,
    ),
    '<h2>Wallet reconciliation</h2>',
    "<p>The ledger row is what should have moved through the operator wallet; each run row is a reconciliation of the ledger against the wallet's own transaction list, with every difference it found.</p>",
    tableHtml(
      [
        col('kind', 'kind'),
        col('run', 'ref'),
        col('from', 'from_utc'),
        col('until', 'until_utc'),
        col('inflow msat', 'inflow_msat', true),
        col('outflow msat', 'outflow_msat', true),
        col('fees msat', 'fees_msat', true),
        col('net msat', 'net_msat', true),
        col('matched', 'matched', true),
        col('differences', 'differences', true),
        col('detail', 'detail'),
      ],
      wallet.rows,
      wallet.header,
    ),
    '</section>',
  )

  // 8. Exceptions and configuration changes.
  const ex = get('exceptions.csv')
  const cfg = get('config-changes.csv')
  parts.push(
    '<section id="exceptions"><h2>Exceptions</h2>',
    tableHtml(
      [
        col('kind', 'kind'),
        col('ref', 'ref'),
        col('at (UTC)', 'at_utc'),
        short('machine', 'machine_id', 12),
        short('payment hash', 'payment_hash'),
        col('msat', 'amount_msat', true),
        col('author', 'author'),
        col('detail', 'detail'),
      ],
      ex.rows,
      ex.header,
      'dense',
    ),
    '<h2>Configuration change log</h2>',
    tableHtml(
      [
        col('seq', 'seq', true),
        col('recorded (UTC)', 'recorded_at_utc'),
        col('effective from', 'effective_from_utc'),
        col('scope', 'scope'),
        col('author', 'author'),
        col('field', 'field'),
        col('old', 'old'),
        col('new', 'new'),
        col('note', 'note'),
      ],
      cfg.rows,
      cfg.header,
    ),
    '</section>',
  )

  // 9. Appendices.
  parts.push('<section id="appendix-columns"><h2>Appendix A: column dictionary</h2>')
  parts.push(
    '<p>Units are in the column names: _msat is millisatoshi (1 sat = 1,000 msat; 1 BTC = 100,000,000 sat), _minor_CUR is minor units of the currency (e.g. cents), _ppm is parts per million. Times are UTC, ISO 8601.</p>',
  )
  parts.push(dictionary(TABLES, cur))
  parts.push('</section>')
  parts.push(
    '<section id="appendix-lists"><h2>Appendix B: machines and LPs at the end of the period</h2>',
    '<table><thead><tr><th>machine</th><th>name</th><th>currency</th></tr></thead><tbody>',
    ...d.machines.map(
      (m) => `<tr><td class="mono">${esc(m.id)}</td><td>${esc(m.name)}</td><td>${esc(m.currency)}</td></tr>`,
    ),
    '</tbody></table>',
    '<table><thead><tr><th>LP</th><th>name</th><th>currency</th><th>mode</th></tr></thead><tbody>',
    ...d.lps.map(
      (lp) =>
        `<tr><td class="mono">${esc(lp.id)}</td><td>${esc(lp.name)}</td><td>${esc(lp.currency)}</td><td>${esc(lp.mode)}</td></tr>`,
    ),
    '</tbody></table>',
    '<h2>Appendix C: files and their SHA-256</h2>',
    `<p>manifest.json SHA-256: <span class="mono">${esc(r.manifestSha256)}</span></p>`,
    '<table><thead><tr><th>file</th><th class="n">rows</th><th class="n">bytes</th><th>SHA-256</th></tr></thead><tbody>',
    ...r.manifest.files.map(
      (f) =>
        `<tr><td class="mono">${esc(f.name)}</td><td class="n">${f.rows}</td><td class="n">${f.bytes}</td><td class="mono">${esc(f.sha256)}</td></tr>`,
    ),
    '</tbody></table></section>',
    '<section id="appendix-recipe"><h2>Appendix D: how to verify this report</h2><ol class="recipe">',
    ...VERIFICATION_RECIPE.map((x) => `<li>${esc(x)}</li>`),
    '</ol></section>',
  )
  const tail = '</body></html>'
  const body = parts.join('\n')
  // Cut at every section start (the template's own tags: table cells are escaped, so no "<section" in data).
  const pieces = body.split(/(?=<section[ >])/)
  const groups: string[][] = []
  let weight = 0
  for (const piece of pieces) {
    const rows = piece.split('<tr>').length - 1
    const last = groups.at(-1)
    if (!last || (weight > 0 && weight + rows > perPart)) {
      groups.push([piece])
      weight = rows
    } else {
      last.push(piece)
      weight += rows
    }
  }
  return {
    html: `${pageHead}\n${body}\n${tail}`,
    parts: groups.map((g) => `${pageHead}\n${g.join('')}\n${tail}`),
  }
}

/**
 * The page furniture printed over every page of the joined report: `pages` blank pages, which Chromium prints with
 * the header (title, DRAFT) and the footer ("Page N of M") of `headerFooter`, so the numbers run through all parts.
 */
export function renderPageFurnitureHtml(pages: number): string {
  const blank = '<div class="p"></div>'
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>page furniture</title>',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<style>@page { size: A4; } body { margin: 0; } .p { height: 1px; break-after: page; } .p:last-child { break-after: auto; }</style>',
    `</head><body>${blank.repeat(Math.max(1, pages))}</body></html>`,
  ].join('\n')
}
