import { hexToBytes } from '@noble/hashes/utils.js'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import {
  ATM_SK,
  baseConfig,
  DAY,
  delegate,
  keys,
  OTHER_SK,
  PAYMENT_HASH,
  PREIMAGE,
  type Scenario,
  scenario,
  T0,
} from '../../test/support/fleet-fixture'
import { memoryLogger } from '../log'
import {
  computeEventId,
  type EventTemplate,
  type NostrEvent,
  type SchnorrVerify,
  schnorrVerifyHex,
  signTemplateWithKey,
} from './event'
import { buildMachineConfigTemplate, parseMachineConfigEvent } from './machine-config'
import { DelegationTokenMemo } from './nip26'
import { buildRosterTemplate, parseRosterEvent } from './roster'
import { REJECT_REASON_CODES, type RejectReason, type VerifyRecordResult, verifyRecord } from './verify-record'

let sc: Scenario
beforeEach(async () => {
  sc = await scenario(false)
})

const seen = new Set<RejectReason>()
function expectReject(r: VerifyRecordResult, reason: RejectReason): void {
  expect(r.ok ? `accepted (${r.action})` : `${r.reason}: ${r.detail}`).toMatch(new RegExp(`^${reason}:`))
  if (!r.ok) {
    expect(r.detail.length).toBeGreaterThan(0)
    seen.add(r.reason)
  }
}

/** Re-signs an event after changing its template (a well-signed event by `sk`, usually the ATM key). */
function resign(ev: NostrEvent, change: (t: EventTemplate) => EventTemplate, sk = ATM_SK): NostrEvent {
  const t = change({ kind: ev.kind, created_at: ev.created_at, tags: ev.tags.map((x) => [...x]), content: ev.content })
  return signTemplateWithKey(t, hexToBytes(sk))
}

async function encryptRaw(json: string): Promise<string> {
  return sc.s.atm.nip44Encrypt(keys.consolePk, json)
}

describe('verifyRecord accepts', () => {
  it('a valid record (action book) with the decrypted document', async () => {
    const r = await verifyRecord(sc.event, sc.ctx())
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`)
    expect(r.action).toBe('book')
    expect(r.record.record.wireMsat).toBe(21_000_000n)
    expect(r.record.txId).toBe('tx-000042')
    expect(r.record.preimage).toBe(PREIMAGE)
    expect(r.record.rosterEventId).toBe(sc.roster.eventId)
  })
  it('point 10 (tag order): tags in another order plus alt and expiration tags (any order; unknown tags ignored)', async () => {
    // docs/protocol.md §5.1: tags may come in any order and tags with other names are ignored. An `expiration` tag
    // is forbidden to ATMs (§11, NIP-40: a relay would delete the record), but the console does not refuse it.
    const ev = resign(sc.event, (t) => {
      const byName = (n: string) => t.tags.find((x) => x[0] === n)!
      return {
        ...t,
        tags: [
          ['alt', 'Satmachine ATM transaction record'],
          byName('delegation'),
          ['expiration', String(T0 + 86_400)],
          byName('p'),
          byName('d'),
        ],
      }
    })
    expect(ev.tags.map((x) => x[0])).toEqual(['alt', 'delegation', 'expiration', 'p', 'd'])
    const r = await verifyRecord(ev, sc.ctx())
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`)
    expect(r.action).toBe('book')
    expect(r.record.txId).toBe('tx-000042')
    expect(r.record.record.wireMsat).toBe(21_000_000n)
  })
  it('a further version of a booked transaction with the same payment as history', async () => {
    sc.booked.set(PAYMENT_HASH, {
      eventId: sc.event.id,
      atmPubkey: keys.atmPk,
      txId: 'tx-000042',
      paymentHash: PAYMENT_HASH,
    })
    const v2 = await sc.makeEvent({ createdAt: T0 - 30, record: { status: 'partial', fiatDispensedMinor: 5_000n } })
    const r = await verifyRecord(v2, sc.ctx())
    expect(r.ok && r.action).toBe('history')
  })
  it('logs each outcome with the reason, without plaintext', async () => {
    const log = memoryLogger()
    await verifyRecord(sc.event, sc.ctx({ log }))
    sc.wallet.clear()
    await verifyRecord(sc.event, sc.ctx({ log }))
    expect(log.records.map((r) => r.msg)).toEqual(['atm record accepted', 'atm record rejected'])
    expect(log.records[1]!.fields).toMatchObject({ eventId: sc.event.id, reason: 'payment_not_found', retryable: true })
    expect(JSON.stringify(log.records)).not.toContain('atm-berlin-01')
  })
  it('a record dated exactly at the allowed future skew', async () => {
    const ev = await sc.makeEvent({ createdAt: T0 + 300 })
    expect((await verifyRecord(ev, sc.ctx())).ok).toBe(true)
  })
  it('a record created before a revocation', async () => {
    const drop = await sc.s.operator.signEvent(buildRosterTemplate([], T0 - 1000))
    sc.rosters.push(parseRosterEvent(drop, keys.operatorPk))
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'incoming',
      amountMsat: 21_000_000n,
      preimage: PREIMAGE,
      settledAt: T0 - 1300,
    })
    const ev = await sc.makeEvent({ createdAt: T0 - 1001 })
    expect((await verifyRecord(ev, sc.ctx())).ok).toBe(true)
  })
})

