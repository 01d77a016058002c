// Pairing an ATM with the console (docs/protocol.md §10): the operator's signer issues a NIP-26 delegation for
// kind 30079 with a time window, signs the machine config and the roster that lists the ATM, and the console shows
// a one-shot pairing payload (URI + QR) the ATM scans. Renewal issues a new window; revocation drops the ATM from
// the roster and issues nothing. Every signature goes through the Signer and is checked against the pinned key.

import { decode as nip19decode } from 'nostr-tools/nip19'
import { renderSVG } from 'uqr'
import type { Clock } from '../clock'
import { nowSec } from '../clock'
import { type Signer, signDelegationChecked, signEventChecked } from '../signer'
import { ID_PATTERN } from './atm-record'
import { isHex64, isHex128, type NostrEvent } from './event'
import {
  DEFAULT_DELEGATION_WINDOW_DAYS,
  DELEGATION_WARN_DAYS,
  KIND_ATM_RECORD,
  MAX_DELEGATION_WINDOW_DAYS,
  MAX_FUTURE_SKEW_SEC,
} from './kinds'
import {
  buildMachineConfigTemplate,
  type DirectionFees,
  type DirectionLimits,
  type MachineConfigV1,
  serializeMachineConfigContent,
} from './machine-config'
import {
  buildConditions,
  conditionsAllow,
  conditionsWindow,
  type DelegationTag,
  delegationPolicyViolations,
  parseConditions,
  verifyDelegationToken,
} from './nip26'
import { parseConnectionUri } from './nip47'
import { buildRosterTemplate, nextRosterCreatedAt } from './roster'

export const PAIRING_URI_PREFIX = 'satmachine-pair:?'
/** The pairing URI version written (docs/protocol.md §10.2); version 1 URIs (no `cur`, no `nwcpay`) still parse. */
export const PAIRING_VERSION = '2'
/** The ATM must scan the payload within this time. */
export const PAIRING_PAYLOAD_TTL_SEC = 24 * 3600
const DAY_SEC = 86_400

export class PairingError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'PairingError'
  }
}

/** A delegation the console issued, with its window (both bounds strict, as in the conditions). */
export interface IssuedDelegation extends DelegationTag {
  atmPubkey: string
  createdAfter: number
  createdBefore: number
  issuedAt: number
}

/** What the ATM receives. */
export interface PairingPayload {
  v: 1
  atmPubkey: string
  operatorPubkey: string
  consolePubkey: string
  machineId: string
  conditions: string
  token: string
  relays: string[]
  /** Id of the signed machine config event (the ATM fetches it and checks it). */
  configEventId: string | null
  /** The receive-only NWC URI for cash-out invoices; a secret, which is why the payload is shown once. */
  nwcUri: string | null
  /**
   * The pay-capable, budget-limited NWC URI the ATM pays cash-in customers with (the operator creates it in the
   * wallet with a budget); a secret like `nwcUri`. Null when the ATM does no cash-in or has it already.
   */
  nwcCashInUri: string | null
  /** ISO 4217 currency of the machine (from its config); null only in a version 1 payload. */
  currency: string | null
  /** Unix seconds after which the ATM must refuse the payload. */
  expiresAt: number
}

/** Accepts an npub or 64 lowercase/uppercase hex; returns lowercase hex. Throws PairingError. */
export function normalizePubkey(field: string, input: string): string {
  const s = input.trim()
  if (/^[0-9a-fA-F]{64}$/.test(s)) return s.toLowerCase()
  if (s.startsWith('npub1')) {
    try {
      const d = nip19decode(s)
      if (d.type === 'npub') return d.data
    } catch {
      // fall through to the error below
    }
  }
  throw new PairingError(field, 'must be an npub or 64 hex characters')
}

function windowSeconds(windowDays: number): number {
  if (!Number.isInteger(windowDays) || windowDays < 1 || windowDays > MAX_DELEGATION_WINDOW_DAYS)
    throw new PairingError('windowDays', `must be an integer 1..${MAX_DELEGATION_WINDOW_DAYS}`)
  return windowDays * DAY_SEC
}

