// Machine config (kind 30078, NIP-78 app data, d = "satmachine:machine:<atm pubkey hex>"), operator-signed on the
// device. Builds the unsigned template, parses fetched events strictly, keeps the history and diffs versions.
// Spec: docs/protocol.md §6.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { ID_PATTERN } from './atm-record'
import type { EventTemplate, NostrEvent } from './event'
import { checkEvent, isHex64 } from './event'
import { D_MACHINE_PREFIX, KIND_APP_DATA, MAX_CONFIG_CONTENT_CHARS, machineConfigD } from './kinds'

export interface DirectionFees {
  /** Platform fraction X. */
  platformPpm: number
  /** Operator fraction Y; X + Y ≤ 150,000 (docs/settlement.md). */
  operatorPpm: number
}

export interface DirectionLimits {
  minFiatMinor: bigint
  maxFiatMinor: bigint
}

/** Content of the config, version 1. */
export interface MachineConfigV1 {
  v: 1
  atmPubkey: string
  machineId: string
  name: string
  currency: string
  consolePubkey: string
  relays: string[]
  fees: { cash_out: DirectionFees; cash_in: DirectionFees }
  /** Discount D applied to the commission fraction of both directions (one value, as the ledger snapshots it). */
  discountPpm: number
  limits: { cash_out: DirectionLimits; cash_in: DirectionLimits }
}

/** A verified config event with who signed it and when. */
export interface MachineConfig extends MachineConfigV1 {
  /**
   * sha256 (hex) of the NIP-26 token in force for this ATM from this config on (the `delegation_sha256` tag), or
   * null for a config that names none. Records under another token are refused once it takes effect.
   */
  delegationSha256: string | null
  eventId: string
  createdAt: number
  signerPubkey: string
}

export class MachineConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'MachineConfigError'
  }
}

export const MAX_FEE_SUM_PPM = 150_000
const RELAY = /^wss?:\/\/[^\s]{1,250}$/
const CURRENCY = /^[A-Z]{3}$/
const DECIMAL = /^(0|[1-9][0-9]{0,17})$/
const KEYS = [
  'v',
  'atmPubkey',
  'machineId',
  'name',
  'currency',
  'consolePubkey',
  'relays',
  'fees',
  'discountPpm',
  'limits',
]

const fail = (field: string, message: string): never => {
  throw new MachineConfigError(field, message)
}

