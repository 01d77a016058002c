// The wallet reminder after a revocation: derived from the roster history minus the operator's confirmations (pure),
// and the confirmation itself, an append-only ledger row that can be given once per revocation.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import type { MachineConfig } from '../../src-shared/nostr/machine-config'
import type { Roster } from '../../src-shared/nostr/roster'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { Procedure } from '../ledger/types'
import {
  loadWalletRevokeAcks,
  pendingWalletRevocations,
  walletRevocationMigrations,
  walletRevocationProcedures,
} from './wallet-revocations'

const A = 'aa'.repeat(32)
const B = 'bb'.repeat(32)
const roster = (members: string[], createdAt: number): Roster =>
  ({ members, createdAt, eventId: String(createdAt).padStart(64, '0') }) as unknown as Roster
const cfg = (atmPubkey: string, machineId: string) =>
  ({
    atmPubkey,
    machineId,
    name: `ATM ${machineId}`,
    createdAt: 1,
    eventId: 'ee'.repeat(32),
  }) as unknown as MachineConfig

describe('pendingWalletRevocations', () => {
  it('lists each revoked ATM with the roster version that dropped it, until confirmed', () => {
    const rosters = [roster([A], 10), roster([A, B], 20), roster([B], 30)]
    const configs = new Map([[A, [cfg(A, 'atm-a')]]])
    const open = pendingWalletRevocations(rosters, configs, new Set())
    expect(open).toEqual([
      { atmPubkey: A, machineId: 'atm-a', name: 'ATM atm-a', rosterEventId: roster([], 30).eventId, revokedAtSec: 30 },
    ])
    expect(pendingWalletRevocations(rosters, configs, new Set([`${A}:${open[0]!.rosterEventId}`]))).toEqual([])
    // Listed again, then dropped again: a new reminder (a new roster version), even though the first was confirmed.
    const again = [...rosters, roster([A, B], 40), roster([B], 50)]
    expect(
      pendingWalletRevocations(again, configs, new Set([`${A}:${open[0]!.rosterEventId}`])).map((p) => p.revokedAtSec),
    ).toEqual([50])
    // Members and ATMs never listed have no reminder; no roster, nothing.
    expect(pendingWalletRevocations([roster([A, B], 10)], configs, new Set())).toEqual([])
    expect(pendingWalletRevocations([], configs, new Set())).toEqual([])
  })
})

describe('fleet.confirmWalletRevoked', () => {
  let dir: string
  let store: InProcessLedger
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wallet-revoke-'))
    store = await openLedgerInProcess({
      dir,
      logger: memoryLogger(),
      autoSnapshot: false,
      migrations: walletRevocationMigrations,
      procedures: new Map([
        ...(Object.entries(walletRevocationProcedures) as [string, Procedure][]),
        // A hostile writer: tries to remove or rewrite the confirmations.
        ['test.delete', ((db) => db.run('DELETE FROM fleet_wallet_revoke_ack')) as Procedure],
        ['test.update', ((db) => db.run("UPDATE fleet_wallet_revoke_ack SET note = 'x'")) as Procedure],
      ]),
    })
  })
  afterEach(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('appends one confirmation per revocation; the row cannot be changed or removed', async () => {
    const args = {
      atmPubkey: A,
      rosterEventId: 'cd'.repeat(32),
      author: 'operator',
      note: 'done in the wallet',
      atMs: 5,
    }
    const r = await store.call<{ ackId: number }>('fleet.confirmWalletRevoked', args)
    expect(r.ackId).toBeGreaterThan(0)
    await expect(store.call('fleet.confirmWalletRevoked', args)).rejects.toThrow(/already confirmed/)
    await expect(store.call('fleet.confirmWalletRevoked', { ...args, atmPubkey: 'x' })).rejects.toThrow(/atmPubkey/)
    expect(await loadWalletRevokeAcks(store)).toEqual(new Set([`${A}:${'cd'.repeat(32)}`]))
    await expect(store.call('test.delete', {})).rejects.toThrow(/append-only/)
    await expect(store.call('test.update', {})).rejects.toThrow(/append-only/)
    expect((await loadWalletRevokeAcks(store)).size).toBe(1)
  })
})