/**
 * Issues a delegation for kind 30079 valid strictly between now − skew and now − skew + windowDays. Starting a
 * little in the past tolerates an ATM clock that lags; the window length stays exactly windowDays so a device
 * policy that caps the window at 90 days accepts it.
 */
export async function issueDelegation(
  args: { atmPubkey: string; operatorPubkey: string; windowDays?: number },
  signer: Signer,
  clock: Clock,
): Promise<IssuedDelegation> {
  const now = nowSec(clock)
  const createdAfter = now - MAX_FUTURE_SKEW_SEC
  const createdBefore = createdAfter + windowSeconds(args.windowDays ?? DEFAULT_DELEGATION_WINDOW_DAYS)
  const conditions = buildConditions({ kinds: [KIND_ATM_RECORD], createdAfter, createdBefore })
  // Invariant: what we ask the device to sign passes the device's own policy, so the operator never sees a refusal.
  const violations = delegationPolicyViolations(conditions)
  if (violations.length > 0) throw new PairingError('conditions', violations.join('; '))
  const token = await signDelegationChecked(
    signer,
    { delegateePubkey: args.atmPubkey, conditions },
    args.operatorPubkey,
  )
  return {
    atmPubkey: args.atmPubkey,
    delegatorPubkey: args.operatorPubkey,
    conditions,
    token,
    createdAfter,
    createdBefore,
    issuedAt: now,
  }
}

export interface CreatePairingInput {
  atmNpubOrHex: string
  operatorPubkey: string
  consolePubkey: string
  relays: string[]
  machineId: string
  name: string
  currency: string
  fees: { cash_out: DirectionFees; cash_in: DirectionFees }
  discountPpm: number
  limits: { cash_out: DirectionLimits; cash_in: DirectionLimits }
  /** Members of the roster currently in force (empty for the first ATM). */
  currentMembers: readonly string[]
  /**
   * created_at of the newest roster version (null or absent for the first ATM). The new version is dated strictly
   * after it, so two pairings within one second cannot produce two versions with the same created_at (§7).
   */
  currentRosterCreatedAt?: number | null
  windowDays?: number
  nwcReceiveOnlyUri?: string
  /** Pay-capable, budget-limited NWC URI for cash-in (handed over in the payload only, never stored). */
  nwcCashInUri?: string
  /**
   * created_at of the newest config version of this ATM when it is paired again (a replacement): the new version is
   * dated at least a second later, because relays keep one version per address and break a tie by the lower id.
   */
  currentConfigCreatedAt?: number | null
}

export interface Pairing {
  atmPubkey: string
  delegation: IssuedDelegation
  configEvent: NostrEvent
  /** Null when the ATM was already in the roster (re-pairing): nothing to re-sign. */
  rosterEvent: NostrEvent | null
  payload: PairingPayload
  uri: string
  svg: string
}

/**
 * Pairs an ATM. Signing order on the device: delegation, config, roster. Nothing is published here; the caller
 * publishes config then roster and shows the QR once.
 */
