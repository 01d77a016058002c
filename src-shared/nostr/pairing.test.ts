import { npubEncode } from 'nostr-tools/nip19'
import { encode as qrEncode } from 'uqr'
import { describe, expect, it } from 'vitest'
import {
  baseConfig,
  baseRecord,
  DAY,
  keys,
  PAYMENT_HASH,
  PREIMAGE,
  signers,
  T0,
} from '../../test/support/fleet-fixture'
import { manualClock } from '../clock'
import { createAtmRecord } from './atm-record'
import type { NostrEvent } from './event'
import { delegationTokenSha256, parseMachineConfigEvent } from './machine-config'
import { parseConditions, verifyDelegationToken } from './nip26'
import {
  type CreatePairingInput,
  createPairing,
  encodePairingUri,
  expiringDelegations,
  PairingError,
  parsePairingPayload,
  renewDelegation,
  revokeAtm,
} from './pairing'
import { membershipAt, parseRosterEvent, rosterAt } from './roster'
import { verifyRecord } from './verify-record'

const s = signers(false)
const cfg = baseConfig()
const NWC = `nostr+walletconnect://${'f'.repeat(64)}?relay=wss%3A%2F%2Frelay.example.org&secret=${'9'.repeat(64)}`

const input = (o: Partial<CreatePairingInput> = {}): CreatePairingInput => ({
  atmNpubOrHex: npubEncode(keys.atmPk),
  operatorPubkey: keys.operatorPk,
  consolePubkey: keys.consolePk,
  relays: cfg.relays,
  machineId: cfg.machineId,
  name: cfg.name,
  currency: cfg.currency,
  fees: cfg.fees,
  discountPpm: cfg.discountPpm,
  limits: cfg.limits,
  currentMembers: [keys.otherPk],
  nwcReceiveOnlyUri: NWC,
  ...o,
})

function expectField(fn: () => unknown, field: string): void {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(PairingError)
    expect((e as PairingError).field).toBe(field)
    return
  }
  throw new Error(`expected a PairingError naming ${field}`)
}

describe('createPairing', () => {
  it('issues a 90-day kind 30079 delegation, a signed config, the roster with the ATM, and a one-shot payload', async () => {
    const clock = manualClock(T0 * 1000)
    const p = await createPairing(input(), s.operator, clock)
    expect(p.atmPubkey).toBe(keys.atmPk)
    expect(p.delegation.conditions).toBe(`kind=30079&created_at>${T0 - 300}&created_at<${T0 - 300 + 90 * DAY}`)
    expect(verifyDelegationToken(keys.operatorPk, keys.atmPk, p.delegation.conditions, p.delegation.token)).toBe(true)
    expect(parseMachineConfigEvent(p.configEvent, keys.operatorPk).machineId).toBe('atm-berlin-01')
    expect(parseRosterEvent(p.rosterEvent!, keys.operatorPk).members).toEqual([keys.otherPk, keys.atmPk])
    expect(p.uri.startsWith('satmachine-pair:?v=2&atm=')).toBe(true)
    expect(parsePairingPayload(p.uri, { nowSec: T0 + 60, expectAtmPubkey: keys.atmPk })).toEqual(p.payload)
    expect(p.payload.nwcUri).toBe(NWC)
    const qr = qrEncode(p.uri, { ecc: 'M', border: 4 })
    expect(p.svg.startsWith('<svg')).toBe(true)
    // Read the dark modules back out of the SVG path and compare them with the QR matrix of the URI.
    const dark = new Set([...p.svg.matchAll(/M(\d+),(\d+)h10v10h-10z/g)].map((m) => `${+m[1]! / 10},${+m[2]! / 10}`))
    const expected = new Set<string>()
    qr.data.forEach((row, y) => {
      row.forEach((on, x) => {
        if (on) expected.add(`${x},${y}`)
      })
    })
    expect(expected.size).toBeGreaterThan(100)
    expect(dark).toEqual(expected)
  })
  it('a record the ATM makes from the pairing output passes verifyRecord', async () => {
    const clock = manualClock(T0 * 1000)
    const p = await createPairing(input({ currentMembers: [] }), s.operator, clock)
    const payload = parsePairingPayload(p.uri, { nowSec: T0 })
    const ev = await createAtmRecord(
      {
        record: baseRecord(),
        consolePubkey: payload.consolePubkey,
        delegation: { delegatorPubkey: payload.operatorPubkey, conditions: payload.conditions, token: payload.token },
        createdAt: T0 + 600,
      },
      s.atm,
    )
    const config = parseMachineConfigEvent(p.configEvent, keys.operatorPk)
    const r = await verifyRecord(ev, {
      operatorPubkey: keys.operatorPk,
      consolePubkey: keys.consolePk,
      nowSec: T0 + 600,
      rosters: [parseRosterEvent(p.rosterEvent!, keys.operatorPk)],
      isEventKnown: () => false,
      decrypt: (from, payloadText) => s.console.nip44Decrypt(from, payloadText),
      machineConfig: () => config,
      lookupInvoice: async (h) =>
        h === PAYMENT_HASH
          ? {
              found: true,
              settled: true,
              type: 'incoming' as const,
              amountMsat: 21_000_000n,
              preimage: PREIMAGE,
              settledAt: T0 + 500,
            }
          : { found: false },
      isBooked: () => null,
      bookedVersionOf: () => null,
    })
    expect(r.ok ? r.action : `${r.reason}: ${r.detail}`).toBe('book')
  })
  it('re-pairing an ATM already in the roster signs no new roster', async () => {
    const p = await createPairing(input({ currentMembers: [keys.atmPk] }), s.operator, manualClock(T0 * 1000))
    expect(p.rosterEvent).toBeNull()
  })
  it('refuses bad input before asking the signer for anything', async () => {
    let asked = 0
    const counting = {
      ...s.operator,
      signDelegation: async (...a: Parameters<typeof s.operator.signDelegation>) => {
        asked++
        return s.operator.signDelegation(...a)
      },
    }
    await expect(createPairing(input({ atmNpubOrHex: 'npub1nope' }), counting, manualClock(T0 * 1000))).rejects.toThrow(
      'atmNpubOrHex',
    )
    await expect(createPairing(input({ windowDays: 91 }), counting, manualClock(T0 * 1000))).rejects.toThrow(
      'windowDays',
    )
    await expect(createPairing(input({ name: '' }), counting, manualClock(T0 * 1000))).rejects.toThrow('name')
    await expect(
      createPairing(input({ atmNpubOrHex: keys.operatorPk }), counting, manualClock(T0 * 1000)),
    ).rejects.toThrow(PairingError)
    expect(asked).toBe(0)
  })
  it('refuses a signer holding another key (token checked against the pinned operator key)', async () => {
    await expect(createPairing(input(), s.other, manualClock(T0 * 1000))).rejects.toThrow('does not verify')
  })
})

