// NIP-26 delegated event signing (nostr-protocol/nips 26.md; marked "unrecommended" upstream, so relays do not
// check it and the console verifies it itself, docs/protocol.md §4). nostr-tools has no NIP-26 module.
//
// Token = BIP-340 signature by the delegator over sha256("nostr:delegation:<delegatee hex>:<conditions>").
// Conditions: clauses joined by "&", each `kind=<n>`, `created_at<<t>` or `created_at><t>`. Repeated kind clauses
// are alternatives (the spec lists `kind=0&kind=1&…` as valid); created_at bounds all hold and are strict.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { isHex64, isHex128, type SchnorrVerify, schnorrVerifyHex } from './event'

/** Thrown by the strict parsers; `field` names what was wrong. */
export class Nip26Error extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'Nip26Error'
  }
}

export interface DelegationConditions {
  /** Allowed kinds; empty means every kind (the console never issues that). */
  kinds: number[]
  /** Events must have created_at strictly greater than every one of these. */
  createdAfter: number[]
  /** Events must have created_at strictly smaller than every one of these. */
  createdBefore: number[]
}

/** The parsed `delegation` tag. */
export interface DelegationTag {
  delegatorPubkey: string
  conditions: string
  token: string
}

const DECIMAL = /^(0|[1-9][0-9]*)$/

function parseDecimal(field: string, s: string, max: number): number {
  if (!DECIMAL.test(s)) throw new Nip26Error(field, `"${s}" is not a canonical decimal integer`)
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n > max) throw new Nip26Error(field, `${s} is out of range (max ${max})`)
  return n
}

/**
 * Strict parser: every clause must be one of the three forms with a canonical decimal (no sign, no leading zeros,
 * no spaces), the string must be non-empty and have no empty clause. Throws Nip26Error naming the clause.
 */
export function parseConditions(conditions: string): DelegationConditions {
  if (typeof conditions !== 'string' || conditions.length === 0) throw new Nip26Error('conditions', 'empty')
  if (conditions.length > 1024) throw new Nip26Error('conditions', 'longer than 1024 characters')
  const out: DelegationConditions = { kinds: [], createdAfter: [], createdBefore: [] }
  const clauses = conditions.split('&')
  clauses.forEach((clause, i) => {
    const field = `conditions clause ${i + 1} "${clause}"`
    const m = /^(kind=|created_at<|created_at>)(.*)$/.exec(clause)
    if (!m) throw new Nip26Error(field, 'expected kind=<n>, created_at<<t> or created_at><t>')
    if (m[1] === 'kind=') out.kinds.push(parseDecimal(field, m[2]!, 65535))
    else if (m[1] === 'created_at<') out.createdBefore.push(parseDecimal(field, m[2]!, Number.MAX_SAFE_INTEGER))
    else out.createdAfter.push(parseDecimal(field, m[2]!, Number.MAX_SAFE_INTEGER))
  })
  return out
}

/** Builds a conditions string in the canonical order the console issues: kinds, then created_at>, then created_at<. */
export function buildConditions(c: { kinds: number[]; createdAfter?: number; createdBefore?: number }): string {
  const parts: string[] = []
  for (const k of c.kinds) {
    if (!Number.isInteger(k) || k < 0 || k > 65535) throw new Nip26Error('kinds', `${k} is not a kind`)
    parts.push(`kind=${k}`)
  }
  if (c.createdAfter !== undefined) {
    if (!Number.isSafeInteger(c.createdAfter) || c.createdAfter < 0) throw new Nip26Error('createdAfter', 'bad time')
    parts.push(`created_at>${c.createdAfter}`)
  }
  if (c.createdBefore !== undefined) {
    if (!Number.isSafeInteger(c.createdBefore) || c.createdBefore < 0) throw new Nip26Error('createdBefore', 'bad time')
    parts.push(`created_at<${c.createdBefore}`)
  }
  if (parts.length === 0) throw new Nip26Error('conditions', 'at least one clause is required')
  return parts.join('&')
}

/** The string the delegator signs (hashed with sha256). */
export const delegationString = (delegateePubkey: string, conditions: string): string =>
  `nostr:delegation:${delegateePubkey}:${conditions}`

/** sha256 of the delegation string, lowercase hex: the 32-byte message of the token. */
export const delegationHashHex = (delegateePubkey: string, conditions: string): string =>
  bytesToHex(sha256(utf8ToBytes(delegationString(delegateePubkey, conditions))))

/**
 * True when `token` is the delegator's valid signature for this delegatee and conditions string. Never throws.
 * `verify` is the BIP-340 check (default: pure-JS noble); the console passes the relay pool's WASM verifier.
 */
export function verifyDelegationToken(
  delegatorPubkey: string,
  delegateePubkey: string,
  conditions: string,
  token: string,
  verify: SchnorrVerify = schnorrVerifyHex,
): boolean {
  if (!isHex64(delegatorPubkey) || !isHex64(delegateePubkey) || !isHex128(token)) return false
  return verify(token, delegationHashHex(delegateePubkey, conditions), delegatorPubkey)
}

/**
 * Remembers delegation tokens that verified, so the same token is not checked again for every record an ATM
 * sends (one ATM signs thousands of records under one delegation). Only successes are kept: a failure is checked
 * again each time. The key is every input of the check (delegator, delegatee, conditions, token), so a remembered
 * answer is exactly the answer the check would give again; nothing about time or revocation is cached (the
 * conditions and the roster are evaluated per record). Bounded: the oldest entry goes when the map is full.
 */
