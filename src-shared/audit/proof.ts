// Inclusion and consistency proofs as JSON documents (docs/audit.md §8), the form `satmachine audit-proof` prints
// and `satmachine audit-proof --check` (or any third party) verifies: RFC 6962 §2.1.1 / §2.1.2 proofs over the audit
// log (merkle.ts), with the entry's canonical bytes (types.ts) and, when the tree size is a signed one, the
// console-signed head (kind 30078) whose root the proof ends in. Pure: no Node, no DOM.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import type { NostrEvent } from '../nostr/event'
import { leafHash, verifyConsistency, verifyInclusion } from './merkle'
import { AuditFormatError, decodeEntry } from './types'
import { verifyHeadEvent } from './verify'

export interface InclusionProofDoc {
  v: 1
  type: 'inclusion'
  tree_size: number
  index: number
  /** The entry's canonical bytes (hex), exactly as hashed. */
  entry: string
  leaf_hash: string
  /** The audit path, leaf to root (hex). */
  path: string[]
  root: string
  /** The console-signed head over `tree_size` entries, or null when that size was never signed. */
  head: NostrEvent | null
}

export interface ConsistencyProofDoc {
  v: 1
  type: 'consistency'
  old_size: number
  new_size: number
  old_root: string
  new_root: string
  path: string[]
  old_head: NostrEvent | null
  new_head: NostrEvent | null
}

export type ProofDoc = InclusionProofDoc | ConsistencyProofDoc

export interface ProofVerdict {
  type: 'inclusion' | 'consistency'
  /** What the proof shows, in one sentence. */
  statement: string
  /** The signed heads it was checked against (event ids). */
  heads: string[]
}

const HEX64 = /^[0-9a-f]{64}$/
const isSize = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

function hash(field: string, x: unknown): Uint8Array {
  if (typeof x !== 'string' || !HEX64.test(x)) throw new AuditFormatError(field, 'must be 64 lowercase hex digits')
  return hexToBytes(x)
}

function path(x: unknown): Uint8Array[] {
  if (!Array.isArray(x) || x.length > 64) throw new AuditFormatError('path', 'must be a list of at most 64 hashes')
  return x.map((h, i) => hash(`path[${i}]`, h))
}

/** The head must be the console's signature over exactly this size and root. */
function checkHead(field: string, ev: unknown, size: number, root: string, consolePubkey?: string): string | null {
  if (ev === null || ev === undefined) return null
  let h: ReturnType<typeof verifyHeadEvent>
  try {
    h = verifyHeadEvent(ev as NostrEvent, consolePubkey)
  } catch (e) {
    throw new AuditFormatError(field, `is not a valid signed head (${(e as Error).message})`)
  }
  if (h.treeSize !== size) throw new AuditFormatError(field, `is signed over ${h.treeSize} entries, not ${size}`)
  if (h.root !== root) throw new AuditFormatError(field, 'is signed over another root')
  return (ev as NostrEvent).id
}

/**
 * Verifies a proof document; returns what it shows, or throws AuditFormatError naming the field that does not hold.
 * `requireHead`: the proof must end in a signed head (a bare root proves nothing to someone without a head).
 */
export function verifyProofDoc(
  raw: unknown,
  opts: { consolePubkey?: string; requireHead?: boolean } = {},
): ProofVerdict {
  type Loose = Partial<Omit<InclusionProofDoc, 'v' | 'type'>> &
    Partial<Omit<ConsistencyProofDoc, 'v' | 'type'>> & { v?: unknown; type?: unknown }
  const d = raw as Loose | null
  if (d === null || typeof d !== 'object' || d.v !== 1) throw new AuditFormatError('v', 'must be 1')
  if (d.type === 'inclusion') {
    if (!isSize(d.tree_size) || !isSize(d.index) || (d.index as number) >= (d.tree_size as number))
      throw new AuditFormatError('index', 'must be an entry index below tree_size')
    if (typeof d.entry !== 'string' || !/^([0-9a-f]{2})+$/.test(d.entry))
      throw new AuditFormatError('entry', 'must be hex bytes')
    const bytes = hexToBytes(d.entry)
    let what: string
    try {
      const e = decodeEntry(bytes)
      what = `${e.table} rowid ${e.rowid} (op ${e.op}, ledger transaction ${e.seq})`
    } catch (e) {
      throw new AuditFormatError('entry', `is not a canonical audit entry (${(e as Error).message})`)
    }
    const leaf = leafHash(bytes)
    hash('leaf_hash', d.leaf_hash)
    if (bytesToHex(leaf) !== d.leaf_hash) throw new AuditFormatError('leaf_hash', 'is not the hash of entry')
    const root = hash('root', d.root)
    if (!verifyInclusion(leaf, d.index as number, d.tree_size as number, path(d.path), root))
      throw new AuditFormatError('path', `does not lead from entry #${d.index} to root`)
    const head = checkHead('head', d.head, d.tree_size as number, d.root as string, opts.consolePubkey)
    if (opts.requireHead && head === null) throw new AuditFormatError('head', 'is missing (the size was never signed)')
    return {
      type: 'inclusion',
      statement: `audit entry #${d.index}, ${what}, is in the log of ${d.tree_size} entries with root ${d.root}${head ? ' signed by the console' : ''}`,
      heads: head ? [head] : [],
    }
  }
  if (d.type === 'consistency') {
    if (!isSize(d.old_size) || !isSize(d.new_size) || (d.old_size as number) > (d.new_size as number))
      throw new AuditFormatError('old_size', 'must be an integer from 0 to new_size')
    const oldRoot = hash('old_root', d.old_root)
    const newRoot = hash('new_root', d.new_root)
    if (!verifyConsistency(d.old_size as number, d.new_size as number, path(d.path), oldRoot, newRoot))
      throw new AuditFormatError('path', `does not prove the log of ${d.old_size} entries a prefix of ${d.new_size}`)
    const heads = [
      checkHead('old_head', d.old_head, d.old_size as number, d.old_root as string, opts.consolePubkey),
      checkHead('new_head', d.new_head, d.new_size as number, d.new_root as string, opts.consolePubkey),
    ].filter((x): x is string => x !== null)
    if (opts.requireHead && heads.length < 2)
      throw new AuditFormatError(d.old_head ? 'new_head' : 'old_head', 'is missing (the size was never signed)')
    return {
      type: 'consistency',
      statement: `the log of ${d.old_size} entries (root ${d.old_root}) is a prefix of the log of ${d.new_size} entries (root ${d.new_root})`,
      heads,
    }
  }
  throw new AuditFormatError('type', "must be 'inclusion' or 'consistency'")
}
