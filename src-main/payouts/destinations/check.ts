// Live destination check (issue 15 item 1; docs/secrets-and-destinations.md): before a payout destination is
// stored, the console asks the other side whether it would accept a payment, so a typo shows when the operator
// types it, not days later as a failed payout. One check per destination kind, each using the same protocol module
// the payout itself will use:
//   - Lightning address: the LNURL-pay service must answer a valid payRequest (lnurl-pay.ts `fetchPayRequest`);
//   - the recipient's own NWC connection: the URI must parse, and the wallet's kind 13194 info event must be on
//     its relays and offer make_invoice (what a payout asks it for; nwc-client.ts `walletInfo`);
//   - keysend: the node id must be a point on secp256k1 (keysend.ts `parseNodeId`). A keysend target cannot be
//     probed without paying it, so that is all a check can say.
// The result is one sentence in operator language. Nothing here stores anything; an NWC URI never appears in a
// result or a log line.

import type { Logger } from '../../../src-shared/log'
import { createLogger } from '../../../src-shared/log'
import { NwcClient } from '../../wallet/nwc-client'
import { parseNodeId } from './keysend'
import { fetchPayRequest, type LnurlPayOptions } from './lnurl-pay'
import { nwcWalletPubkey } from './lp-nwc'

/** A destination as typed by the operator (an NWC destination carries its URI, which is a secret). */
export type DestinationToCheck =
  | { kind: 'lightning_address'; address: string }
  | { kind: 'nwc'; uri: string }
  | { kind: 'keysend'; nodeId: string }

export interface DestinationCheckResult {
  ok: boolean
  /** One sentence for the operator. */
  text: string
  /** The NWC wallet pubkey (public), when the destination is an NWC connection whose URI parsed. */
  walletPubkey?: string
}

export interface DestinationChecker {
  check(d: DestinationToCheck): Promise<DestinationCheckResult>
}

/** Reads the wallet's advertised methods for an NWC URI (null: no info event in time). Injectable for tests. */
export type NwcInfoReader = (uri: string, log: Logger) => Promise<{ capabilities: string[] } | null>

export const defaultNwcInfoReader: NwcInfoReader = async (uri, log) => {
  const client = new NwcClient({ connection: uri, logger: log, infoTimeoutMs: 5_000 })
  try {
    return await client.walletInfo()
  } finally {
    client.close()
  }
}

const sats = (msat: bigint) => (msat / 1000n).toString()

export function createDestinationChecker(
  o: { lnurl?: LnurlPayOptions; nwcInfo?: NwcInfoReader; logger?: Logger } = {},
): DestinationChecker {
  const log = o.logger ?? createLogger(() => undefined, 'destination-check')
  const readInfo = o.nwcInfo ?? defaultNwcInfoReader
  return {
    async check(d) {
      if (d.kind === 'lightning_address') {
        try {
          const pr = await fetchPayRequest(d.address, { ...o.lnurl, logger: log.child('lnurl') })
          return {
            ok: true,
            text: `${d.address} answered: it accepts ${sats(pr.minSendableMsat)} to ${sats(pr.maxSendableMsat)} sats per payment`,
          }
        } catch (e) {
          const why = (e as Error).message.replace(/^[A-Z_]+: [\w.[\]]+: /, '')
          log.warn('lightning address check failed', { address: d.address, reason: (e as Error).message })
          return { ok: false, text: `${d.address} did not answer as a Lightning address: ${why}` }
        }
      }
      if (d.kind === 'keysend') {
        try {
          parseNodeId(d.nodeId)
          return {
            ok: true,
            text: 'the node id is a valid public key (a keysend payment can only be tested by sending it)',
          }
        } catch (e) {
          return { ok: false, text: `the node id ${(e as Error).message.replace(/^[A-Z_]+: nodeId: /, '')}` }
        }
      }
      let walletPubkey: string
      try {
        walletPubkey = nwcWalletPubkey(d.uri, 'uri')
      } catch (e) {
        // The parser's message names the URI part at fault and never quotes the secret.
        return {
          ok: false,
          text: `the NWC connection is not valid: ${(e as Error).message.replace(/^.*?: uri: /, '')}`,
        }
      }
      try {
        const info = await readInfo(d.uri, log.child('nwc'))
        if (info === null) {
          return {
            ok: false,
            walletPubkey,
            text: 'the wallet did not announce itself on its relays (no NWC info event); is the wallet online?',
          }
        }
        if (!info.capabilities.includes('make_invoice')) {
          return {
            ok: false,
            walletPubkey,
            text: 'the wallet does not let this connection create invoices (make_invoice), which payouts need',
          }
        }
        return { ok: true, walletPubkey, text: 'the wallet answered on its relays and can create invoices' }
      } catch (e) {
        log.warn('nwc destination check failed', { walletPubkey, reason: (e as Error).message })
        return { ok: false, walletPubkey, text: `the wallet could not be reached: ${(e as Error).message}` }
      }
    },
  }
}
