// The "revoke its wallet connection too" reminder after an ATM is revoked (docs/atm-sim.md, Fleet screen). Revoking
// drops the ATM from the roster, so its records stop counting, but the receive-only (and cash-in) wallet connection
// it was handed at pairing lives in the operator's wallet, which the console cannot reach: only the operator can
// revoke it there. The reminder stays on the Fleet screen and the worklist until the operator confirms it, and that
// confirmation is an append-only row (who, when, a note), keyed by the roster version that dropped the ATM, so a
// machine paired again and revoked again asks again.
//
// The pending list is derived, not stored: every ATM whose newest roster status is `revoked`, minus the
// confirmations of the roster version that revoked it.

import type { WalletRevocationView } from '../../src-shared/ipc/fleet-machine'
import { latestConfig, type MachineConfig } from '../../src-shared/nostr/machine-config'
import { effectiveRosterHistory, membershipAt, type Roster } from '../../src-shared/nostr/roster'
import { appendOnlyTriggers } from '../ledger/append-only'
import { defineMigration, defineProcedure } from '../ledger/define'
import type { LedgerStore, Migration, TxDb } from '../ledger/types'
import { FleetStoreError } from './store'

/** Issue 9's range is 1700–1799; the Fleet screen's tables use 1780–1799. */
export const WALLET_REVOCATION_SCHEMA_VERSION = 1780

export const walletRevocationMigrations: Migration[] = [
  {
    version: WALLET_REVOCATION_SCHEMA_VERSION,
    name: 'fleet: confirmations that an ATM wallet connection was revoked in the wallet',
    up: (db: TxDb) => {
      db.run(`
CREATE TABLE fleet_wallet_revoke_ack (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  atm_pubkey TEXT NOT NULL CHECK (length(atm_pubkey) = 64),
  roster_event_id TEXT NOT NULL CHECK (length(roster_event_id) = 64),
  author TEXT NOT NULL,
  note TEXT,
  acked_at_ms INTEGER NOT NULL
);
CREATE INDEX fleet_wallet_revoke_ack_atm ON fleet_wallet_revoke_ack (atm_pubkey, roster_event_id);
`)
      db.run(appendOnlyTriggers('fleet_wallet_revoke_ack'))
    },
  },
]
for (const m of walletRevocationMigrations) defineMigration(m)

export interface ConfirmWalletRevokedArgs {
  atmPubkey: string
  rosterEventId: string
  author: string
  note: string | null
  atMs: number
}

/** Appends a confirmation; a second one for the same revocation is refused (the first one stands). */
export function confirmWalletRevoked(db: TxDb, a: ConfirmWalletRevokedArgs): { ackId: number } {
  for (const [f, v] of [
    ['atmPubkey', a.atmPubkey],
    ['rosterEventId', a.rosterEventId],
  ] as const)
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw new FleetStoreError(f, 'must be 64 hex')
  const dup = db.get<{ id: number }>(
    'SELECT id FROM fleet_wallet_revoke_ack WHERE atm_pubkey = ? AND roster_event_id = ?',
    [a.atmPubkey, a.rosterEventId],
  )
  if (dup) throw new FleetStoreError('rosterEventId', 'this revocation was already confirmed')
  const r = db.run(
    `INSERT INTO fleet_wallet_revoke_ack (atm_pubkey, roster_event_id, author, note, acked_at_ms) VALUES (?, ?, ?, ?, ?)`,
    [a.atmPubkey, a.rosterEventId, a.author, a.note, a.atMs],
  )
  return { ackId: r.lastInsertRowid }
}

export const walletRevocationProcedures = {
  'fleet.confirmWalletRevoked': defineProcedure('fleet.confirmWalletRevoked', confirmWalletRevoked),
}

/**
 * Pure: the reminders still open. For each ATM whose status in the newest roster is `revoked`, the roster version
 * that dropped it (the first after its last listing), unless `acked` holds `${atm}:${rosterEventId}`.
 */
export function pendingWalletRevocations(
  rosters: readonly Roster[],
  configs: ReadonlyMap<string, readonly MachineConfig[]>,
  acked: ReadonlySet<string>,
): WalletRevocationView[] {
  if (rosters.length === 0) return []
  const effective = effectiveRosterHistory(rosters)
  const everListed = new Set(effective.flatMap((r) => r.members))
  const out: WalletRevocationView[] = []
  for (const atm of [...everListed].sort()) {
    const m = membershipAt(effective, atm, Number.MAX_SAFE_INTEGER)
    if (m.status !== 'revoked') continue
    const dropping = effective.find((r) => r.createdAt === m.revokedAt && !r.members.includes(atm))
    if (!dropping || acked.has(`${atm}:${dropping.eventId}`)) continue
    const c = latestConfig(configs.get(atm) ?? [])
    out.push({
      atmPubkey: atm,
      machineId: c?.machineId ?? null,
      name: c?.name ?? null,
      rosterEventId: dropping.eventId,
      revokedAtSec: m.revokedAt,
    })
  }
  return out.sort((a, b) => a.revokedAtSec - b.revokedAtSec || (a.atmPubkey < b.atmPubkey ? -1 : 1))
}

/** The acknowledged revocations, as `${atm}:${rosterEventId}` keys. */
export async function loadWalletRevokeAcks(store: LedgerStore): Promise<Set<string>> {
  const rows = await store.query<{ atm_pubkey: string; roster_event_id: string }>(
    'SELECT atm_pubkey, roster_event_id FROM fleet_wallet_revoke_ack',
  )
  return new Set(rows.map((r) => `${r.atm_pubkey}:${r.roster_event_id}`))
}
