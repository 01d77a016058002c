// The DestinationResolver the payout runner uses: looks the recipient's destination up (an injectable lookup; the
// LP service provides one over the ledger, src-main/lps/service.ts `lpDestinationLookup`), opens a sealed NWC URI
// from the secret store only at the moment of use, and hands over to the protocol module of that destination kind.

import { createLogger, type Logger } from '../../../src-shared/log'
import type { SecretStore } from '../../secrets/secret-store'
import { keysendDestination } from './keysend'
import { type LnurlPayOptions, resolveLightningAddress } from './lnurl-pay'
import { type InvoiceMakerFactory, resolveNwcInvoice } from './lp-nwc'
import {
  type DestinationConfig,
  DestinationError,
  type DestinationResolver,
  type PayoutRecipient,
  type ResolvedDestination,
} from './types'

export type DestinationLookup = (recipient: PayoutRecipient) => Promise<DestinationConfig | null>

export interface DestinationResolverOptions {
  lookup: DestinationLookup
  /** Needed for `nwc` destinations: the store, or the app's lazy opener (`lazySecretStore`). */
  secrets?: Pick<SecretStore, 'get'> | (() => Promise<Pick<SecretStore, 'get'>>)
  lnurl?: LnurlPayOptions
  nwcFactory?: InvoiceMakerFactory
  /** The invoice description asked of an NWC wallet (LNURL services set their own). */
  describe?: (recipient: PayoutRecipient, amountMsat: bigint) => string
  /** Randomness for keysend preimages. */
  random?: (n: number) => Uint8Array
  logger?: Logger
}

export function createDestinationResolver(o: DestinationResolverOptions): DestinationResolver {
  const log = o.logger ?? createLogger(() => undefined, 'destinations')
  return {
    async resolveInvoice(recipient: PayoutRecipient, amountMsat: bigint): Promise<ResolvedDestination> {
      const dest = await o.lookup(recipient)
      if (!dest) {
        log.warn('recipient has no payout destination', { ...recipient })
        throw new DestinationError(
          'NO_DESTINATION',
          'recipientId',
          `${recipient.recipientKind} ${recipient.recipientId} has no destination`,
        )
      }
      switch (dest.kind) {
        case 'lightning_address':
          return resolveLightningAddress(dest.address, amountMsat, { ...o.lnurl, logger: log.child('lnurl') })
        case 'keysend':
          return keysendDestination(dest.nodeId, amountMsat, o.random)
        case 'nwc': {
          const store = typeof o.secrets === 'function' ? await o.secrets() : o.secrets
          const uri = store ? await store.get(dest.secretSlot) : undefined
          if (uri === undefined) {
            log.error('sealed NWC connection missing', { slot: dest.secretSlot, ...recipient })
            throw new DestinationError(
              'SECRET_MISSING',
              'destination',
              `no sealed NWC connection in ${dest.secretSlot}`,
            )
          }
          return resolveNwcInvoice(uri, amountMsat, {
            description: o.describe?.(recipient, amountMsat) ?? `Satmachine payout ${amountMsat / 1000n} sat`,
            ...(o.nwcFactory ? { factory: o.nwcFactory } : {}),
            logger: log.child('nwc'),
          })
        }
      }
    },
  }
}