function obj(v: unknown, field: string, keys: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(field, 'must be an object')
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${field}.${k}`, 'unknown field')
  for (const k of keys) if (!(k in o)) fail(`${field}.${k}`, 'missing')
  return o
}

function ppm(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1_000_000) return fail(field, 'must be 0..1000000')
  return v
}

function minor(v: unknown, field: string): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v)) return fail(field, 'must be a canonical decimal string')
  return BigInt(v)
}

function parseFees(v: unknown, field: string): DirectionFees {
  const o = obj(v, field, ['platformPpm', 'operatorPpm'])
  const f = {
    platformPpm: ppm(o.platformPpm, `${field}.platformPpm`),
    operatorPpm: ppm(o.operatorPpm, `${field}.operatorPpm`),
  }
  if (f.platformPpm + f.operatorPpm > MAX_FEE_SUM_PPM)
    fail(field, `platformPpm + operatorPpm must not exceed ${MAX_FEE_SUM_PPM}`)
  return f
}

function parseLimits(v: unknown, field: string): DirectionLimits {
  const o = obj(v, field, ['minFiatMinor', 'maxFiatMinor'])
  const l = {
    minFiatMinor: minor(o.minFiatMinor, `${field}.minFiatMinor`),
    maxFiatMinor: minor(o.maxFiatMinor, `${field}.maxFiatMinor`),
  }
  if (l.minFiatMinor > l.maxFiatMinor) fail(`${field}.minFiatMinor`, 'must not exceed maxFiatMinor')
  return l
}

/** Strict parser for the content JSON. */
export function parseMachineConfigContent(content: string): MachineConfigV1 {
  if (content.length > MAX_CONFIG_CONTENT_CHARS) fail('content', `longer than ${MAX_CONFIG_CONTENT_CHARS} characters`)
  let doc: unknown
  try {
    doc = JSON.parse(content)
  } catch {
    return fail('content', 'is not valid JSON')
  }
  if (typeof doc === 'object' && doc !== null && (doc as { v?: unknown }).v !== 1)
    fail('v', 'unsupported config version (this console reads 1)')
  const o = obj(doc, 'config', KEYS)
  const s = (k: string, re: RegExp, what: string): string => {
    const v = o[k]
    if (typeof v !== 'string' || !re.test(v)) return fail(k, `must be ${what}`)
    return v
  }
  const relaysRaw = o.relays
  if (!Array.isArray(relaysRaw) || relaysRaw.length < 1 || relaysRaw.length > 8) fail('relays', 'must list 1-8 relays')
  const relays = (relaysRaw as unknown[]).map((r, i) => {
    if (typeof r !== 'string' || !RELAY.test(r)) return fail(`relays[${i}]`, 'must be a ws:// or wss:// URL')
    return r
  })
  if (new Set(relays).size !== relays.length) fail('relays', 'must not repeat a relay')
  const fees = obj(o.fees, 'fees', ['cash_out', 'cash_in'])
  const limits = obj(o.limits, 'limits', ['cash_out', 'cash_in'])
  return {
    v: 1,
    atmPubkey: s('atmPubkey', /^[0-9a-f]{64}$/, '64 lowercase hex characters'),
    machineId: s('machineId', ID_PATTERN, '1-64 characters of A-Z a-z 0-9 . _ : -'),
    // Names are shown on the device screen and in the UI: printable characters only.
    name: s('name', /^[^\p{C}]{1,80}$/u, '1-80 printable characters'),
    currency: s('currency', CURRENCY, 'an ISO 4217 code'),
    consolePubkey: s('consolePubkey', /^[0-9a-f]{64}$/, '64 lowercase hex characters'),
    relays,
    fees: { cash_out: parseFees(fees.cash_out, 'fees.cash_out'), cash_in: parseFees(fees.cash_in, 'fees.cash_in') },
    discountPpm: ppm(o.discountPpm, 'discountPpm'),
    limits: {
      cash_out: parseLimits(limits.cash_out, 'limits.cash_out'),
      cash_in: parseLimits(limits.cash_in, 'limits.cash_in'),
    },
  }
}

/** Canonical JSON of the config (fixed key order, bigints as strings); validated by the parser before returning. */
export function serializeMachineConfigContent(c: MachineConfigV1): string {
  const lim = (l: DirectionLimits) => ({
    minFiatMinor: l.minFiatMinor.toString(),
    maxFiatMinor: l.maxFiatMinor.toString(),
  })
  const fee = (f: DirectionFees) => ({ platformPpm: f.platformPpm, operatorPpm: f.operatorPpm })
  const s = JSON.stringify({
    v: 1,
    atmPubkey: c.atmPubkey,
    machineId: c.machineId,
    name: c.name,
    currency: c.currency,
    consolePubkey: c.consolePubkey,
    relays: c.relays,
    fees: { cash_out: fee(c.fees.cash_out), cash_in: fee(c.fees.cash_in) },
    discountPpm: c.discountPpm,
    limits: { cash_out: lim(c.limits.cash_out), cash_in: lim(c.limits.cash_in) },
  })
  parseMachineConfigContent(s)
  return s
}

/** The unsigned event the operator's signer shows and signs. */
/**
 * The hash a machine config names its delegation by: sha256 over the token's 64 signature bytes, lowercase hex
 * (docs/protocol.md §6).
 */
export function delegationTokenSha256(token: string): string {
  if (!/^[0-9a-f]{128}$/.test(token)) throw new MachineConfigError('delegationToken', 'must be 128 lowercase hex')
  return bytesToHex(sha256(hexToBytes(token)))
}

export function buildMachineConfigTemplate(
  c: MachineConfigV1,
  createdAt: number,
  delegationToken?: string,
): EventTemplate {
  return {
    kind: KIND_APP_DATA,
    created_at: createdAt,
    tags: [
      ['d', machineConfigD(c.atmPubkey)],
      ['p', c.atmPubkey],
      ...(delegationToken !== undefined ? [['delegation_sha256', delegationTokenSha256(delegationToken)]] : []),
    ],
    content: serializeMachineConfigContent(c),
  }
}

/**
 * Verifies a fetched config event: valid id and signature, signed by the operator, kind 30078, one d tag of the
 * machine form whose key equals the content's atmPubkey, one p tag equal to it, content per schema.
 */
export function parseMachineConfigEvent(ev: NostrEvent, operatorPubkey: string): MachineConfig {
  const check = checkEvent(ev)
  if (!check.ok) fail('event', check.detail)
  if (ev.pubkey !== operatorPubkey) fail('pubkey', 'config is not signed by the operator key')
  if (ev.kind !== KIND_APP_DATA) fail('kind', `must be ${KIND_APP_DATA}`)
  const ds = ev.tags.filter((t) => t[0] === 'd')
  if (ds.length !== 1) fail('tags.d', 'exactly one d tag is required')
  const d = ds[0]![1] ?? ''
  if (!d.startsWith(D_MACHINE_PREFIX) || !isHex64(d.slice(D_MACHINE_PREFIX.length)))
    fail('tags.d', `must be ${D_MACHINE_PREFIX}<64 hex>`)
  const c = parseMachineConfigContent(ev.content)
  if (d !== machineConfigD(c.atmPubkey)) fail('atmPubkey', 'does not match the d tag')
  const ps = ev.tags.filter((t) => t[0] === 'p')
  if (ps.length !== 1 || ps[0]![1] !== c.atmPubkey) fail('tags.p', 'exactly one p tag equal to atmPubkey is required')
  const hs = ev.tags.filter((t) => t[0] === 'delegation_sha256')
  if (hs.length > 1 || (hs.length === 1 && !isHex64(hs[0]![1] ?? '')))
    fail('tags.delegation_sha256', 'at most one, 64 lowercase hex')
  const delegationSha256 = hs.length === 1 ? (hs[0]![1] as string) : null
  return { ...c, delegationSha256, eventId: ev.id, createdAt: ev.created_at, signerPubkey: ev.pubkey }
}

/** NIP-01 order for addressable versions: newer created_at wins; on a tie the lower id wins. */
export const compareVersions = (
  a: { createdAt: number; eventId: string },
  b: { createdAt: number; eventId: string },
) =>
  a.createdAt !== b.createdAt ? a.createdAt - b.createdAt : a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0

/** The config in force at time `t` (latest with createdAt ≤ t), or null. */
export function configAt(history: readonly MachineConfig[], t: number): MachineConfig | null {
  let best: MachineConfig | null = null
  for (const c of history) if (c.createdAt <= t && (best === null || compareVersions(c, best) > 0)) best = c
  return best
}

/** The newest config regardless of time, or null. */
export function latestConfig(history: readonly MachineConfig[]): MachineConfig | null {
  let best: MachineConfig | null = null
  for (const c of history) if (best === null || compareVersions(c, best) > 0) best = c
  return best
}

export interface ConfigChange {
  field: string
  old: string | null
  new: string
}

export interface ConfigHistoryEntry {
  eventId: string
  signerPubkey: string
  createdAt: number
  changes: ConfigChange[]
}

function flatten(c: MachineConfigV1): Record<string, string> {
  const out: Record<string, string> = {
    machineId: c.machineId,
    name: c.name,
    currency: c.currency,
    consolePubkey: c.consolePubkey,
    relays: c.relays.join(' '),
    discountPpm: String(c.discountPpm),
  }
  for (const dir of ['cash_out', 'cash_in'] as const) {
    out[`fees.${dir}.platformPpm`] = String(c.fees[dir].platformPpm)
    out[`fees.${dir}.operatorPpm`] = String(c.fees[dir].operatorPpm)
    out[`limits.${dir}.minFiatMinor`] = c.limits[dir].minFiatMinor.toString()
    out[`limits.${dir}.maxFiatMinor`] = c.limits[dir].maxFiatMinor.toString()
  }
  return out
}

/** Field-by-field changes from `prev` (null: first version) to `next`, in a fixed field order. */
export function diffConfigs(prev: MachineConfigV1 | null, next: MachineConfigV1): ConfigChange[] {
  const a = prev ? flatten(prev) : {}
  const b = flatten(next)
  const changes: ConfigChange[] = []
  for (const [field, value] of Object.entries(b))
    if (a[field] !== value) changes.push({ field, old: a[field] ?? null, new: value })
  return changes
}

/** The history of one machine's config, oldest first: every version with what it changed, who signed, when. */
export function configHistory(versions: readonly MachineConfig[]): ConfigHistoryEntry[] {
  const sorted = [...versions].sort(compareVersions)
  const seen = new Set<string>()
  const out: ConfigHistoryEntry[] = []
  let prev: MachineConfig | null = null
  for (const c of sorted) {
    if (seen.has(c.eventId)) continue
    seen.add(c.eventId)
    out.push({
      eventId: c.eventId,
      signerPubkey: c.signerPubkey,
      createdAt: c.createdAt,
      changes: diffConfigs(prev, c),
    })
    prev = c
  }
  return out
}
