// The fleet service hands the relay pool's BIP-340 verifier to the acceptance pipeline (record signature and
// NIP-26 token) and keeps one delegation-token memo for its lifetime. The ledger is real (in-process sql.js with
// the fleet tables); the pool is a stand-in that only exposes its verifier, and the wallet answers from the
// scenario's map (the Lightning edge).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import { type SchnorrVerify, schnorrVerifyHex } from '../../src-shared/nostr/event'
import type { Nip47Transaction } from '../../src-shared/nostr/nip47'
import { keys, type Scenario, scenario, T0 } from '../../test/support/fleet-fixture'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { Procedure } from '../ledger/types'
import { fleetServiceMigrations, fleetServiceProcedures } from './procedures'
import { createFleetService, type FleetPool, type FleetWallet } from './service'
import { fleetMigrations, fleetProcedures } from './store'

let dir: string
let ledger: InProcessLedger
let sc: Scenario

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-service-'))
  ledger = await openLedgerInProcess({
    dir,
    logger: memoryLogger(),
    autoSnapshot: false,
    migrations: [...fleetMigrations, ...fleetServiceMigrations],
    procedures: new Map(Object.entries({ ...fleetProcedures, ...fleetServiceProcedures }) as [string, Procedure][]),
  })
  sc = await scenario(false)
  await ledger.call('fleet.storeSignedEvent', { event: sc.rosterEvent, receivedAtMs: T0 * 1000 })
  await ledger.call('fleet.storeSignedEvent', { event: sc.configEvent, receivedAtMs: T0 * 1000 })
})

afterEach(async () => {
  await ledger.close()
  rmSync(dir, { recursive: true, force: true })
})

const wallet = (): FleetWallet => ({
  lookupInvoice: async ({ paymentHash }) => {
    const l = sc.wallet.get(paymentHash)
    if (!l?.found) throw Object.assign(new Error('not found'), { code: 'NOT_FOUND' })
    return {
      type: 'incoming',
      state: l.settled ? 'settled' : 'pending',
      paymentHash,
      amountMsat: l.amountMsat,
      preimage: l.preimage,
      settledAtSec: l.settledAt ?? null,
    } as Nip47Transaction
  },
})

describe('fleet service signature checks', () => {
  it("checks records with the pool's verifier and verifies a delegation token once", async () => {
    const keysAsked: string[] = []
    const verifySchnorr: SchnorrVerify = (s, m, p) => {
      keysAsked.push(p)
      return schnorrVerifyHex(s, m, p)
    }
    const pool: FleetPool = {
      subscribe: (spec) => {
        spec.onCaughtUp?.('ws://127.0.0.1:1')
        return { key: spec.key ?? 'sub', close: () => {} }
      },
      verifier: { verifySchnorr },
    }
    const fleet = await createFleetService({
      ledger,
      pool,
      nwc: wallet(),
      consoleSigner: sc.s.console,
      operatorPubkey: keys.operatorPk,
      clock: manualClock(T0 * 1000),
      log: memoryLogger(),
      onAccepted: async () => ({ status: 'booked', settlementId: 1, feeMismatchFlagged: false }),
    })
    await fleet.start()
    expect(await fleet.ingest(sc.event)).toMatchObject({ outcome: 'booked' })
    expect(await fleet.ingest(await sc.makeEvent({ createdAt: T0 - 30 }))).toMatchObject({ outcome: 'booked' })
    // Record 1: its signature and the token; record 2: its signature only (the token is remembered).
    expect(keysAsked).toEqual([keys.atmPk, keys.operatorPk, keys.atmPk])
    await fleet.close()
  })

  it('a verifier that refuses a signature makes the record rejected: the check is never skipped', async () => {
    const pool: FleetPool = {
      subscribe: (spec) => {
        spec.onCaughtUp?.('ws://127.0.0.1:1')
        return { key: spec.key ?? 'sub', close: () => {} }
      },
      verifier: { verifySchnorr: () => false },
    }
    const fleet = await createFleetService({
      ledger,
      pool,
      nwc: wallet(),
      consoleSigner: sc.s.console,
      operatorPubkey: keys.operatorPk,
      clock: manualClock(T0 * 1000),
      log: memoryLogger(),
      onAccepted: async () => ({ status: 'booked', settlementId: 1, feeMismatchFlagged: false }),
    })
    await fleet.start()
    expect(await fleet.ingest(sc.event)).toMatchObject({ outcome: 'rejected', reason: 'bad_signature' })
    await fleet.close()
  })
  it('point 3: every input that reaches the pipeline leaves a stored outcome row (uppercase id, null, an array)', async () => {
    const pool: FleetPool = {
      subscribe: (spec) => {
        spec.onCaughtUp?.('ws://127.0.0.1:1')
        return { key: spec.key ?? 'sub', close: () => {} }
      },
    }
    const fleet = await createFleetService({
      ledger,
      pool,
      nwc: wallet(),
      consoleSigner: sc.s.console,
      operatorPubkey: keys.operatorPk,
      clock: manualClock(T0 * 1000),
      log: memoryLogger(),
      onAccepted: async () => ({ status: 'booked', settlementId: 1, feeMismatchFlagged: false }),
    })
    await fleet.start()
    const upper = { ...sc.event, id: sc.event.id.toUpperCase() }
    for (const input of [upper, null, [1, 2, 3]]) {
      const out = await fleet.ingest(input as never)
      expect(out).toMatchObject({ outcome: 'rejected', reason: 'malformed_event' })
      const rows = await ledger.query<{ reason: string; raw: string }>(
        `SELECT reason, raw_json AS raw FROM fleet_record_outcome WHERE event_id = ?`,
        [out.eventId],
      )
      expect(rows, JSON.stringify(input)).toHaveLength(1)
      expect(rows[0]?.reason).toBe('malformed_event')
    }
    await fleet.close()
  })
})
