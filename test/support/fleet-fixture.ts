// A complete, valid fleet scenario for protocol tests: fixed operator, console and ATM keys, a roster and a
// machine config signed by the operator, a delegation for the ATM, a settled payment in an in-memory wallet, and
// a valid kind 30079 record. `ctx()` gives a VerifyRecordContext over in-memory state that tests can alter.
// The wallet here is the edge mock of lookup_invoice; the NWC round trip is tested against the real service in
// the interop suites.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { type AtmRecordV1, createAtmRecord } from '../../src-shared/nostr/atm-record'
import { type NostrEvent, publicKeyHex } from '../../src-shared/nostr/event'
import { KIND_ATM_RECORD } from '../../src-shared/nostr/kinds'
import {
  buildMachineConfigTemplate,
  type MachineConfig,
  type MachineConfigV1,
  parseMachineConfigEvent,
} from '../../src-shared/nostr/machine-config'
import { buildConditions, type DelegationTag } from '../../src-shared/nostr/nip26'
import { buildRosterTemplate, parseRosterEvent, type Roster } from '../../src-shared/nostr/roster'
import type { BookedRef, InvoiceLookup, VerifyRecordContext } from '../../src-shared/nostr/verify-record'
import type { Signer } from '../../src-shared/signer'

export const OPERATOR_SK = '1111111111111111111111111111111111111111111111111111111111111111'
export const CONSOLE_SK = '2222222222222222222222222222222222222222222222222222222222222222'
export const ATM_SK = '3333333333333333333333333333333333333333333333333333333333333333'
export const OTHER_SK = '4444444444444444444444444444444444444444444444444444444444444444'
/** 2026-09-21T23:06:40Z: the console's "now" in the scenario. */
export const T0 = 1_790_032_000
export const DAY = 86_400

const zeros = () => new Uint8Array(32)

export interface Keys {
  operatorPk: string
  consolePk: string
  atmPk: string
  otherPk: string
}

export const keys: Keys = {
  operatorPk: publicKeyHex(hexToBytes(OPERATOR_SK)),
  consolePk: publicKeyHex(hexToBytes(CONSOLE_SK)),
  atmPk: publicKeyHex(hexToBytes(ATM_SK)),
  otherPk: publicKeyHex(hexToBytes(OTHER_SK)),
}

/** Deterministic signers (zero aux randomness; NIP-44 nonces from a counter) so outputs are reproducible. */
export function signers(deterministic = true) {
  let n = 0
  const nonce = () => {
    n++
    const b = new Uint8Array(32)
    b[31] = n & 0xff
    b[30] = (n >> 8) & 0xff
    return b
  }
  const opts = deterministic ? { auxRand: zeros, nip44Nonce: nonce } : {}
  return {
    operator: createSoftwareSigner(hexToBytes(OPERATOR_SK), opts),
    console: createSoftwareSigner(hexToBytes(CONSOLE_SK), opts),
    atm: createSoftwareSigner(hexToBytes(ATM_SK), opts),
    other: createSoftwareSigner(hexToBytes(OTHER_SK), opts),
  }
}

export const PREIMAGE = 'a1'.repeat(32)
export const PAYMENT_HASH = bytesToHex(sha256(hexToBytes(PREIMAGE)))
export const BOLT11 =
  'lnbcrt210n1pjexample0000000000000000000000000000000000000000000000000000000000000000000000000000000000'

export function baseConfig(atmPk = keys.atmPk): MachineConfigV1 {
  return {
    v: 1,
    atmPubkey: atmPk,
    machineId: 'atm-berlin-01',
    name: 'Berlin Kreuzberg #1',
    currency: 'EUR',
    consolePubkey: keys.consolePk,
    relays: ['wss://relay.example.org', 'ws://127.0.0.1:7777'],
    fees: {
      cash_out: { platformPpm: 10_000, operatorPpm: 50_000 },
      cash_in: { platformPpm: 10_000, operatorPpm: 40_000 },
    },
    discountPpm: 0,
    limits: {
      cash_out: { minFiatMinor: 1_000n, maxFiatMinor: 200_000n },
      cash_in: { minFiatMinor: 500n, maxFiatMinor: 100_000n },
    },
  }
}

