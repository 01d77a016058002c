// Reading the audit log (docs/audit.md): the console-signed heads kept outside the ledger files in
// `<dataDir>/audit/heads.jsonl`, the entries (leaves) the ledger stores in `audit_leaf`, and the quarters in
// `audit_period`. The exports, `audit-export` (on a stopped console's data directory) and the Audit screen read
// through these functions, so they see exactly what the start-up check verified.
import * as fs from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@noble/hashes/utils.js'
import {
  type AuditHead,
  decodeEntry,
  nextQuarter,
  type PeriodView,
  parseAttestationEvent,
  parseHeadEvent,
  quarterBounds,
  quarterOf,
  type SignedHead,
  type StoredEntry,
} from '../../src-shared/audit/types'
import { checkEvent, type NostrEvent } from '../../src-shared/nostr/event'
import type { LedgerStore } from '../ledger/types'

/** `<dataDir>/audit`: the audit files that live outside the ledger directory. */
export function auditDir(dataDir: string): string {
  return join(dataDir, 'audit')
}
/** One signed head event (JSON) per line, appended and fsynced. */
export function headsFile(dataDir: string): string {
  return join(auditDir(dataDir), 'heads.jsonl')
}
/** The leaf hashes (32 bytes each, in index order) the heads were computed over, appended and fsynced. */
export function leavesFile(dataDir: string): string {
  return join(auditDir(dataDir), 'leaves.bin')
}

/**
 * Every well-formed, validly signed head in `heads.jsonl`, oldest first. A torn last line (a crash while appending)
 * is skipped; any other bad line is reported through `onBad` and skipped (the start-up check refuses on it).
 */
export function readHeads(dataDir: string, onBad?: (line: number, why: string) => void): SignedHead[] {
  let text: string
  try {
    text = fs.readFileSync(headsFile(dataDir), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const lines = text.split('\n')
  const torn = !text.endsWith('\n') && text.length > 0
  const out: SignedHead[] = []
  lines.forEach((line, i) => {
    if (line === '') return
    if (torn && i === lines.length - 1) return
    try {
      const ev = JSON.parse(line) as NostrEvent
      const c = checkEvent(ev)
      if (!c.ok) throw new Error(c.detail)
      out.push({ head: parseHeadEvent(ev), event: ev })
    } catch (e) {
      onBad?.(i + 1, (e as Error).message)
    }
  })
  return out
}

/** The newest head in `heads.jsonl` (largest tree, then latest time), or null when none was signed yet. */
export function readLatestHead(dataDir: string): SignedHead | null {
  return newestHead(readHeads(dataDir))
}

/** The newest of several heads: the largest tree, then the latest time. */
export function newestHead<T extends { head: AuditHead }>(heads: readonly T[]): T | null {
  let best: T | null = null
  for (const h of heads) {
    if (!best || h.head.treeSize > best.head.treeSize) best = h
    else if (h.head.treeSize === best.head.treeSize && h.head.time > best.head.time) best = h
  }
  return best
}

interface LeafRow extends Record<string, unknown> {
  idx: number
  entry: Uint8Array
  hash: Uint8Array
}

/** The entries with index in [from, to) (default: all), in index order. */
export async function readEntries(
  store: LedgerStore,
  opts: { from?: number; to?: number } = {},
): Promise<StoredEntry[]> {
  const from = opts.from ?? 0
  const to = opts.to ?? Number.MAX_SAFE_INTEGER
  const out: StoredEntry[] = []
  let after = from - 1
  for (;;) {
    const rows = (await store.query(
      'SELECT idx, entry, hash FROM audit_leaf WHERE idx > ? AND idx < ? ORDER BY idx LIMIT 5000',
      [after, to],
    )) as unknown as LeafRow[]
    for (const r of rows) {
      out.push({ index: r.idx, entry: decodeEntry(r.entry), bytes: r.entry, hash: r.hash })
    }
    if (rows.length < 5000) return out
    after = rows[rows.length - 1]!.idx
  }
}

/** How many entries the ledger's log holds. */
export async function entryCount(store: LedgerStore): Promise<number> {
  const r = await store.query<{ n: number }>('SELECT count(*) AS n FROM audit_leaf')
  return Number(r[0]?.n ?? 0)
}

interface PeriodRow extends Record<string, unknown> {
  period: string
  closed_at_ms: number
  head_json: string
  attestation_json: string
  published: number
}

/**
 * Every quarter from the first one holding an entry up to the current one (`nowMs`), with its state. Closed quarters
 * come from `audit_period`; a quarter is `attested` once a relay accepted its attestation.
 */
export async function readPeriods(store: LedgerStore, nowMs: number): Promise<PeriodView[]> {
  const closed = (await store.query(
    `SELECT p.period, p.closed_at_ms, p.head_json, p.attestation_json,
       EXISTS (SELECT 1 FROM audit_publish a WHERE a.event_id = p.attestation_id AND a.relays_ok > 0) AS published
     FROM audit_period p ORDER BY p.period`,
  )) as unknown as PeriodRow[]
  const byPeriod = new Map(closed.map((r) => [r.period, r]))
  const first = await store.query<{ t: number | null }>('SELECT min(booked_at_ms) AS t FROM acct_settlement')
  const startMs = Math.min(first[0]?.t ?? nowMs, nowMs)
  const out: PeriodView[] = []
  let q = quarterOf(startMs)
  const firstClosed = closed[0]?.period
  if (firstClosed !== undefined && firstClosed < q) q = firstClosed
  const last = quarterOf(nowMs)
  for (;;) {
    const b = quarterBounds(q)
    const r = byPeriod.get(q)
    if (r) {
      const headEv = JSON.parse(r.head_json) as NostrEvent
      const attEv = JSON.parse(r.attestation_json) as NostrEvent
      const att = parseAttestationEvent(attEv)
      out.push({
        period: q,
        ...b,
        state: r.published ? 'attested' : 'closed',
        closedAtMs: r.closed_at_ms,
        head: parseHeadEvent(headEv),
        headEventId: headEv.id,
        attestationEventId: attEv.id,
        manifestSha256: att.manifestSha256,
      })
    } else {
      out.push({
        period: q,
        ...b,
        state: 'open',
        closedAtMs: null,
        head: null,
        headEventId: null,
        attestationEventId: null,
        manifestSha256: null,
      })
    }
    if (q >= last) break
    q = nextQuarter(q)
  }
  return out
}

/** The stored attestation event of a closed quarter, or null. */
export async function readAttestation(store: LedgerStore, period: string): Promise<NostrEvent | null> {
  const r = await store.query<{ attestation_json: string }>(
    'SELECT attestation_json FROM audit_period WHERE period = ?',
    [period],
  )
  return r[0] ? (JSON.parse(r[0].attestation_json) as NostrEvent) : null
}

/** Hex helper for callers printing hashes. */
export const hex = (b: Uint8Array): string => bytesToHex(b)