export async function createPairing(input: CreatePairingInput, signer: Signer, clock: Clock): Promise<Pairing> {
  const atmPubkey = normalizePubkey('atmNpubOrHex', input.atmNpubOrHex)
  if (!isHex64(input.operatorPubkey)) throw new PairingError('operatorPubkey', 'must be 64 lowercase hex')
  if (!isHex64(input.consolePubkey)) throw new PairingError('consolePubkey', 'must be 64 lowercase hex')
  if (atmPubkey === input.operatorPubkey || atmPubkey === input.consolePubkey)
    throw new PairingError('atmNpubOrHex', 'the ATM key must differ from the operator and console keys')
  for (const field of ['nwcReceiveOnlyUri', 'nwcCashInUri'] as const) {
    const uri = input[field]
    if (uri === undefined) continue
    // A connection the ATM cannot use would only show up at its first sale: check the whole URI now.
    try {
      parseConnectionUri(uri)
    } catch (e) {
      throw new PairingError(field, e instanceof Error ? e.message : String(e))
    }
  }
  if (input.nwcReceiveOnlyUri !== undefined && input.nwcReceiveOnlyUri === input.nwcCashInUri)
    throw new PairingError('nwcCashInUri', 'must be a different connection from the receive-only one')
  const config: MachineConfigV1 = {
    v: 1,
    atmPubkey,
    machineId: input.machineId,
    name: input.name,
    currency: input.currency,
    consolePubkey: input.consolePubkey,
    relays: [...input.relays],
    fees: input.fees,
    discountPpm: input.discountPpm,
    limits: input.limits,
  }
  // Validate before asking the operator to confirm anything on the device.
  serializeMachineConfigContent(config)
  const now = nowSec(clock)
  const delegation = await issueDelegation(
    { atmPubkey, operatorPubkey: input.operatorPubkey, windowDays: input.windowDays ?? DEFAULT_DELEGATION_WINDOW_DAYS },
    signer,
    clock,
  )
  // The config names the token it puts in force, so an older token of this ATM stops counting (§6).
  const configEvent = await signEventChecked(
    signer,
    buildMachineConfigTemplate(config, nextRosterCreatedAt(now, input.currentConfigCreatedAt), delegation.token),
    input.operatorPubkey,
  )
  const rosterEvent = input.currentMembers.includes(atmPubkey)
    ? null
    : await signEventChecked(
        signer,
        buildRosterTemplate(
          [...input.currentMembers, atmPubkey],
          nextRosterCreatedAt(now, input.currentRosterCreatedAt),
        ),
        input.operatorPubkey,
      )
  const payload: PairingPayload = {
    v: 1,
    atmPubkey,
    operatorPubkey: input.operatorPubkey,
    consolePubkey: input.consolePubkey,
    machineId: input.machineId,
    conditions: delegation.conditions,
    token: delegation.token,
    relays: [...input.relays],
    configEventId: configEvent.id,
    nwcUri: input.nwcReceiveOnlyUri ?? null,
    nwcCashInUri: input.nwcCashInUri ?? null,
    currency: input.currency,
    expiresAt: now + PAIRING_PAYLOAD_TTL_SEC,
  }
  const uri = encodePairingUri(payload)
  return { atmPubkey, delegation, configEvent, rosterEvent, payload, uri, svg: pairingQrSvg(uri) }
}

/** New window for an ATM still in the roster; returns the delegation and a payload without the NWC secret. */
export async function renewDelegation(
  args: {
    atmPubkey: string
    operatorPubkey: string
    consolePubkey: string
    machineId: string
    relays: string[]
    windowDays?: number
    /** The machine's currency (put into the payload, §10.2). */
    currency: string
    /** The ATM's current config: re-signed naming the new token, so the old one is superseded (§6). */
    config?: MachineConfigV1
    /**
     * created_at of that config's newest version: the re-signed one is dated at least a second later, because
     * relays keep one version per (kind, author, d) and break a same-second tie by the lower id (§3).
     */
    configCreatedAt?: number
  },
  signer: Signer,
  clock: Clock,
): Promise<{
  delegation: IssuedDelegation
  configEvent: NostrEvent | null
  payload: PairingPayload
  uri: string
  svg: string
}> {
  const delegation = await issueDelegation(args, signer, clock)
  const configEvent =
    args.config === undefined
      ? null
      : await signEventChecked(
          signer,
          buildMachineConfigTemplate(
            args.config,
            nextRosterCreatedAt(nowSec(clock), args.configCreatedAt),
            delegation.token,
          ),
          args.operatorPubkey,
        )
  const payload: PairingPayload = {
    v: 1,
    atmPubkey: args.atmPubkey,
    operatorPubkey: args.operatorPubkey,
    consolePubkey: args.consolePubkey,
    machineId: args.machineId,
    conditions: delegation.conditions,
    token: delegation.token,
    relays: [...args.relays],
    configEventId: configEvent?.id ?? null,
    nwcUri: null,
    nwcCashInUri: null,
    currency: args.currency,
    expiresAt: nowSec(clock) + PAIRING_PAYLOAD_TTL_SEC,
  }
  const uri = encodePairingUri(payload)
  return { delegation, configEvent, payload, uri, svg: pairingQrSvg(uri) }
}

/**
 * Revokes an ATM: the roster without it, signed now (or one second after the newest version, when that is later,
 * §7). Its delegation is not renewed and expires on its own.
 */