export function baseRecord(overrides: Partial<AtmRecordV1> = {}): AtmRecordV1 {
  return {
    v: 1,
    txId: 'tx-000042',
    machineId: 'atm-berlin-01',
    direction: 'cash_out',
    status: 'completed',
    fiatMinor: 10_000n,
    fiatDispensedMinor: 10_000n,
    currency: 'EUR',
    wireMsat: 21_000_000n,
    principalMsat: 19_811_321n,
    feeMsat: 1_188_679n,
    paymentHash: PAYMENT_HASH,
    bolt11: BOLT11,
    feePpm: 60_000,
    discountPpm: 0,
    rateMinorPerBtc: 5_300_000n,
    startedAt: T0 - 200,
    paidAt: T0 - 120,
    finishedAt: T0 - 90,
    ...overrides,
  }
}

export interface Scenario {
  s: ReturnType<typeof signers>
  rosterEvent: NostrEvent
  roster: Roster
  configEvent: NostrEvent
  config: MachineConfig
  delegation: DelegationTag
  record: AtmRecordV1
  event: NostrEvent
  /** payment hash → what lookup_invoice answers. */
  wallet: Map<string, InvoiceLookup>
  /** payment hash → booked settlement. */
  booked: Map<string, BookedRef>
  known: Set<string>
  rosters: Roster[]
  configs: MachineConfig[]
  ctx(overrides?: Partial<VerifyRecordContext>): VerifyRecordContext
  /** Builds another record event (default: the ATM signer, the scenario delegation, created_at T0 − 60). */
  makeEvent(o?: {
    record?: Partial<AtmRecordV1>
    createdAt?: number
    signer?: Signer
    delegation?: DelegationTag
  }): Promise<NostrEvent>
}

export async function delegate(
  operator: Signer,
  delegateePubkey: string,
  createdAfter: number,
  createdBefore: number,
  kinds = [KIND_ATM_RECORD],
): Promise<DelegationTag> {
  const conditions = buildConditions({ kinds, createdAfter, createdBefore })
  return {
    delegatorPubkey: keys.operatorPk,
    conditions,
    token: await operator.signDelegation({ delegateePubkey, conditions }),
  }
}

export async function scenario(deterministic = true): Promise<Scenario> {
  const s = signers(deterministic)
  const rosterEvent = await s.operator.signEvent(buildRosterTemplate([keys.atmPk], T0 - 10 * DAY))
  const roster = parseRosterEvent(rosterEvent, keys.operatorPk)
  const configEvent = await s.operator.signEvent(buildMachineConfigTemplate(baseConfig(), T0 - 10 * DAY))
  const config = parseMachineConfigEvent(configEvent, keys.operatorPk)
  const delegation = await delegate(s.operator, keys.atmPk, T0 - 10 * DAY - 300, T0 - 10 * DAY - 300 + 90 * DAY)
  const record = baseRecord()
  const makeEvent: Scenario['makeEvent'] = async (o = {}) =>
    createAtmRecord(
      {
        record: baseRecord(o.record),
        consolePubkey: keys.consolePk,
        delegation: o.delegation ?? delegation,
        createdAt: o.createdAt ?? T0 - 60,
      },
      o.signer ?? s.atm,
    )
  const event = await makeEvent()
  const wallet = new Map<string, InvoiceLookup>([
    [
      PAYMENT_HASH,
      {
        found: true,
        settled: true,
        type: 'incoming',
        amountMsat: 21_000_000n,
        preimage: PREIMAGE,
        settledAt: T0 - 120,
      },
    ],
  ])
  const booked = new Map<string, BookedRef>()
  const known = new Set<string>()
  const rosters = [roster]
  const configs = [config]
  const ctx = (overrides: Partial<VerifyRecordContext> = {}): VerifyRecordContext => ({
    operatorPubkey: keys.operatorPk,
    consolePubkey: keys.consolePk,
    nowSec: T0,
    rosters,
    isEventKnown: (id) => known.has(id),
    decrypt: (sender, payload) => s.console.nip44Decrypt(sender, payload),
    machineConfig: (atm, at) => configs.filter((c) => c.atmPubkey === atm && c.createdAt <= at).at(-1) ?? null,
    lookupInvoice: async (h) => wallet.get(h) ?? { found: false },
    isBooked: (h) => booked.get(h) ?? null,
    bookedVersionOf: (atm, txId) => [...booked.values()].find((b) => b.atmPubkey === atm && b.txId === txId) ?? null,
    ...overrides,
  })
  return {
    s,
    rosterEvent,
    roster,
    configEvent,
    config,
    delegation,
    record,
    event,
    wallet,
    booked,
    known,
    rosters,
    configs,
    ctx,
    makeEvent,
  }
}
