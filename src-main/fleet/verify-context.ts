// Backs the pure acceptance pipeline (src-shared/nostr/verify-record.ts) with the app's real parts: roster and
// config history from the ledger, decryption by the console key's Signer, the operator wallet's lookup_invoice
// (NIP-47 client), and the booked set in the ledger. One context is built per batch of records, so the roster
// history is read once per batch rather than once per record.

import type { Clock } from '../../src-shared/clock'
import { nowSec } from '../../src-shared/clock'
import type { SchnorrVerify } from '../../src-shared/nostr/event'
import { configAt } from '../../src-shared/nostr/machine-config'
import type { InvoiceLookup, VerifyRecordContext } from '../../src-shared/nostr/verify-record'
import type { Signer } from '../../src-shared/signer'
import type { LedgerStore } from '../ledger/types'
import { bookedByPaymentHash, bookedVersionOf, isEventKnown, loadConfigs, loadRosters } from './store'

export interface FleetVerifyDeps {
  store: LedgerStore
  operatorPubkey: string
  consolePubkey: string
  /** The console key's signer: decrypts records (NIP-44 v2). */
  consoleSigner: Pick<Signer, 'nip44Decrypt'>
  clock: Clock
  /** NIP-47 lookup_invoice on the operator's wallet, mapped to InvoiceLookup; throws when the wallet cannot answer. */
  lookupInvoice(paymentHash: string): Promise<InvoiceLookup>
  /** BIP-340 verifier for signatures and delegation tokens (the relay pool's WASM one); default pure-JS noble. */
  verifySignature?: SchnorrVerify
}

export async function buildVerifyContext(deps: FleetVerifyDeps): Promise<VerifyRecordContext> {
  const rosters = await loadRosters(deps.store, deps.operatorPubkey)
  return {
    operatorPubkey: deps.operatorPubkey,
    consolePubkey: deps.consolePubkey,
    nowSec: nowSec(deps.clock),
    rosters,
    isEventKnown: (id) => isEventKnown(deps.store, id),
    decrypt: (sender, payload) => deps.consoleSigner.nip44Decrypt(sender, payload),
    machineConfig: async (atm, createdAt) =>
      configAt(await loadConfigs(deps.store, deps.operatorPubkey, atm), createdAt),
    lookupInvoice: (h) => deps.lookupInvoice(h),
    isBooked: (h) => bookedByPaymentHash(deps.store, h),
    bookedVersionOf: (atm, txId) => bookedVersionOf(deps.store, atm, txId),
    ...(deps.verifySignature ? { verifySignature: deps.verifySignature } : {}),
  }
}