export async function revokeAtm(
  args: {
    atmPubkey: string
    operatorPubkey: string
    currentMembers: readonly string[]
    /** created_at of the newest roster version; the new one is dated strictly after it. */
    currentRosterCreatedAt?: number | null
  },
  signer: Signer,
  clock: Clock,
): Promise<NostrEvent> {
  if (!args.currentMembers.includes(args.atmPubkey)) throw new PairingError('atmPubkey', 'is not in the roster')
  const members = args.currentMembers.filter((m) => m !== args.atmPubkey)
  return signEventChecked(
    signer,
    buildRosterTemplate(members, nextRosterCreatedAt(nowSec(clock), args.currentRosterCreatedAt)),
    args.operatorPubkey,
  )
}

export interface ExpiryWarning {
  atmPubkey: string
  createdBefore: number
  secondsLeft: number
  state: 'expiring' | 'expired'
}

/**
 * Warnings for delegations that expire within `warnDays` (default 14) or have expired, looking only at the
 * newest-ending delegation per ATM (a renewal supersedes). Revoked ATMs should be left out by the caller.
 */
export function expiringDelegations(
  delegations: readonly Pick<IssuedDelegation, 'atmPubkey' | 'createdBefore'>[],
  now: number,
  warnDays = DELEGATION_WARN_DAYS,
): ExpiryWarning[] {
  const latest = new Map<string, number>()
  for (const d of delegations) latest.set(d.atmPubkey, Math.max(latest.get(d.atmPubkey) ?? 0, d.createdBefore))
  const out: ExpiryWarning[] = []
  for (const [atmPubkey, createdBefore] of latest) {
    const secondsLeft = createdBefore - now
    if (secondsLeft <= warnDays * DAY_SEC)
      out.push({ atmPubkey, createdBefore, secondsLeft, state: secondsLeft <= 0 ? 'expired' : 'expiring' })
  }
  return out.sort((a, b) => a.createdBefore - b.createdBefore || (a.atmPubkey < b.atmPubkey ? -1 : 1))
}

/** `satmachine-pair:?v=1&atm=…&op=…&con=…&mid=…&cond=…&tok=…&relay=…(repeated)&cfg=…&nwc=…&exp=…` */
export function encodePairingUri(p: PairingPayload): string {
  const q = new URLSearchParams()
  q.append('v', PAIRING_VERSION)
  q.append('atm', p.atmPubkey)
  q.append('op', p.operatorPubkey)
  q.append('con', p.consolePubkey)
  q.append('mid', p.machineId)
  q.append('cond', p.conditions)
  q.append('tok', p.token)
  for (const r of p.relays) q.append('relay', r)
  if (p.configEventId !== null) q.append('cfg', p.configEventId)
  if (p.nwcUri !== null) q.append('nwc', p.nwcUri)
  if (p.nwcCashInUri !== null) q.append('nwcpay', p.nwcCashInUri)
  if (p.currency !== null) q.append('cur', p.currency)
  q.append('exp', String(p.expiresAt))
  return PAIRING_URI_PREFIX + q.toString()
}

/** The pairing URI as an SVG QR code (error correction M). */
export function pairingQrSvg(uri: string): string {
  return renderSVG(uri, { ecc: 'M', border: 4 })
}

const KNOWN_V1 = new Set(['v', 'atm', 'op', 'con', 'mid', 'cond', 'tok', 'relay', 'cfg', 'nwc', 'exp'])
const KNOWN_V2 = new Set([...KNOWN_V1, 'nwcpay', 'cur'])

/**
 * ATM side: parses and checks a pairing URI. Throws PairingError naming the parameter. Checks the delegation token
 * verifies under `op` for `atm`, that it allows kind 30079 now, that the payload has not expired, and, when given,
 * that it is meant for this ATM.
 */