describe('parsePairingPayload', () => {
  it('names the faulty parameter', async () => {
    const p = await createPairing(input(), s.operator, manualClock(T0 * 1000))
    const uri = p.uri
    expectField(() => parsePairingPayload('bitcoin:abc', { nowSec: T0 }), 'uri')
    expectField(() => parsePairingPayload(uri, { nowSec: p.payload.expiresAt + 1 }), 'exp')
    expectField(() => parsePairingPayload(uri, { nowSec: T0, expectAtmPubkey: keys.otherPk }), 'atm')
    expectField(() => parsePairingPayload(`${uri}&x=1`, { nowSec: T0 }), 'x')
    expectField(() => parsePairingPayload(`${uri}&cfg=${'a'.repeat(64)}`, { nowSec: T0 }), 'cfg')
    expectField(() => parsePairingPayload(uri.replace('v=2', 'v=3'), { nowSec: T0 }), 'v')
    const flipped = p.payload.token.startsWith('0') ? `1${p.payload.token.slice(1)}` : `0${p.payload.token.slice(1)}`
    expectField(() => parsePairingPayload(encodePairingUri({ ...p.payload, token: flipped }), { nowSec: T0 }), 'tok')
    expectField(
      () => parsePairingPayload(encodePairingUri({ ...p.payload, conditions: 'kind=1&created_at>1' }), { nowSec: T0 }),
      'cond',
    )
    expectField(() => parsePairingPayload(encodePairingUri({ ...p.payload, relays: [] }), { nowSec: T0 }), 'relay')
  })
})