describe('verifyRecord rejects, one reason each', () => {
  it('malformed_event', async () => {
    for (const bad of [null, 42, 'x', [], {}, { ...sc.event, tags: 'x' }, { ...sc.event, created_at: 1.5 }])
      expectReject(await verifyRecord(bad, sc.ctx()), 'malformed_event')
  })
  it('bad_id', async () => {
    expectReject(await verifyRecord({ ...sc.event, content: `${sc.event.content}A` }, sc.ctx()), 'bad_id')
  })
  it('bad_signature', async () => {
    const changed = { ...sc.event, created_at: sc.event.created_at + 1 }
    expectReject(await verifyRecord({ ...changed, id: computeEventId(changed) }, sc.ctx()), 'bad_signature')
  })
  it('a verdict reused from the relay pool (alreadyVerified) never skips the shape check; without it, id and sig run', async () => {
    const trustAll = () => true
    for (const bad of [
      { ...sc.event, tags: 'x' },
      { ...sc.event, created_at: 1.5 },
      { ...sc.event, tags: [[]] },
    ])
      expectReject(await verifyRecord(bad, { ...sc.ctx(), alreadyVerified: trustAll }), 'malformed_event')
    // The predicate answers for one object only: another object (here a tampered copy) is checked in full.
    const tampered = { ...sc.event, content: `${sc.event.content}A` }
    const only = (o: object) => o === sc.event
    expectReject(await verifyRecord(tampered, { ...sc.ctx(), alreadyVerified: only }), 'bad_id')
    const r = await verifyRecord(sc.event, { ...sc.ctx(), alreadyVerified: only })
    expect(r.ok).toBe(true)
  })
  it('duplicate_event', async () => {
    sc.known.add(sc.event.id)
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'duplicate_event')
  })
  it('wrong_kind', async () => {
    expectReject(
      await verifyRecord(
        resign(sc.event, (t) => ({ ...t, kind: 30078 })),
        sc.ctx(),
      ),
      'wrong_kind',
    )
  })
  it('bad_tags', async () => {
    const twoD = resign(sc.event, (t) => ({ ...t, tags: [['d', 'a'], ...t.tags] }))
    expectReject(await verifyRecord(twoD, sc.ctx()), 'bad_tags')
    const noP = resign(sc.event, (t) => ({ ...t, tags: t.tags.filter((x) => x[0] !== 'p') }))
    expectReject(await verifyRecord(noP, sc.ctx()), 'bad_tags')
  })
  it('wrong_recipient', async () => {
    const ev = resign(sc.event, (t) => ({ ...t, tags: t.tags.map((x) => (x[0] === 'p' ? ['p', keys.otherPk] : x)) }))
    expectReject(await verifyRecord(ev, sc.ctx()), 'wrong_recipient')
  })
  it('no_roster', async () => {
    expectReject(await verifyRecord(sc.event, sc.ctx({ rosters: [] })), 'no_roster')
  })
  it('no_roster (point 2): a record dated within the clock skew before the roster that admits the ATM is booked', async () => {
    // The delegation starts 300 s before pairing; the roster listing the ATM is signed at pairing (T0 - 10 days).
    const joinedAt = T0 - 10 * DAY
    const d = await delegate(sc.s.operator, keys.atmPk, joinedAt - 300, T0 + 5 * DAY)
    const ev = await sc.makeEvent({ createdAt: joinedAt - 100, delegation: d })
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'incoming',
      amountMsat: 21_000_000n,
      preimage: PREIMAGE,
      settledAt: joinedAt - 150,
    })
    const r = await verifyRecord(ev, sc.ctx())
    expect(r.ok || r.reason).toBe(true)
  })
  it('before_roster (point 2): a record dated beyond the skew before every roster is final, not retryable', async () => {
    const joinedAt = T0 - 10 * DAY
    const d = await delegate(sc.s.operator, keys.atmPk, joinedAt - 1000, T0 + 5 * DAY)
    const ev = await sc.makeEvent({ createdAt: joinedAt - 301, delegation: d })
    const r = await verifyRecord(ev, sc.ctx())
    expectReject(r, 'before_roster')
    expect(!r.ok && r.retryable).toBe(false)
    // With no roster at all yet, the same record may still book once one arrives: retryable.
    const none = await verifyRecord(ev, sc.ctx({ rosters: [] }))
    expectReject(none, 'no_roster')
    expect(!none.ok && none.retryable).toBe(true)
  })
  it('revocation gets no skew: a key dropped before created_at is revoked even if re-listed within 300 s', async () => {
    const drop = await sc.s.operator.signEvent(buildRosterTemplate([keys.otherPk], T0 - 1000))
    const back = await sc.s.operator.signEvent(buildRosterTemplate([keys.atmPk, keys.otherPk], T0 - 1))
    sc.rosters.push(parseRosterEvent(drop, keys.operatorPk), parseRosterEvent(back, keys.operatorPk))
    const ev = await sc.makeEvent({ createdAt: T0 - 100 })
    expectReject(await verifyRecord(ev, sc.ctx()), 'revoked')
  })
  it('delegation_superseded (point 17): a config naming the renewed token cuts the old token off after its grace', async () => {
    // A renewal at T0 - 5000: a new 1-day token, and the same config re-signed naming it.
    const renewedAt = T0 - 5000
    const renewed = await delegate(sc.s.operator, keys.atmPk, renewedAt - 300, renewedAt - 300 + DAY)
    const cfg = await sc.s.operator.signEvent(buildMachineConfigTemplate(baseConfig(), renewedAt, renewed.token))
    sc.configs.push(parseMachineConfigEvent(cfg, keys.operatorPk))
    // Under the old 90-day token, after the grace: refused, final.
    const old = await verifyRecord(sc.event, sc.ctx())
    expectReject(old, 'delegation_superseded')
    expect(!old.ok && old.retryable).toBe(false)
    // Under the renewed token: booked.
    const fresh = await verifyRecord(await sc.makeEvent({ delegation: renewed }), sc.ctx())
    expect(fresh.ok || fresh.reason).toBe(true)
  })
  it('delegation_superseded (point 17): within the grace after a renewal the old token still counts', async () => {
    const renewedAt = T0 - 200
    const renewed = await delegate(sc.s.operator, keys.atmPk, renewedAt - 300, renewedAt - 300 + DAY)
    const cfg = await sc.s.operator.signEvent(buildMachineConfigTemplate(baseConfig(), renewedAt, renewed.token))
    sc.configs.push(parseMachineConfigEvent(cfg, keys.operatorPk))
    const r = await verifyRecord(sc.event, sc.ctx())
    expect(r.ok || r.reason).toBe(true)
  })
  it('not_in_roster', async () => {
    const d = await delegate(sc.s.operator, keys.otherPk, T0 - 5 * DAY, T0 + 5 * DAY)
    const ev = await sc.makeEvent({ signer: sc.s.other, delegation: d })
    expectReject(await verifyRecord(ev, sc.ctx()), 'not_in_roster')
  })
  it('revoked', async () => {
    const drop = await sc.s.operator.signEvent(buildRosterTemplate([keys.otherPk], T0 - 1000))
    sc.rosters.push(parseRosterEvent(drop, keys.operatorPk))
    const r = await verifyRecord(sc.event, sc.ctx())
    expectReject(r, 'revoked')
    expect(!r.ok && r.detail).toContain(String(T0 - 1000))
  })
  it('delegation_missing', async () => {
    const ev = resign(sc.event, (t) => ({ ...t, tags: t.tags.filter((x) => x[0] !== 'delegation') }))
    expectReject(await verifyRecord(ev, sc.ctx()), 'delegation_missing')
  })
  it('delegation_wrong_delegator', async () => {
    const conditions = sc.delegation.conditions
    const token = await sc.s.other.signDelegation({ delegateePubkey: keys.atmPk, conditions })
    const ev = await sc.makeEvent({ delegation: { delegatorPubkey: keys.otherPk, conditions, token } })
    expectReject(await verifyRecord(ev, sc.ctx()), 'delegation_wrong_delegator')
  })
  it('delegation_conditions_invalid', async () => {
    const conditions = `${sc.delegation.conditions}&author=x`
    const token = await sc.s.operator.signDelegation({ delegateePubkey: keys.atmPk, conditions })
    const ev = await sc.makeEvent({ delegation: { delegatorPubkey: keys.operatorPk, conditions, token } })
    expectReject(await verifyRecord(ev, sc.ctx()), 'delegation_conditions_invalid')
  })
  it('delegation_bad_token', async () => {
    const forOther = await delegate(sc.s.operator, keys.otherPk, T0 - 5 * DAY, T0 + 5 * DAY)
    const ev = await sc.makeEvent({ delegation: forOther })
    expectReject(await verifyRecord(ev, sc.ctx()), 'delegation_bad_token')
  })
  it('delegation_not_allowed (window and kind)', async () => {
    const expired = await delegate(sc.s.operator, keys.atmPk, T0 - 50 * DAY, T0 - DAY)
    expectReject(await verifyRecord(await sc.makeEvent({ delegation: expired }), sc.ctx()), 'delegation_not_allowed')
    const kind1 = await delegate(sc.s.operator, keys.atmPk, T0 - 5 * DAY, T0 + 5 * DAY, [1])
    expectReject(await verifyRecord(await sc.makeEvent({ delegation: kind1 }), sc.ctx()), 'delegation_not_allowed')
  })
  it('content_too_large (before decrypting)', async () => {
    let decrypted = false
    const ev = resign(sc.event, (t) => ({ ...t, content: 'A'.repeat(8193) }))
    const decrypt = async (): Promise<string> => {
      decrypted = true
      return ''
    }
    const r = await verifyRecord(ev, sc.ctx({ decrypt }))
    expectReject(r, 'content_too_large')
    expect(decrypted).toBe(false)
  })
  it('decrypt_failed', async () => {
    expectReject(
      await verifyRecord(
        resign(sc.event, (t) => ({ ...t, content: 'bm90IG5pcDQ0' })),
        sc.ctx(),
      ),
      'decrypt_failed',
    )
  })
  it('unsupported_version', async () => {
    const content = await encryptRaw(JSON.stringify({ v: 2, txId: 'tx-000042' }))
    expectReject(
      await verifyRecord(
        resign(sc.event, (t) => ({ ...t, content })),
        sc.ctx(),
      ),
      'unsupported_version',
    )
  })
  it('schema_invalid', async () => {
    const content = await encryptRaw(JSON.stringify({ v: 1, txId: 'tx-000042' }))
    const r = await verifyRecord(
      resign(sc.event, (t) => ({ ...t, content })),
      sc.ctx(),
    )
    expectReject(r, 'schema_invalid')
    expect(!r.ok && r.detail).toContain('machineId')
  })
  it('tx_id_mismatch', async () => {
    const ev = resign(sc.event, (t) => ({ ...t, tags: t.tags.map((x) => (x[0] === 'd' ? ['d', 'tx-000043'] : x)) }))
    expectReject(await verifyRecord(ev, sc.ctx()), 'tx_id_mismatch')
  })
  it('no_machine_config', async () => {
    sc.configs.length = 0
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'no_machine_config')
  })
  it('config_mismatch', async () => {
    expectReject(
      await verifyRecord(await sc.makeEvent({ record: { machineId: 'atm-x' } }), sc.ctx()),
      'config_mismatch',
    )
    expectReject(await verifyRecord(await sc.makeEvent({ record: { currency: 'USD' } }), sc.ctx()), 'config_mismatch')
  })
  it('future_timestamp', async () => {
    expectReject(await verifyRecord(await sc.makeEvent({ createdAt: T0 + 301 }), sc.ctx()), 'future_timestamp')
  })
  it('wallet_unavailable (retryable)', async () => {
    const r = await verifyRecord(
      sc.event,
      sc.ctx({
        lookupInvoice: async () => {
          throw new Error('relay timeout')
        },
      }),
    )
    expectReject(r, 'wallet_unavailable')
    expect(!r.ok && r.retryable).toBe(true)
  })
  it('payment_not_found', async () => {
    sc.wallet.clear()
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'payment_not_found')
  })
  it('payment_not_settled', async () => {
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: false,
      type: 'incoming',
      amountMsat: 21_000_000n,
      preimage: null,
    })
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'payment_not_settled')
  })
  it('direction_mismatch: a cash-out record naming an outgoing payment of the operator wallet is refused', async () => {
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'outgoing',
      amountMsat: 21_000_000n,
      preimage: PREIMAGE,
    })
    const r = await verifyRecord(sc.event, sc.ctx())
    expectReject(r, 'direction_mismatch')
    expect(!r.ok && r.retryable).toBe(false)
  })
  it('direction_mismatch: a cash-in record naming an incoming invoice of the operator wallet is refused', async () => {
    const cashIn = { direction: 'cash_in' as const, status: 'completed' as const, fiatDispensedMinor: 0n }
    const ev = await sc.makeEvent({ record: cashIn })
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'incoming',
      amountMsat: 21_000_000n,
      preimage: PREIMAGE,
    })
    expectReject(await verifyRecord(ev, sc.ctx()), 'direction_mismatch')
    // The same cash-in record naming an outgoing payment passes the direction rule.
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'outgoing',
      amountMsat: 21_000_000n,
      preimage: PREIMAGE,
    })
    const ok = await verifyRecord(ev, sc.ctx())
    expect(ok.ok || ok.reason).toBe(true)
  })
  it('direction_mismatch: a wallet answer without a direction is refused, never assumed', async () => {
    sc.wallet.set(PAYMENT_HASH, { found: true, settled: true, amountMsat: 21_000_000n, preimage: PREIMAGE })
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'direction_mismatch')
  })
  it('amount_mismatch', async () => {
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'incoming',
      amountMsat: 20_999_999n,
      preimage: PREIMAGE,
    })
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'amount_mismatch')
  })
  it('preimage_mismatch', async () => {
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'incoming',
      amountMsat: 21_000_000n,
      preimage: 'b2'.repeat(32),
    })
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'preimage_mismatch')
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'incoming',
      amountMsat: 21_000_000n,
      preimage: null,
    })
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'preimage_mismatch')
  })
  it('created_before_payment (backdating)', async () => {
    sc.wallet.set(PAYMENT_HASH, {
      found: true,
      settled: true,
      type: 'incoming',
      amountMsat: 21_000_000n,
      preimage: PREIMAGE,
      settledAt: T0 + 241,
    })
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'created_before_payment')
  })
  it('duplicate_payment', async () => {
    sc.booked.set(PAYMENT_HASH, {
      eventId: 'e'.repeat(64),
      atmPubkey: keys.atmPk,
      txId: 'tx-000001',
      paymentHash: PAYMENT_HASH,
    })
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'duplicate_payment')
  })
  it('version_conflict', async () => {
    const other = 'c'.repeat(64)
    sc.booked.set(other, { eventId: 'e'.repeat(64), atmPubkey: keys.atmPk, txId: 'tx-000042', paymentHash: other })
    expectReject(await verifyRecord(sc.event, sc.ctx()), 'version_conflict')
  })
  it('a record signed by an unrelated key that copies the ATM delegation is refused', async () => {
    const ev = resign(sc.event, (t) => t, OTHER_SK)
    const r = await verifyRecord(ev, sc.ctx())
    expect(r.ok).toBe(false)
  })
})