export function parsePairingPayload(uri: string, opts: { nowSec: number; expectAtmPubkey?: string }): PairingPayload {
  if (typeof uri !== 'string' || !uri.startsWith(PAIRING_URI_PREFIX))
    throw new PairingError('uri', `must start with ${PAIRING_URI_PREFIX}`)
  if (uri.length > 4096) throw new PairingError('uri', 'longer than 4096 characters')
  const q = new URLSearchParams(uri.slice(PAIRING_URI_PREFIX.length))
  const version = q.get('v')
  const known = version === '1' ? KNOWN_V1 : KNOWN_V2
  for (const k of q.keys()) if (!known.has(k)) throw new PairingError(k, 'unknown parameter')
  const single = (k: string, required = true): string | null => {
    const all = q.getAll(k)
    if (all.length > 1) throw new PairingError(k, 'appears more than once')
    if (all.length === 0) {
      if (required) throw new PairingError(k, 'missing')
      return null
    }
    return all[0]!
  }
  const v = single('v')
  if (v !== '1' && v !== PAIRING_VERSION)
    throw new PairingError('v', `unsupported version (expected 1 or ${PAIRING_VERSION})`)
  const hex = (k: string): string => {
    const v = single(k)!
    if (!isHex64(v)) throw new PairingError(k, 'must be 64 lowercase hex characters')
    return v
  }
  const atmPubkey = hex('atm')
  const operatorPubkey = hex('op')
  const consolePubkey = hex('con')
  const machineId = single('mid')!
  if (!ID_PATTERN.test(machineId)) throw new PairingError('mid', 'must be 1-64 characters of A-Z a-z 0-9 . _ : -')
  const conditions = single('cond')!
  const token = single('tok')!
  if (!isHex128(token)) throw new PairingError('tok', 'must be 128 lowercase hex characters')
  const relays = q.getAll('relay')
  if (relays.length === 0 || relays.length > 8) throw new PairingError('relay', 'must appear 1-8 times')
  relays.forEach((r) => {
    if (!/^wss?:\/\/[^\s]{1,250}$/.test(r)) throw new PairingError('relay', `${r} is not a ws:// or wss:// URL`)
  })
  const cfg = single('cfg', false)
  if (cfg !== null && !isHex64(cfg)) throw new PairingError('cfg', 'must be 64 lowercase hex characters')
  const nwc = single('nwc', false)
  if (nwc !== null && !nwc.startsWith('nostr+walletconnect://'))
    throw new PairingError('nwc', 'must be a nostr+walletconnect:// URI')
  const nwcpay = single('nwcpay', false)
  if (nwcpay !== null && !nwcpay.startsWith('nostr+walletconnect://'))
    throw new PairingError('nwcpay', 'must be a nostr+walletconnect:// URI')
  const cur = single('cur', v === PAIRING_VERSION)
  if (cur !== null && !/^[A-Z]{3}$/.test(cur)) throw new PairingError('cur', 'must be an ISO 4217 code (3 capitals)')
  const expRaw = single('exp')!
  if (!/^(0|[1-9][0-9]{0,15})$/.test(expRaw)) throw new PairingError('exp', 'must be unix seconds')
  const expiresAt = Number(expRaw)
  if (opts.nowSec > expiresAt) throw new PairingError('exp', 'the pairing payload has expired')
  if (opts.expectAtmPubkey !== undefined && opts.expectAtmPubkey !== atmPubkey)
    throw new PairingError('atm', 'the payload is for another ATM key')
  let parsed: ReturnType<typeof parseConditions>
  try {
    parsed = parseConditions(conditions)
  } catch (e) {
    throw new PairingError('cond', e instanceof Error ? e.message : String(e))
  }
  const window = conditionsWindow(parsed)
  if (parsed.kinds.length !== 1 || parsed.kinds[0] !== KIND_ATM_RECORD || window === null)
    throw new PairingError('cond', 'must be exactly kind=30079&created_at>A&created_at<B')
  if (!conditionsAllow(parsed, { kind: KIND_ATM_RECORD, created_at: opts.nowSec }))
    throw new PairingError('cond', 'the delegation window does not include now')
  if (!verifyDelegationToken(operatorPubkey, atmPubkey, conditions, token))
    throw new PairingError('tok', 'does not verify under the operator key')
  return {
    v: 1,
    atmPubkey,
    operatorPubkey,
    consolePubkey,
    machineId,
    conditions,
    token,
    relays,
    configEventId: cfg,
    nwcUri: nwc,
    nwcCashInUri: nwcpay,
    currency: cur,
    expiresAt,
  }
}
