// Device-side policy of an NSHP/1 signer (docs/signer-protocol.md §8): which NIP-26 delegations and which events
// the device agrees to sign at all, before it shows anything. Pure. Written independently of the console's own
// NIP-26 parser (src-shared/nostr/nip26.ts) so that a bug in one is caught by the other.

const DAY = 86_400

export interface DevicePolicy {
  /** Longest delegation window the device signs (default 90 days). Configurable only on the device. */
  maxDelegationWindowSeconds: number
  /** Refuse a delegation with no kind clause ("ALL KINDS"). Default true. */
  refuseAllKinds: boolean
  /** Most kind clauses in one delegation (default 16). */
  maxDelegationKinds: number
}

export const DEFAULT_POLICY: DevicePolicy = {
  maxDelegationWindowSeconds: 90 * DAY,
  refuseAllKinds: true,
  maxDelegationKinds: 16,
}

export interface ParsedDelegation {
  /** Allowed kinds in the order given; empty = all kinds. */
  kinds: number[]
  /** created_at must be strictly greater than this. */
  from: number
  /** created_at must be strictly smaller than this. */
  until: number
}

/** Outcome of the policy check: the parsed conditions, or why the device refuses (status POLICY_DENIED / BAD_REQUEST). */
export type DelegationVerdict =
  | { ok: true; parsed: ParsedDelegation }
  | { ok: false; status: 'bad-request' | 'policy-denied'; reason: string }

const CANONICAL = /^(0|[1-9][0-9]{0,15})$/

/**
 * Parses and polices a NIP-26 conditions string. Grammar: clauses joined by "&"; each clause exactly
 * `kind=<n>` (0..65535), `created_at><t>` or `created_at<<t>`, numbers canonical decimal. Exactly one lower and
 * one upper bound, no repeated kind, from < until, window ≤ policy, kinds present unless policy allows all.
 */
export function checkDelegation(conditions: string, policy: DevicePolicy = DEFAULT_POLICY): DelegationVerdict {
  const bad = (reason: string): DelegationVerdict => ({ ok: false, status: 'bad-request', reason })
  const deny = (reason: string): DelegationVerdict => ({ ok: false, status: 'policy-denied', reason })
  if (conditions.length === 0) return bad('conditions: empty')
  const kinds: number[] = []
  const froms: number[] = []
  const untils: number[] = []
  for (const [i, clause] of conditions.split('&').entries()) {
    const at = `conditions clause ${i + 1}`
    let key: 'kind' | 'from' | 'until'
    let num: string
    if (clause.startsWith('kind=')) [key, num] = ['kind', clause.slice(5)]
    else if (clause.startsWith('created_at>')) [key, num] = ['from', clause.slice(11)]
    else if (clause.startsWith('created_at<')) [key, num] = ['until', clause.slice(11)]
    else return bad(`${at}: unknown field or operator`)
    if (!CANONICAL.test(num)) return bad(`${at}: not a canonical decimal`)
    const n = Number(num)
    if (!Number.isSafeInteger(n)) return bad(`${at}: number out of range`)
    if (key === 'kind') {
      if (n > 65535) return bad(`${at}: kind above 65535`)
      if (kinds.includes(n)) return bad(`${at}: kind ${n} repeated`)
      kinds.push(n)
    } else (key === 'from' ? froms : untils).push(n)
  }
  if (froms.length !== 1) return deny(froms.length === 0 ? 'no start time (created_at>)' : 'created_at> repeated')
  if (untils.length !== 1) return deny(untils.length === 0 ? 'no end time (created_at<)' : 'created_at< repeated')
  const from = froms[0] as number
  const until = untils[0] as number
  if (until <= from) return deny('end time is not after the start time')
  if (until - from > policy.maxDelegationWindowSeconds)
    return deny(`window longer than ${Math.floor(policy.maxDelegationWindowSeconds / DAY)} days`)
  if (kinds.length === 0 && policy.refuseAllKinds) return deny('no kind restriction (ALL KINDS)')
  if (kinds.length > policy.maxDelegationKinds) return deny(`more than ${policy.maxDelegationKinds} kinds`)
  return { ok: true, parsed: { kinds, from, until } }
}