describe('point 11 (pairing-time token check)', () => {
  // docs/protocol.md §10.2: with no event at pairing, "now" stands in for created_at; A < now < B strictly, and the
  // payload is accepted up to and including its `exp` second.
  it('accepts a payload until and including its exp second, and refuses it one second later', async () => {
    const p = await createPairing(input(), s.operator, manualClock(T0 * 1000))
    expect(p.payload.expiresAt).toBe(T0 + 86_400)
    expect(parsePairingPayload(p.uri, { nowSec: p.payload.expiresAt }).token).toBe(p.payload.token)
    expectField(() => parsePairingPayload(p.uri, { nowSec: p.payload.expiresAt + 1 }), 'exp')
  })

  it('requires A < now < B: a 1-day renewal payload is refused from B on, though its exp is still ahead', async () => {
    const r = await renewDelegation(
      {
        atmPubkey: keys.atmPk,
        operatorPubkey: keys.operatorPk,
        consolePubkey: keys.consolePk,
        machineId: 'atm-berlin-01',
        relays: cfg.relays,
        currency: cfg.currency,
        windowDays: 1,
      },
      s.operator,
      manualClock(T0 * 1000),
    )
    const A = T0 - 300
    const B = A + DAY
    expect(parseConditions(r.payload.conditions)).toMatchObject({ createdAfter: [A], createdBefore: [B] })
    expect(r.payload.expiresAt).toBeGreaterThan(B)
    expect(parsePairingPayload(r.uri, { nowSec: B - 1 }).conditions).toBe(r.payload.conditions)
    expectField(() => parsePairingPayload(r.uri, { nowSec: B }), 'cond')
    expect(parsePairingPayload(r.uri, { nowSec: A + 1 }).conditions).toBe(r.payload.conditions)
    expectField(() => parsePairingPayload(r.uri, { nowSec: A }), 'cond')
  })

  it('requires exactly kind=30079 with both bounds, and a token by `op` for `atm`', async () => {
    const p = await createPairing(input(), s.operator, manualClock(T0 * 1000))
    const A = T0 - 300
    const B = A + 90 * DAY
    for (const conditions of [
      `kind=30079&kind=1&created_at>${A}&created_at<${B}`,
      `kind=30079&created_at>${A}`,
      `created_at>${A}&created_at<${B}`,
    ]) {
      expectField(() => parsePairingPayload(encodePairingUri({ ...p.payload, conditions }), { nowSec: T0 }), 'cond')
    }
    // The token names the delegatee: the same token presented for another ATM key, or under another operator key.
    expectField(
      () => parsePairingPayload(encodePairingUri({ ...p.payload, atmPubkey: keys.otherPk }), { nowSec: T0 }),
      'tok',
    )
    expectField(
      () => parsePairingPayload(encodePairingUri({ ...p.payload, operatorPubkey: keys.otherPk }), { nowSec: T0 }),
      'tok',
    )
  })
})

describe('pairing URI version 2 (protocol 1.1 points 7 and 14)', () => {
  it('point 7 and 14: the payload carries the cash-in pay connection and the currency; version 1 still parses', async () => {
    const pay = `nostr+walletconnect://${keys.consolePk}?relay=wss%3A%2F%2Frelay.example.org&secret=${'8'.repeat(64)}`
    const p = await createPairing({ ...input(), nwcCashInUri: pay }, s.operator, manualClock(T0 * 1000))
    const parsed = parsePairingPayload(p.uri, { nowSec: T0 + 60 })
    expect(parsed).toMatchObject({ currency: cfg.currency, nwcCashInUri: pay, nwcUri: NWC })
    // Version 2 without a currency is refused naming `cur`; a version 1 URI (no cur, no nwcpay) still parses.
    expectField(() => parsePairingPayload(p.uri.replace(/&cur=[A-Z]{3}/, ''), { nowSec: T0 + 60 }), 'cur')
    const v1 = p.uri
      .replace('v=2', 'v=1')
      .replace(/&nwcpay=[^&]*/, '')
      .replace(/&cur=[A-Z]{3}/, '')
    expect(parsePairingPayload(v1, { nowSec: T0 + 60 })).toMatchObject({ currency: null, nwcCashInUri: null })
    expectField(() => parsePairingPayload(v1.replace('&exp=', '&cur=EUR&exp='), { nowSec: T0 + 60 }), 'cur')
  })
  it('point 7: a cash-in connection that is not a usable NWC URI, or the receive-only one again, is refused', async () => {
    await expect(
      createPairing({ ...input(), nwcCashInUri: 'nostr+walletconnect://nope' }, s.operator, manualClock(T0 * 1000)),
    ).rejects.toMatchObject({ field: 'nwcCashInUri' })
    await expect(
      createPairing({ ...input(), nwcCashInUri: NWC }, s.operator, manualClock(T0 * 1000)),
    ).rejects.toMatchObject({ field: 'nwcCashInUri' })
  })
})

describe('renewal config (protocol 1.1 point 17)', () => {
  it('the re-signed config names the new token and is dated after the version it replaces, even in the same second', async () => {
    const now = T0 + 80 * DAY
    const r = await renewDelegation(
      {
        atmPubkey: keys.atmPk,
        operatorPubkey: keys.operatorPk,
        consolePubkey: keys.consolePk,
        machineId: cfg.machineId,
        relays: cfg.relays,
        currency: cfg.currency,
        config: cfg,
        configCreatedAt: now,
      },
      s.operator,
      manualClock(now * 1000),
    )
    expect(r.configEvent?.created_at).toBe(now + 1)
    const parsed = parseMachineConfigEvent(r.configEvent as NostrEvent, keys.operatorPk)
    expect(parsed.delegationSha256).toBe(delegationTokenSha256(r.delegation.token))
    expect(parsePairingPayload(r.uri, { nowSec: now }).configEventId).toBe(r.configEvent?.id)
  })
})

