// NWC destination (NIP-47 make_invoice): the recipient (an LP) gave the operator a connection to their OWN wallet,
// limited to make_invoice, and payouts are invoices their wallet creates. The connection URI is a secret (its
// `secret` parameter signs requests), so it lives only sealed in the secret store; this module opens it at the
// moment of use, asks the wallet through NwcClient (src-main/wallet/nwc-client.ts), and closes the connection.
// NwcClient.makeInvoice already refuses an invoice whose amount or payment hash differs from the answer; this
// module adds nothing to pay on but that checked invoice.

import { createLogger, type Logger } from '../../../src-shared/log'
import { NwcError, parseConnectionUri } from '../../../src-shared/nostr/nip47'
import { NwcClient } from '../../wallet/nwc-client'
import { DestinationError, type InvoiceDestination } from './types'

/** The part of NwcClient used here; tests and the runner may pass another client factory. */
export interface InvoiceMaker {
  makeInvoice(p: { amountMsat: bigint; description?: string; expirySec?: number }): Promise<{
    invoice: string | null
    paymentHash: string
    amountMsat: bigint
  }>
  close(): void
}

export type InvoiceMakerFactory = (uri: string, log: Logger) => InvoiceMaker

export const defaultInvoiceMakerFactory: InvoiceMakerFactory = (uri, log) =>
  new NwcClient({ connection: uri, logger: log, replyTimeoutMs: 30_000 })

/** The wallet pubkey of a connection URI (public; shown in the UI and stored in the ledger). Throws on a bad URI. */
export function nwcWalletPubkey(uri: string, field = 'nwcUri'): string {
  try {
    return parseConnectionUri(uri).walletPubkey
  } catch (e) {
    // The parser's message names the URI part at fault and never quotes the secret.
    throw new DestinationError('BAD_DESTINATION', field, (e as Error).message)
  }
}

export interface NwcInvoiceOptions {
  description?: string
  expirySec?: number
  factory?: InvoiceMakerFactory
  logger?: Logger
}

/** Asks the recipient's wallet for an invoice of exactly `amountMsat`. */
export async function resolveNwcInvoice(
  uri: string,
  amountMsat: bigint,
  opts: NwcInvoiceOptions = {},
): Promise<InvoiceDestination> {
  const log = opts.logger ?? createLogger(() => undefined, 'lp-nwc')
  if (typeof amountMsat !== 'bigint' || amountMsat <= 0n) {
    throw new DestinationError('BAD_DESTINATION', 'amountMsat', 'must be a positive bigint')
  }
  const walletPubkey = nwcWalletPubkey(uri)
  const client = (opts.factory ?? defaultInvoiceMakerFactory)(uri, log)
  try {
    const tx = await client.makeInvoice({
      amountMsat,
      ...(opts.description === undefined ? {} : { description: opts.description }),
      ...(opts.expirySec === undefined ? {} : { expirySec: opts.expirySec }),
    })
    if (tx.invoice === null) throw new NwcError('BAD_RESPONSE', 'no invoice returned', 'unknown')
    log.info('recipient wallet made an invoice', { walletPubkey, amountMsat, paymentHash: tx.paymentHash })
    return { kind: 'invoice', bolt11: tx.invoice, paymentHash: tx.paymentHash, amountMsat: tx.amountMsat }
  } catch (e) {
    log.warn('recipient wallet gave no invoice', {
      walletPubkey,
      amountMsat,
      code: e instanceof NwcError ? e.code : undefined,
      reason: (e as Error).message,
    })
    throw e
  } finally {
    client.close()
  }
}
