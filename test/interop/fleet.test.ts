// Interop: the fleet protocol end to end over two REAL relay processes and the REAL @getalby/sdk wallet service.
// A paired simulated ATM sells through the operator's wallet (NIP-47 make_invoice on its receive-only connection,
// paid on the simulated Lightning ledger), publishes kind 30079 records to both relays, and the console (relay pool
// + fleet service + ledger) verifies each one — including lookup_invoice on the operator's wallet — and books it.
// Every negative scenario of the simulator is rejected with its own reason code and books nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AtmSimulator, createAtmSimulator, type Sale } from '../../src-main/atm-sim/simulator'
import type { RecordOutcome } from '../../src-main/fleet/service'
import { nowSec, systemClock } from '../../src-shared/clock'
import { createLogger } from '../../src-shared/log'
import { KIND_ATM_RECORD } from '../../src-shared/nostr/kinds'
import { buildConditions, type DelegationTag } from '../../src-shared/nostr/nip26'
import { revokeAtm } from '../../src-shared/nostr/pairing'
import { type Console, type FleetHarness, startFleetHarness, waitFor } from '../support/fleet-harness'

let h: FleetHarness
let c: Console
let sim: AtmSimulator
let atmPubkey: string
let paired: Awaited<ReturnType<FleetHarness['pairAtm']>>

beforeAll(async () => {
  h = await startFleetHarness({ recordRelays: 2 })
  c = await h.startConsole()
  paired = await h.pairAtm({ machineId: 'atm-sim-01', members: [] })
  sim = paired.sim
  atmPubkey = sim.atmPubkey
  // The console has the roster and the config before the first sale.
  await waitFor('machine config in the ledger', async () => {
    const m = await c.fleet.machines()
    return m.some((x) => x.atmPubkey === atmPubkey && x.machineId === 'atm-sim-01' && x.rosterStatus === 'member')
  })
}, 120_000)

afterAll(async () => {
  await h?.close()
})

const count = async (sql: string, params: (string | number)[] = []) =>
  Number((await c.ledger.query<{ n: number }>(sql, params))[0]?.n ?? 0)

/** Nothing was booked for this payment hash, in either the fleet or the accounting tables. */
async function expectNothingBooked(paymentHash: string | null, eventId: string) {
  await expect(
    count(`SELECT COUNT(*) AS n FROM fleet_record_outcome WHERE event_id = ? AND outcome != 'rejected'`, [eventId]),
  ).resolves.toBe(0)
  if (paymentHash !== null) {
    const booked = await count(
      `SELECT COUNT(*) AS n FROM fleet_record_outcome WHERE outcome = 'booked' AND payment_hash = ? AND event_id = ?`,
      [paymentHash, eventId],
    )
    expect(booked).toBe(0)
  }
}

/**
 * The console's verdict on a sale. The test relay (@nostr-relay/core) checks NIP-26 itself and refuses a bad
 * delegation; relays in the wild do not (NIP-26 is "unrecommended"), so such an event is then handed to the
 * pipeline directly, as a relay that does not check would serve it.
 */
async function expectRejected(sale: Sale, reason: string, relayRefuses?: RegExp): Promise<RecordOutcome> {
  if (relayRefuses) {
    expect(sale.accepted).toBe(false)
    for (const r of sale.published) expect(r.message).toMatch(relayRefuses)
    await c.fleet.ingest(sale.event)
  } else expect(sale.accepted).toBe(true)
  const o = await c.outcomeOf(sale.event.id)
  expect(o).toMatchObject({ outcome: 'rejected', reason })
  const rows = await c.ledger.query<{ reason: string }>(
    `SELECT reason FROM fleet_record_outcome WHERE event_id = ? AND outcome = 'rejected'`,
    [sale.event.id],
  )
  expect(rows.map((r) => r.reason)).toContain(reason)
  const listed = await c.fleet.rejected({ limit: 1000 })
  expect(listed.some((r) => r.eventId === sale.event.id && r.reason === reason)).toBe(true)
  await expectNothingBooked(sale.paymentHash, sale.event.id)
  return o
}