describe('renew, revoke, expiry warnings', () => {
  it('renewal issues a fresh window without the NWC secret', async () => {
    const clock = manualClock((T0 + 80 * DAY) * 1000)
    const r = await renewDelegation(
      {
        atmPubkey: keys.atmPk,
        operatorPubkey: keys.operatorPk,
        consolePubkey: keys.consolePk,
        machineId: 'atm-berlin-01',
        relays: cfg.relays,
        currency: cfg.currency,
      },
      s.operator,
      clock,
    )
    expect(parseConditions(r.delegation.conditions).createdBefore).toEqual([T0 + 80 * DAY - 300 + 90 * DAY])
    expect(r.payload.nwcUri).toBeNull()
    expect(parsePairingPayload(r.uri, { nowSec: T0 + 80 * DAY }).token).toBe(r.delegation.token)
  })
  it('revocation signs a roster without the ATM; membership is revoked from its created_at', async () => {
    const before = parseRosterEvent(
      (await createPairing(input(), s.operator, manualClock(T0 * 1000))).rosterEvent!,
      keys.operatorPk,
    )
    const ev = await revokeAtm(
      { atmPubkey: keys.atmPk, operatorPubkey: keys.operatorPk, currentMembers: before.members },
      s.operator,
      manualClock((T0 + DAY) * 1000),
    )
    const after = parseRosterEvent(ev, keys.operatorPk)
    expect(after.members).toEqual([keys.otherPk])
    expect(membershipAt([before, after], keys.atmPk, T0 + DAY - 1).status).toBe('member')
    expect(membershipAt([before, after], keys.atmPk, T0 + DAY)).toMatchObject({
      status: 'revoked',
      revokedAt: T0 + DAY,
    })
    await expect(
      revokeAtm(
        { atmPubkey: keys.atmPk, operatorPubkey: keys.operatorPk, currentMembers: after.members },
        s.operator,
        manualClock(T0 * 1000),
      ),
    ).rejects.toThrow('not in the roster')
  })
  it('two ATMs paired within the same second: the second roster is dated one second later and lists both', async () => {
    const clock = manualClock(T0 * 1000)
    const first = await createPairing(input({ atmNpubOrHex: keys.otherPk, currentMembers: [] }), s.operator, clock)
    const r1 = parseRosterEvent(first.rosterEvent!, keys.operatorPk)
    const second = await createPairing(
      input({ currentMembers: r1.members, currentRosterCreatedAt: r1.createdAt }),
      s.operator,
      clock,
    )
    const r2 = parseRosterEvent(second.rosterEvent!, keys.operatorPk)
    expect(r1.createdAt).toBe(T0)
    expect(r2.createdAt).toBe(T0 + 1)
    // What a relay keeps for the addressable roster (newest created_at) lists both ATMs, whatever the ids are.
    expect(rosterAt([r1, r2], Number.MAX_SAFE_INTEGER)?.members).toEqual([keys.otherPk, keys.atmPk])
    // A revocation in that same second is dated after both.
    const rev = await revokeAtm(
      {
        atmPubkey: keys.otherPk,
        operatorPubkey: keys.operatorPk,
        currentMembers: r2.members,
        currentRosterCreatedAt: r2.createdAt,
      },
      s.operator,
      clock,
    )
    expect(rev.created_at).toBe(T0 + 2)
    // A clock already past the previous version keeps its own time.
    const later = await revokeAtm(
      {
        atmPubkey: keys.otherPk,
        operatorPubkey: keys.operatorPk,
        currentMembers: r2.members,
        currentRosterCreatedAt: r2.createdAt,
      },
      s.operator,
      manualClock((T0 + 50) * 1000),
    )
    expect(later.created_at).toBe(T0 + 50)
  })
  it('warns 14 days ahead, per ATM, newest window only', () => {
    const w = expiringDelegations(
      [
        { atmPubkey: 'a', createdBefore: T0 + 14 * DAY },
        { atmPubkey: 'b', createdBefore: T0 + 14 * DAY + 1 },
        { atmPubkey: 'c', createdBefore: T0 - 1 },
        { atmPubkey: 'd', createdBefore: T0 + DAY },
        { atmPubkey: 'd', createdBefore: T0 + 60 * DAY },
      ],
      T0,
    )
    expect(w).toEqual([
      { atmPubkey: 'c', createdBefore: T0 - 1, secondsLeft: -1, state: 'expired' },
      { atmPubkey: 'a', createdBefore: T0 + 14 * DAY, secondsLeft: 14 * DAY, state: 'expiring' },
    ])
  })
})
