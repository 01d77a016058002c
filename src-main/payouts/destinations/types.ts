// Payout destinations (issue 5 item 3): where one recipient's payout goes, and what the payout runner gets back
// when it asks for a payable target. Three kinds:
//   - `lightning_address` — LNURL-pay (LUD-06/LUD-16) over HTTPS; the invoice is fetched and checked (lnurl-pay.ts);
//   - `nwc` — the recipient's own NWC connection: make_invoice on their wallet (lp-nwc.ts); the URI is a secret,
//     kept only sealed in the secret store under `secretSlot`;
//   - `keysend` — a spontaneous payment to a 33-byte node id (keysend.ts); there is no invoice, so the payer
//     chooses the preimage up front and the payment hash is known before anything is sent.
//
// The runner (src-main/payouts, payout state machine in src-shared/payouts) stores what the resolver returns
// BEFORE it builds the NIP-47 request, so a crash re-uses the same invoice / the same keysend preimage.

/** A destination as configured (no secrets: an NWC destination names the sealed slot that holds its URI). */
export type DestinationConfig =
  | { kind: 'lightning_address'; address: string }
  | { kind: 'nwc'; secretSlot: string; walletPubkey: string }
  | { kind: 'keysend'; nodeId: string }

export type DestinationKind = DestinationConfig['kind']
export const DESTINATION_KINDS: readonly DestinationKind[] = ['lightning_address', 'nwc', 'keysend']

/** A checked invoice for exactly the amount asked: pay it with pay_invoice. */
export interface InvoiceDestination {
  kind: 'invoice'
  bolt11: string
  paymentHash: string
  amountMsat: bigint
}

/**
 * A keysend target: pay with pay_keysend {amount, pubkey, preimage}. The preimage is chosen here (32 random
 * bytes) and paymentHash = sha256(preimage), so the runner can store both first and later prove or reconcile the
 * payment by its hash exactly as for an invoice.
 */
export interface KeysendDestination {
  kind: 'keysend'
  nodeId: string
  amountMsat: bigint
  preimage: string
  paymentHash: string
}

export type ResolvedDestination = InvoiceDestination | KeysendDestination

/** Who is being paid: the accrual's recipient (docs/settlement.md payouts). */
export interface PayoutRecipient {
  recipientKind: string
  recipientId: string
}

/**
 * What the payout runner calls to turn (recipient, amount) into something payable. `resolveInvoice` keeps the
 * name the runner uses; for a keysend recipient it answers a KeysendDestination instead of an invoice.
 */
export interface DestinationResolver {
  resolveInvoice(recipient: PayoutRecipient, amountMsat: bigint): Promise<ResolvedDestination>
}

export type DestinationErrorCode = 'NO_DESTINATION' | 'SECRET_MISSING' | 'BAD_DESTINATION'

/** The recipient has no usable destination (none configured, its sealed NWC URI is gone, or it is malformed). */
export class DestinationError extends Error {
  override readonly name = 'DestinationError'
  constructor(
    readonly code: DestinationErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(`${code}: ${field}: ${message}`)
  }
}