describe('fleet protocol over real relays and a real NIP-47 wallet service', () => {
  it('a paired ATM sells 100 times: exactly 100 verified records, each confirmed by the wallet, none twice', async () => {
    const lookupsBefore = h.op.handled.filter((r) => r.method === 'lookup_invoice').length
    const sales: Sale[] = []
    for (let i = 0; i < 100; i++) {
      const s = await sim.sell({ fiatMinor: BigInt(1_000 + i * 10) })
      expect(s.accepted).toBe(true)
      // Published to both relays: the console sees each record twice on the wire.
      expect(s.published.filter((r) => r.ok)).toHaveLength(2)
      sales.push(s)
    }
    const outcomes = await Promise.all(sales.map((s) => c.outcomeOf(s.event.id, 60_000)))
    expect(outcomes.every((o) => o.outcome === 'booked')).toBe(true)

    const hashes = sales.map((s) => s.paymentHash!)
    const rows = await c.ledger.query<{ payment_hash: string; wire_msat: bigint; atm_event_id: string }>(
      `SELECT payment_hash, wire_msat, atm_event_id FROM acct_settlement WHERE machine_id = 'atm-sim-01' AND status != 'rejected'`,
      [],
      { bigint: true },
    )
    const mine = rows.filter((r) => hashes.includes(r.payment_hash))
    expect(mine).toHaveLength(100)
    expect(new Set(mine.map((r) => r.payment_hash)).size).toBe(100)
    expect(new Set(mine.map((r) => r.atm_event_id))).toEqual(new Set(sales.map((s) => s.event.id)))
    for (const s of sales) {
      // The wallet itself says settled, for exactly the wire amount booked.
      const tx = h.op.wallet.lookup(s.paymentHash!)
      expect(tx?.state).toBe('settled')
      const row = mine.find((r) => r.payment_hash === s.paymentHash)!
      expect(row.wire_msat).toBe(s.record!.wireMsat)
    }
    // One outcome row per event, although each arrived over two relays.
    const perEvent = await c.ledger.query<{ event_id: string; n: number }>(
      `SELECT event_id, COUNT(*) AS n FROM fleet_record_outcome WHERE atm_pubkey = ? GROUP BY event_id`,
      [atmPubkey],
    )
    expect(perEvent.filter((r) => sales.some((s) => s.event.id === r.event_id)).every((r) => r.n === 1)).toBe(true)
    // Each booking was confirmed by a lookup_invoice the real wallet service answered.
    const lookups = h.op.handled.filter((r) => r.method === 'lookup_invoice').length - lookupsBefore
    expect(lookups).toBeGreaterThanOrEqual(100)
  }, 300_000)

  it('forged signature: the relay refuses it; at the console it is rejected as bad_signature', async () => {
    const s = await sim.sell({ scenario: 'forged-signature' })
    expect(s.accepted).toBe(false)
    for (const r of s.published) expect(r.message).toMatch(/signature/)
    // A hostile relay could still serve it: hand it to the pipeline directly.
    await expectRejected(s, 'bad_signature', /signature/)
  })

  it('wrong delegator: rejected as delegation_wrong_delegator', async () => {
    await expectRejected(await sim.sell({ scenario: 'wrong-delegator' }), 'delegation_wrong_delegator')
  })

  async function operatorDelegation(createdAfter: number, createdBefore: number): Promise<DelegationTag> {
    const conditions = buildConditions({ kinds: [KIND_ATM_RECORD], createdAfter, createdBefore })
    return {
      delegatorPubkey: h.operatorPubkey,
      conditions,
      token: await h.operator.signDelegation({ delegateePubkey: atmPubkey, conditions }),
    }
  }

  it('expired delegation: rejected as delegation_not_allowed', async () => {
    const now = nowSec(systemClock)
    const delegation = await operatorDelegation(now - 100 * 86_400, now - 10 * 86_400)
    await expectRejected(
      await sim.sell({ scenario: 'expired-delegation', delegation }),
      'delegation_not_allowed',
      /delegation/,
    )
  })

  it('not-yet-valid delegation: rejected as delegation_not_allowed', async () => {
    const now = nowSec(systemClock)
    const delegation = await operatorDelegation(now + 86_400, now + 90 * 86_400)
    await expectRejected(
      await sim.sell({ scenario: 'not-yet-valid-delegation', delegation }),
      'delegation_not_allowed',
      /delegation/,
    )
  })

  it('unknown machine: rejected as not_in_roster', async () => {
    await expectRejected(await sim.sell({ scenario: 'unknown-machine' }), 'not_in_roster', /delegation/)
  })

  it('replayed old record (an earlier payment under a new txId): rejected as duplicate_payment', async () => {
    await sim.sell()
    const s = await sim.sell({ scenario: 'replayed-record' })
    await expectRejected(s, 'duplicate_payment')
    // The original booking stands, once.
    await expect(
      count(`SELECT COUNT(*) AS n FROM acct_settlement WHERE payment_hash = ?`, [s.paymentHash!]),
    ).resolves.toBe(1)
  })

  it('duplicate (the same event again, over both relays): processed once', async () => {
    const first = await sim.sell()
    expect(await c.outcomeOf(first.event.id)).toMatchObject({ outcome: 'booked' })
    const again = await sim.sell({ scenario: 'duplicate' })
    expect(again.event.id).toBe(first.event.id)
    for (const r of again.published) expect(r.message).toMatch(/duplicate/)
    // Handed over once more (as after a restart): recognised as already processed.
    expect(await c.fleet.ingest(again.event)).toMatchObject({ outcome: 'duplicate' })
    await expect(
      count(`SELECT COUNT(*) AS n FROM fleet_record_outcome WHERE event_id = ?`, [first.event.id]),
    ).resolves.toBe(1)
    await expect(
      count(`SELECT COUNT(*) AS n FROM acct_settlement WHERE payment_hash = ?`, [first.paymentHash!]),
    ).resolves.toBe(1)
  })

  it('malformed content: rejected as schema_invalid', async () => {
    await expectRejected(await sim.sell({ scenario: 'malformed-content' }), 'schema_invalid')
  })

  it('oversized content: rejected as content_too_large', async () => {
    await expectRejected(await sim.sell({ scenario: 'oversized-content' }), 'content_too_large')
  })

  it('future created_at: rejected as future_timestamp (kept for a retry, nothing booked)', async () => {
    const s = await sim.sell({ scenario: 'future-created-at' })
    const o = await waitFor('a future_timestamp rejection', () =>
      (c.outcomes.get(s.event.id) ?? []).find((x) => x.outcome === 'rejected'),
    )
    expect(o).toMatchObject({ outcome: 'rejected', reason: 'future_timestamp', retryable: true })
    await waitFor('the rejection row', async () =>
      (await c.fleet.rejected()).some((r) => r.eventId === s.event.id && r.reason === 'future_timestamp'),
    )
    await expectNothingBooked(s.paymentHash, s.event.id)
  })

  it('claimed fee mismatch: booked (the customer paid) with the mismatch flagged for the worklist', async () => {
    const s = await sim.sell({ scenario: 'fee-mismatch' })
    expect(await c.outcomeOf(s.event.id)).toMatchObject({ outcome: 'booked', feeMismatchFlagged: true })
    const [row] = await c.ledger.query<{ f: number; claimed: bigint }>(
      `SELECT fee_mismatch_flagged AS f, claimed_fee_msat AS claimed FROM acct_settlement WHERE payment_hash = ?`,
      [s.paymentHash!],
      { bigint: true },
    )
    expect(Number(row!.f)).toBe(1)
    expect(row!.claimed).toBe(s.record!.feeMsat)
  })

  it('partial dispense: booked with a refund due', async () => {
    const s = await sim.sell({ scenario: 'partial-dispense', fiatMinor: 4_000n, dispensedMinor: 1_000n })
    expect(await c.outcomeOf(s.event.id)).toMatchObject({ outcome: 'booked' })
    const [row] = await c.ledger.query<{ refund: bigint; fiat: bigint; req: bigint }>(
      `SELECT r.refund_due_msat AS refund, s.fiat_minor AS fiat, s.fiat_requested_minor AS req
       FROM acct_settlement s JOIN acct_result r ON r.settlement_id = s.id WHERE s.payment_hash = ?`,
      [s.paymentHash!],
      { bigint: true },
    )
    expect(row!.fiat).toBe(1_000n)
    expect(row!.req).toBe(4_000n)
    expect(row!.refund > 0n).toBe(true)
  })

  it('cash-in: the ATM pays the customer through its own connection; booked as cash_in', async () => {
    const s = await sim.sell({ scenario: 'cash-in', fiatMinor: 3_000n })
    expect(await c.outcomeOf(s.event.id)).toMatchObject({ outcome: 'booked' })
    const [row] = await c.ledger.query<{ direction: string; wire: bigint }>(
      `SELECT direction, wire_msat AS wire FROM acct_settlement WHERE payment_hash = ?`,
      [s.paymentHash!],
      { bigint: true },
    )
    expect(row).toEqual({ direction: 'cash_in', wire: s.record!.wireMsat })
  })

  it('direction forgery (protocol 1.1 point 1): a cash-out record naming an outgoing payment is direction_mismatch, nothing booked', async () => {
    const s = await sim.sell({ scenario: 'direction-forged-cash-out' })
    await expectRejected(s, 'direction_mismatch')
    await expect(
      count(`SELECT COUNT(*) AS n FROM acct_settlement WHERE payment_hash = ?`, [s.paymentHash!]),
    ).resolves.toBe(0)
  })

  it('direction forgery (protocol 1.1 point 1): a cash-in record naming an incoming invoice is direction_mismatch, nothing booked', async () => {
    const s = await sim.sell({ scenario: 'direction-forged-cash-in' })
    await expectRejected(s, 'direction_mismatch')
    await expect(
      count(`SELECT COUNT(*) AS n FROM acct_settlement WHERE payment_hash = ?`, [s.paymentHash!]),
    ).resolves.toBe(0)
  })

  it('replayed-record from a fresh simulator run (point 4): reads the earlier sale back from the relay', async () => {
    const earlier = await sim.sell()
    expect(await c.outcomeOf(earlier.event.id)).toMatchObject({ outcome: 'booked' })
    // A second `atm-sim` run for the same ATM key: it remembers no sale of its own.
    const noPayments = {
      payInvoice: async () => {
        throw new Error('a replay pays nothing')
      },
      makeInvoice: async () => {
        throw new Error('a replay pays nothing')
      },
    }
    const fresh = await createAtmSimulator({
      pairingUri: paired.pairing.uri,
      atmSecretKey: paired.secret,
      customer: noPayments as never,
      log: createLogger(() => {}, 'fresh-sim'),
    })
    try {
      const s = await fresh.sell({ scenario: 'replayed-record' })
      await expectRejected(s, 'duplicate_payment')
    } finally {
      await fresh.close()
    }
  })

  it('revoked machine: after the operator drops it from the roster, its records are rejected as revoked', async () => {
    // A second ATM joins (roster v2 lists both), then is revoked (roster v3, two seconds later).
    const second = await h.pairAtm({ machineId: 'atm-sim-02', members: [atmPubkey] })
    await waitFor('ATM 2 in the roster', async () =>
      (await c.fleet.machines()).some((m) => m.atmPubkey === second.sim.atmPubkey && m.rosterStatus === 'member'),
    )
    const later = { nowMs: () => Date.now() + 2000 }
    const roster3 = await revokeAtm(
      {
        atmPubkey: second.sim.atmPubkey,
        operatorPubkey: h.operatorPubkey,
        currentMembers: [atmPubkey, second.sim.atmPubkey],
      },
      h.operator,
      later,
    )
    await h.publishOperatorEvent(roster3)
    await waitFor('ATM 2 revoked', async () =>
      (await c.fleet.machines()).some((m) => m.atmPubkey === second.sim.atmPubkey && m.rosterStatus === 'revoked'),
    )
    const s = await second.sim.sell({ scenario: 'revoked-machine', createdAt: nowSec(systemClock) + 3 })
    await expectRejected(s, 'revoked')
    // ATM 1 is unaffected.
    const ok = await sim.sell()
    expect(await c.outcomeOf(ok.event.id)).toMatchObject({ outcome: 'booked' })
  })

  it('fleet.machines lists both ATMs with their counts', async () => {
    const m = await c.fleet.machines()
    const one = m.find((x) => x.atmPubkey === atmPubkey)!
    expect(one).toMatchObject({ machineId: 'atm-sim-01', rosterStatus: 'member', currency: 'EUR' })
    expect(one.booked).toBeGreaterThanOrEqual(100)
    expect(one.rejected).toBeGreaterThanOrEqual(5)
  })
})