export class DelegationTokenMemo {
  private readonly ok = new Map<string, true>()
  constructor(readonly maxEntries = 4096) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new Nip26Error('maxEntries', 'must be a positive integer')
  }

  /** verifyDelegationToken, answered from memory when this exact token already verified. */
  verify(
    delegatorPubkey: string,
    delegateePubkey: string,
    conditions: string,
    token: string,
    verify: SchnorrVerify = schnorrVerifyHex,
  ): boolean {
    if (!isHex64(delegatorPubkey) || !isHex64(delegateePubkey) || !isHex128(token)) return false
    // The three hex fields have fixed lengths, so putting the free-form conditions last keeps the key unambiguous.
    const key = `${delegatorPubkey}|${delegateePubkey}|${token}|${conditions}`
    if (this.ok.has(key)) return true
    if (!verifyDelegationToken(delegatorPubkey, delegateePubkey, conditions, token, verify)) return false
    if (this.ok.size >= this.maxEntries) {
      const oldest = this.ok.keys().next().value
      if (oldest !== undefined) this.ok.delete(oldest)
    }
    this.ok.set(key, true)
    return true
  }

  get size(): number {
    return this.ok.size
  }
}

/** Whether the parsed conditions allow an event of this kind at this created_at (strict bounds). */
export function conditionsAllow(c: DelegationConditions, ev: { kind: number; created_at: number }): boolean {
  if (c.kinds.length > 0 && !c.kinds.includes(ev.kind)) return false
  if (c.createdAfter.some((t) => !(ev.created_at > t))) return false
  if (c.createdBefore.some((t) => !(ev.created_at < t))) return false
  return true
}

/** The window [after, before] an issued-style condition set describes, if it has exactly one of each bound. */
export function conditionsWindow(c: DelegationConditions): { createdAfter: number; createdBefore: number } | null {
  if (c.createdAfter.length !== 1 || c.createdBefore.length !== 1) return null
  return { createdAfter: c.createdAfter[0]!, createdBefore: c.createdBefore[0]! }
}

/**
 * Reads the single `delegation` tag of an event. Throws Nip26Error when it is absent, repeated, or not exactly
 * ["delegation", <64 hex>, <conditions>, <128 hex>].
 */
export function parseDelegationTag(ev: { tags: string[][] }): DelegationTag {
  const tags = ev.tags.filter((t) => t[0] === 'delegation')
  if (tags.length === 0) throw new Nip26Error('delegation tag', 'missing')
  if (tags.length > 1) throw new Nip26Error('delegation tag', 'appears more than once')
  const t = tags[0]!
  if (t.length !== 4) throw new Nip26Error('delegation tag', `has ${t.length} elements, expected 4`)
  if (!isHex64(t[1])) throw new Nip26Error('delegation tag [1] delegator', 'must be 64 lowercase hex characters')
  if (!isHex128(t[3])) throw new Nip26Error('delegation tag [3] token', 'must be 128 lowercase hex characters')
  return { delegatorPubkey: t[1]!, conditions: t[2]!, token: t[3]! }
}

/** The tag to put on a delegated event. */
export const delegationTag = (d: DelegationTag): string[] => ['delegation', d.delegatorPubkey, d.conditions, d.token]

export interface DelegationPolicy {
  /** Longest window allowed (days). */
  maxWindowDays: number
  /** Refuse conditions without a kind clause ("ALL KINDS"). */
  requireKind: boolean
}

export const DEFAULT_DELEGATION_POLICY: DelegationPolicy = { maxWindowDays: 90, requireKind: true }

/**
 * Signer-side policy (docs/protocol.md §4): both bounds present exactly once, window within the cap, a kind
 * clause present, no clause repeated. Returns the reasons the conditions break the policy; empty means allowed.
 * Parsing errors are returned too, so a signer can show them instead of crashing.
 */
export function delegationPolicyViolations(conditions: string, policy = DEFAULT_DELEGATION_POLICY): string[] {
  let c: DelegationConditions
  try {
    c = parseConditions(conditions)
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)]
  }
  const out: string[] = []
  const clauses = conditions.split('&')
  if (new Set(clauses).size !== clauses.length) out.push('a clause is repeated')
  if (c.createdAfter.length !== 1) out.push('exactly one created_at> bound is required')
  if (c.createdBefore.length !== 1) out.push('exactly one created_at< bound is required')
  if (policy.requireKind && c.kinds.length === 0) out.push('no kind restriction (ALL KINDS)')
  const w = conditionsWindow(c)
  if (w !== null) {
    if (w.createdBefore <= w.createdAfter) out.push('the window is empty')
    else if (w.createdBefore - w.createdAfter > policy.maxWindowDays * 86_400)
      out.push(`the window is longer than ${policy.maxWindowDays} days`)
  }
  return out
}

/** Plain-words summary shown before signing a delegation (the same text on the device and in the app). */
export function describeDelegation(delegateeNpub: string, conditions: string): string[] {
  const c = parseConditions(conditions)
  const iso = (t: number) => `${new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`
  const lines = [`Delegate signing to: ${delegateeNpub}`]
  lines.push(c.kinds.length === 0 ? 'Allowed kinds: ALL KINDS' : `Allowed kinds: ${c.kinds.join(', ')}`)
  const w = conditionsWindow(c)
  if (w !== null) lines.push(`Valid from ${iso(w.createdAfter)} to ${iso(w.createdBefore)}`)
  else {
    for (const t of c.createdAfter) lines.push(`Only after ${iso(t)}`)
    for (const t of c.createdBefore) lines.push(`Only before ${iso(t)}`)
  }
  lines.push(`Conditions: ${conditions}`)
  return lines
}
