// Building inclusion and consistency proofs over a checked ledger's audit log (docs/audit.md §8), for
// `satmachine audit-proof`: the entry's canonical bytes and its audit path to the root at a tree size, or the
// consistency path between two sizes, each with the console-signed head over that size when one exists (the local
// `heads.jsonl`). The documents are verified by `verifyProofDoc` (src-shared/audit/proof.ts).
import { bytesToHex } from '@noble/hashes/utils.js'
import { consistencyProof, type Hash, inclusionProof, rootOf } from '../../src-shared/audit/merkle'
import type { ConsistencyProofDoc, InclusionProofDoc } from '../../src-shared/audit/proof'
import type { SignedHead } from '../../src-shared/audit/types'
import { FieldError } from '../../src-shared/field-error'
import type { LedgerStore } from '../ledger/types'
import { entryCount } from './read'

async function hashes(store: LedgerStore, to: number): Promise<Hash[]> {
  const { hashes: all } = await store.call<{ hashes: Uint8Array }>('audit.leafHashes', { from: 0, to })
  const out: Hash[] = new Array(all.length / 32)
  for (let i = 0; i < out.length; i++) out[i] = all.subarray(i * 32, i * 32 + 32)
  return out
}

/** The newest signed head over exactly `size` entries, or null. */
function headAt(heads: readonly SignedHead[], size: number): SignedHead | null {
  let best: SignedHead | null = null
  for (const h of heads) if (h.head.treeSize === size && (!best || h.head.time > best.head.time)) best = h
  return best
}

/** Resolves `--entry`: an index, or `table:rowid` (that row's newest entry). */
export async function resolveEntry(store: LedgerStore, spec: string): Promise<number> {
  if (/^[0-9]+$/.test(spec)) return Number(spec)
  const m = /^([A-Za-z_][A-Za-z0-9_]*):(-?[0-9]+)$/.exec(spec)
  if (!m) throw new FieldError('entry', `'${spec.slice(0, 60)}' is neither an entry index nor table:rowid`)
  const rows = await store.query<{ idx: number }>(
    'SELECT idx FROM audit_leaf WHERE tbl = ? AND row_id = ? ORDER BY idx DESC LIMIT 1',
    [m[1]!, BigInt(m[2]!)],
  )
  if (rows.length === 0) throw new FieldError('entry', `${m[1]} rowid ${m[2]} has no entry in the audit log`)
  return Number(rows[0]!.idx)
}

/** The default tree size: the newest signed head's (so the proof ends in a signed root), else the whole log. */
export async function defaultSize(store: LedgerStore, heads: readonly SignedHead[]): Promise<number> {
  const n = await entryCount(store)
  const signed = heads.filter((h) => h.head.treeSize <= n).sort((a, b) => b.head.time - a.head.time)[0]
  return signed ? signed.head.treeSize : n
}

export async function buildInclusionProof(
  store: LedgerStore,
  heads: readonly SignedHead[],
  index: number,
  size: number,
): Promise<InclusionProofDoc> {
  const n = await entryCount(store)
  if (!Number.isSafeInteger(size) || size < 1 || size > n)
    throw new FieldError('size', `must be from 1 to ${n} (the entries in the log)`)
  if (!Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new FieldError('entry', `#${index} is not in the log of ${size} entries`)
  const hs = await hashes(store, size)
  const rows = await store.query<{ entry: Uint8Array }>('SELECT entry FROM audit_leaf WHERE idx = ?', [index])
  const root = bytesToHex(rootOf(hs, size))
  return {
    v: 1,
    type: 'inclusion',
    tree_size: size,
    index,
    entry: bytesToHex(rows[0]!.entry),
    leaf_hash: bytesToHex(hs[index]!),
    path: inclusionProof(hs, index, size).map(bytesToHex),
    root,
    head: headAt(heads, size)?.event ?? null,
  }
}

export async function buildConsistencyProof(
  store: LedgerStore,
  heads: readonly SignedHead[],
  oldSize: number,
  newSize: number,
): Promise<ConsistencyProofDoc> {
  const n = await entryCount(store)
  if (!Number.isSafeInteger(newSize) || newSize < 0 || newSize > n)
    throw new FieldError('consistency', `NEW must be from 0 to ${n} (the entries in the log)`)
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize)
    throw new FieldError('consistency', 'OLD must be from 0 to NEW')
  const hs = await hashes(store, newSize)
  return {
    v: 1,
    type: 'consistency',
    old_size: oldSize,
    new_size: newSize,
    old_root: bytesToHex(rootOf(hs, oldSize)),
    new_root: bytesToHex(rootOf(hs, newSize)),
    path: consistencyProof(hs, oldSize, newSize).map(bytesToHex),
    old_head: headAt(heads, oldSize)?.event ?? null,
    new_head: headAt(heads, newSize)?.event ?? null,
  }
}
