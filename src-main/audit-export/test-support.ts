// Test and benchmark support for the audit export (only *.test.ts and bench files import it): a real ledger in a
// temporary data directory, every registered migration and procedure, and a quarter of seeded settlements booked
// through the real booking procedure (fee config, LPs with deposits, legs, accruals), with receipts signed by a
// console key, a few paid and failed payouts, partial dispenses, fee mismatches, rejected records, notes and a
// mid-quarter fee change — the rows every table of the export is made of.
import { mkdtempSync, rmSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { attestationTemplate, quarterBounds, type SignedHead } from '../../src-shared/audit/types'
import { memoryLogger } from '../../src-shared/log'
import { type NostrEvent, publicKeyHex, signTemplateWithKey } from '../../src-shared/nostr/event'
import { buildReceiptTemplate } from '../../src-shared/nostr/receipt'
import { bookSettlement } from '../accounting/book'
import { addOperatorNote, claimSettlement, completeSettlement } from '../accounting/operations'
import { AuditHeadWriter } from '../audit/heads'
import { registeredMigrations, registeredProcedures } from '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { Procedure, TxDb } from '../ledger/types'
import { createSoftwareSigner } from '../signer/software-signer'
import { auditManifestSha256, type ExportOptions } from './export'

export const CONSOLE_SECRET = new Uint8Array(32).fill(7)
export const CONSOLE_PUBKEY = publicKeyHex(CONSOLE_SECRET)
export const OPERATOR_SECRET = new Uint8Array(32).fill(9)
export const OPERATOR_PUBKEY = publicKeyHex(OPERATOR_SECRET)

const hex32 = (tag: string, i: number) => bytesToHex(sha256(new TextEncoder().encode(`${tag}:${i}`)))
export const preimageOf = (i: number) => hex32('preimage', i)
export const hashOfPreimage = (pre: string) =>
  bytesToHex(sha256(Uint8Array.from(pre.match(/../g) as string[], (h) => Number.parseInt(h, 16))))

export const MACHINES = [
  { id: hex32('atm', 1), name: 'Lobby', currency: 'EUR' },
  { id: hex32('atm', 2), name: 'Station', currency: 'EUR' },
  { id: hex32('atm', 3), name: 'Mall', currency: 'EUR' },
]

interface SeedArgs {
  settlements: {
    i: number
    machineId: string
    direction: 'cash_out' | 'cash_in'
    paymentHash: string
    wireMsat: string
    fiatMinor: string
    fiatRequestedMinor: string
    claimedFeeMsat?: string
    createdAt: number
    bookedAtMs: number
    receipt: string | null
  }[]
}

/** Books every settlement of `args` in one transaction, processes it, stores its receipt. */
const seedProcedure: Procedure<SeedArgs, number> = (db: TxDb, a) => {
  let n = 0
  for (const s of a.settlements) {
    const r = bookSettlement(db, {
      machineId: s.machineId,
      direction: s.direction,
      paymentHash: s.paymentHash,
      wireMsat: s.wireMsat,
      fiatMinor: s.fiatMinor,
      fiatRequestedMinor: s.fiatRequestedMinor,
      currency: 'EUR',
      ...(s.claimedFeeMsat ? { claimedFeeMsat: s.claimedFeeMsat } : {}),
      atmEventId: hex32('atm-event', s.i),
      createdAt: s.createdAt,
      bookedAtMs: s.bookedAtMs,
    })
    if (r.status === 'rejected') continue
    const token = `seed-${s.i}`
    claimSettlement(db, { settlementId: r.settlementId, token, atMs: s.bookedAtMs + 1 })
    completeSettlement(db, { settlementId: r.settlementId, token, atMs: s.bookedAtMs + 2 })
    if (s.receipt) {
      const ev = JSON.parse(s.receipt) as { id: string }
      db.run(
        'INSERT INTO rcpt_receipt (settlement_id, payment_hash, event_id, event_json, created_at_ms) VALUES (?, ?, ?, ?, ?)',
        [r.settlementId, s.paymentHash, ev.id, s.receipt, s.bookedAtMs + 3],
      )
    }
    if (s.i % 997 === 5)
      addOperatorNote(db, {
        settlementId: r.settlementId,
        author: 'operator',
        text: `checked with the customer (${s.i})`,
        atMs: s.bookedAtMs + 4,
      })
    n++
  }
  return n
}

/** A few payouts straight into the payout table (paid ones carry a preimage and the accrual they settle). */
const seedPayouts: Procedure<{ fromMs: number; count: number }, number> = (db, a) => {
  const accruals = db.all<{ id: bigint; recipient_kind: string; recipient_id: string }>(
    `SELECT min(id) AS id, recipient_kind, recipient_id FROM acct_accrual GROUP BY recipient_kind, recipient_id ORDER BY recipient_kind, recipient_id`,
    [],
    { bigint: true },
  )
  let n = 0
  for (let i = 0; i < a.count; i++) {
    const acc = accruals[i % accruals.length]
    if (!acc) break
    const paid = i % 5 !== 4
    const pre = hex32('payout-preimage', i)
    const at = a.fromMs + 86_400_000 * (i + 1)
    db.run(
      `INSERT INTO payout (id, recipient_kind, recipient_id, seq, amount_msat, max_fee_msat, connection_id, state, payment_hash,
        attempt, preimage, fees_paid_msat, reason, planned_at_ms, updated_at_ms, accrual_id, released_at_ms, released_by)
       VALUES (?, ?, ?, ?, ?, ?, 'operator-wallet', ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        `payout-${i}`,
        acc.recipient_kind,
        acc.recipient_id,
        1000 + i,
        BigInt(1000 * (10_000 + i * 137)),
        10_000n,
        paid ? 'paid' : 'failed_final',
        hashOfPreimage(pre),
        paid ? pre : null,
        paid ? BigInt(1000 + i) : null,
        paid ? null : 'no route',
        at,
        at + 5_000,
        paid ? acc.id : null,
        paid ? null : at + 6_000,
        paid ? null : 'operator',
      ],
    )
    n++
  }
  return n
}

export interface SeededLedger {
  dataDir: string
  store: InProcessLedger
  quarter: string
  settlements: number
  reopen(): Promise<InProcessLedger>
  dispose(): Promise<void>
}

export interface SeedOptions {
  settlements: number
  quarter?: string
  /** Sign a receipt for every n-th settlement (1 = all; signing costs ~1 ms each). */
  receiptsEvery?: number
  /** Settlements per booking transaction. */
  batch?: number
}

export function openAuditLedger(dataDir: string): Promise<InProcessLedger> {
  const procedures = new Map(registeredProcedures())
  procedures.set('auditseed.bulk', seedProcedure as Procedure)
  procedures.set('auditseed.payouts', seedPayouts as Procedure)
  return openLedgerInProcess({
    dir: join(dataDir, 'ledger'),
    migrations: registeredMigrations(),
    procedures,
    autoSnapshot: false,
  })
}

/** A ledger with one quarter of `settlements` seeded settlements over three EUR machines and two LPs. */
export async function seedAuditLedger(o: SeedOptions): Promise<SeededLedger> {
  const quarter = o.quarter ?? '2026Q3'
  const { startMs, endMs } = quarterBounds(quarter)
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-export-'))
  let store = await openAuditLedger(dataDir)
  const t0 = startMs - 86_400_000
  for (const m of MACHINES) await store.call('accounting.upsertMachine', { ...m, atMs: t0 })
  const config = (atMs: number, effectiveFromMs: number, operatorPpm: number) =>
    store.call('accounting.setConfig', {
      machineId: null,
      effectiveFromMs,
      atMs,
      cashOutPlatformPpm: 30_000,
      cashOutOperatorPpm: operatorPpm,
      cashInPlatformPpm: 10_000,
      cashInOperatorPpm: 20_000,
      splits: [
        { id: 'owner', weightPpm: 700_000 },
        { id: 'tech', weightPpm: 300_000 },
      ],
      timeZone: 'Europe/Madrid',
      author: 'operator',
    })
  await config(t0, 0, 20_000)
  await store.call('accounting.upsertLp', { id: 'lp-ana', name: 'Ana', currency: 'EUR', mode: 'flow', atMs: t0 })
  await store.call('accounting.upsertLp', {
    id: 'lp-beto',
    name: 'Beto',
    currency: 'EUR',
    mode: 'fixed',
    dailyLimitMinor: '500000',
    atMs: t0,
  })
  for (const [id, lpId, amountMinor, atMs] of [
    ['dep-ana-1', 'lp-ana', String(30 * o.settlements * 100), t0],
    ['dep-beto-1', 'lp-beto', String(20 * o.settlements * 100), t0],
    ['dep-ana-2', 'lp-ana', '2500000', startMs + 40 * 86_400_000],
  ] as const) {
    await store.call('accounting.createDeposit', { id, lpId, amountMinor, atMs })
    await store.call('accounting.confirmDeposit', { depositId: id, atMs: atMs + 1000, author: 'operator' })
  }
  await store.call('accounting.createDeposit', {
    id: 'dep-beto-pending',
    lpId: 'lp-beto',
    amountMinor: '100000',
    atMs: startMs + 50 * 86_400_000,
  })

  const span = endMs - startMs - 3_600_000
  const every = o.receiptsEvery ?? 1
  const batch = o.batch ?? 2000
  let booked = 0
  const bookRange = async (lo: number, hi: number) => {
    for (let from = lo; from < hi; from += batch) {
      const list: SeedArgs['settlements'] = []
      for (let i = from; i < Math.min(hi, from + batch); i++) list.push(seedRow(i))
      booked += await store.call<number>('auditseed.bulk', { settlements: list })
    }
  }
  const seedRow = (i: number): SeedArgs['settlements'][number] => {
    const createdMs = startMs + Math.floor((span * i) / o.settlements) + 1000
    const direction = i % 10 < 7 ? 'cash_out' : 'cash_in'
    const fiatRequested = BigInt(2000 + ((i * 7919) % 48) * 500) // 20 … 255 EUR
    const partial = direction === 'cash_out' && i % 211 === 3
    const fiat = partial ? fiatRequested - 1000n : fiatRequested
    // ~1 EUR = 1,111 sats, drifting over the quarter; cash-out pays principal + 5 % fee, cash-in receives less.
    const rate = 11_111n + BigInt(i % 300)
    const wire = direction === 'cash_out' ? (fiatRequested * rate * 105n) / 100n : (fiat * rate * 97n) / 100n
    const pre = preimageOf(i)
    const paymentHash = hashOfPreimage(pre)
    const machineId = (MACHINES[i % MACHINES.length] as { id: string }).id
    const createdAt = Math.floor(createdMs / 1000)
    const receipt =
      i % every === 0
        ? JSON.stringify(
            signTemplateWithKey(
              buildReceiptTemplate(
                {
                  recordEventId: hex32('atm-event', i),
                  operatorPubkey: OPERATOR_PUBKEY,
                  atmPubkey: machineId,
                  paymentHash,
                  preimage: pre,
                  amountMsat: wire,
                },
                createdAt + 5,
              ),
              CONSOLE_SECRET,
            ),
          )
        : null
    return {
      i,
      // Now and then a record from a machine the ledger does not know: booked as a rejected settlement.
      machineId: i % 1500 === 77 ? hex32('unknown-atm', i) : machineId,
      direction,
      paymentHash,
      wireMsat: wire.toString(),
      fiatMinor: fiat.toString(),
      fiatRequestedMinor: fiatRequested.toString(),
      ...(i % 401 === 9 ? { claimedFeeMsat: '1' } : {}),
      createdAt,
      bookedAtMs: createdMs + 2000,
      receipt,
    }
  }
  const half = Math.floor(o.settlements / 2)
  await bookRange(0, half)
  // The operator raises the cash-out commission mid-quarter: the config change log shows it.
  const mid = startMs + Math.floor((span * half) / o.settlements)
  await config(mid, mid, 25_000)
  await bookRange(half, o.settlements)
  await store.call('accounting.recordRejected', {
    eventId: hex32('bad-event', 1),
    machineId: (MACHINES[0] as { id: string }).id,
    reason: 'bad_signature',
    field: 'sig',
    receivedAtMs: startMs + 5 * 86_400_000,
  })
  await store.call('auditseed.payouts', { fromMs: startMs, count: 12 })
  const t: SeededLedger = {
    dataDir,
    store,
    quarter,
    settlements: booked,
    async reopen() {
      await t.store.close()
      store = await openAuditLedger(dataDir)
      t.store = store
      return store
    },
    async dispose() {
      await t.store.close().catch(() => undefined)
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return t
}

/** Signs a console head over the whole log now (what a running console does after each batch). */
export async function signHead(s: SeededLedger, nowMs: number): Promise<SignedHead> {
  const w = await AuditHeadWriter.open({
    store: s.store,
    dataDir: s.dataDir,
    log: memoryLogger('audit'),
    signer: createSoftwareSigner(CONSOLE_SECRET),
    consolePubkey: CONSOLE_PUBKEY,
    nowMs: () => nowMs,
  })
  const h = await w.sync({ force: true })
  if (!h) throw new Error('no head signed')
  return h
}

/**
 * Closes the seeded quarter the way the Audit screen does: a quarter head, the export's manifest hash, the
 * operator's kind 3080 attestation over both, booked with `audit.closePeriod`.
 */
export async function closeSeededQuarter(
  s: SeededLedger,
  nowMs: number,
  exportBase: Omit<ExportOptions, 'store' | 'dataDir' | 'quarter' | 'outDir' | 'draft' | 'nowMs'>,
): Promise<{ attestation: NostrEvent; manifestSha256: string }> {
  const head = await signHead(s, nowMs)
  const manifestSha256 = await auditManifestSha256({
    ...exportBase,
    store: s.store,
    dataDir: s.dataDir,
    quarter: s.quarter,
    nowMs,
    closingHead: head.event,
    scratchDir: join(s.dataDir, `close-scratch-${nowMs}`),
  })
  const { startMs, endMs } = quarterBounds(s.quarter)
  const attestation = signTemplateWithKey(
    attestationTemplate(
      {
        period: s.quarter,
        startMs,
        endMs,
        treeSize: head.head.treeSize,
        root: head.head.root,
        ledgerSeq: head.head.ledgerSeq,
        headEventId: head.event.id,
        consolePubkey: CONSOLE_PUBKEY,
        closedAtMs: nowMs,
        manifestSha256,
      },
      Math.floor(nowMs / 1000),
    ),
    OPERATOR_SECRET,
  )
  await s.store.call('audit.closePeriod', {
    period: s.quarter,
    closedAtMs: nowMs,
    closedBy: 'operator',
    treeSize: head.head.treeSize,
    root: head.head.root,
    ledgerSeq: head.head.ledgerSeq,
    headEventId: head.event.id,
    headJson: JSON.stringify(head.event),
    attestationId: attestation.id,
    attestationJson: JSON.stringify(attestation),
    manifestSha256,
  })
  return { attestation, manifestSha256 }
}

/**
 * A PDF of `pages` blank A4 pages as a stand-in for Chromium's output where a test does not look at the report: a
 * catalog, a page tree, the pages sharing one empty content stream, and a correct cross-reference table.
 */
export function blankPdf(pages = 1): Buffer {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 4} 0 R`).join(' ')
  const objs = [
    '<</Type /Catalog\n/Pages 2 0 R>>',
    `<</Type /Pages\n/Count ${pages}\n/Kids [${kids}]>>`,
    '<</Length 0>> stream\n\nendstream',
    ...Array.from(
      { length: pages },
      () => '<</Type /Page\n/Parent 2 0 R\n/MediaBox [0 0 595.91998 842.88]\n/Resources <<>>\n/Contents 3 0 R>>',
    ),
  ]
  let s = '%PDF-1.4\n'
  const at: number[] = []
  objs.forEach((o, i) => {
    at.push(s.length)
    s += `${i + 1} 0 obj\n${o}\nendobj\n`
  })
  const xref = s.length
  s += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`
  for (const a of at) s += `${String(a).padStart(10, '0')} 00000 n \n`
  s += `trailer\n<</Size ${objs.length + 1}\n/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(s, 'latin1')
}

/**
 * A printer that writes blank pages (for tests that need an export but not its report): one page for each part of
 * the report, and for the page furniture as many as it is asked to cover (its blank pages are `<div class="p">`).
 */
export const blankPrinter = async (): Promise<import('./pdf').PdfPrinter> => ({
  name: 'blank',
  async print(job) {
    const pages = job.furniture ? (await readFile(job.htmlPath, 'utf8')).split('<div class="p">').length - 1 : 1
    const pdf = blankPdf(pages)
    await writeFile(job.pdfPath, pdf)
    return { pages, bytes: pdf.length }
  },
})