afterAll(() => {
  // Every reason code has its own test above.
  expect([...seen].sort()).toEqual([...REJECT_REASON_CODES].sort())
})

describe('verifyRecord with an injected signature verifier and the delegation memo', () => {
  /** Records which public keys the pipeline asked about; answers as noble does unless told to refuse a key. */
  const recording = (refuse?: string) => {
    const keysAsked: string[] = []
    const verify: SchnorrVerify = (s, m, p) => {
      keysAsked.push(p)
      return p !== refuse && schnorrVerifyHex(s, m, p)
    }
    return { keysAsked, verify }
  }
  it('checks the event signature and the delegation token with the injected verifier', async () => {
    const { keysAsked, verify } = recording()
    const r = await verifyRecord(sc.event, sc.ctx({ verifySignature: verify }))
    expect(r.ok).toBe(true)
    expect(keysAsked).toEqual([keys.atmPk, keys.operatorPk])
  })
  it('never skips either check: a verifier that refuses rejects the record', async () => {
    expectReject(await verifyRecord(sc.event, sc.ctx({ verifySignature: () => false })), 'bad_signature')
    const { verify } = recording(keys.operatorPk)
    expectReject(await verifyRecord(sc.event, sc.ctx({ verifySignature: verify })), 'delegation_bad_token')
  })
  it('memoises the verified token: a second record under it checks only its own signature', async () => {
    const memo = new DelegationTokenMemo(16)
    const first = recording()
    expect((await verifyRecord(sc.event, sc.ctx({ verifySignature: first.verify, delegationMemo: memo }))).ok).toBe(
      true,
    )
    const second = recording()
    const ev2 = await sc.makeEvent({ createdAt: T0 - 30 })
    const r = await verifyRecord(ev2, sc.ctx({ verifySignature: second.verify, delegationMemo: memo }))
    expect(r.ok).toBe(true)
    expect(first.keysAsked).toEqual([keys.atmPk, keys.operatorPk])
    expect(second.keysAsked).toEqual([keys.atmPk])
    // A forged token is not answered from memory (a different key) and still fails.
    const d = ev2.tags.find((t) => t[0] === 'delegation')!
    const forged = resign(ev2, (t) => ({
      ...t,
      tags: t.tags.map((x) =>
        x[0] === 'delegation' ? [x[0], x[1]!, x[2]!, `${d[3]!.slice(0, 127)}${d[3]!.endsWith('0') ? '1' : '0'}`] : x,
      ),
    }))
    expectReject(await verifyRecord(forged, sc.ctx({ delegationMemo: memo })), 'delegation_bad_token')
  })
})
