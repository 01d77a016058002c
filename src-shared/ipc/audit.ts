// IPC shapes of the audit log (issue 10; docs/audit.md): the quarters and their state, closing a quarter (the
// operator confirms the attestation on the signer), and the newest signed head with the start-up check's verdict.
// JSON-safe: hashes are lowercase hex, times ms since the epoch.
//
// Pure TypeScript (only ./schema and type imports): the sandboxed preload bundles this file through contract.ts.
import type { PeriodView } from '../audit/types'
import { hex, object, optional, refine, string } from './schema'

export type { PeriodView } from '../audit/types'

/** A calendar quarter such as 2026Q4 (UTC). */
export const quarterId = refine(string({ min: 6, max: 6 }), (s) => /^\d{4}Q[1-4]$/.test(s), 'a quarter like 2026Q4')

export const auditCloseQuarterInput = object({
  period: quarterId,
  /** SHA-256 of the quarter's export manifest, when the export was made before closing (else the wiring's). */
  manifestSha256: optional(hex(32)),
})

export interface AuditCheckView {
  /** pending: not checked yet; ok: the ledger matches every signed head; tampered: refused (see message). */
  state: 'pending' | 'ok' | 'tampered'
  checkedAtMs: number | null
  /** True once the relays' newest head and published receipts were part of the check. */
  relayChecked: boolean
  message: string | null
}

export interface AuditHeadView {
  /** Entries in the ledger's log. */
  entries: number
  /** The newest signed head (null before the first). */
  treeSize: number | null
  root: string | null
  ledgerSeq: number | null
  signedAtMs: number | null
  eventId: string | null
  consolePubkey: string | null
  /** Relays that accepted the newest head. */
  publishedTo: number
  check: AuditCheckView
  /** Restores of a backup older than a signed head, each with its console-signed statement, oldest first. */
  rollbacks: AuditRollbackView[]
}

/** A console-signed rollback statement (docs/audit.md §9): the log continues from the backup's head. */
export interface AuditRollbackView {
  eventId: string
  /** The backup's audit log: entries and root. */
  toSize: number
  toRoot: string
  /** The head it superseded. */
  fromSize: number
  fromHeadEventId: string
  atMs: number
  reason: string
}

export interface AuditCloseView {
  period: PeriodView
  /** Relays that accepted the attestation (0: it is stored and is published again later). */
  publishedTo: number
}
