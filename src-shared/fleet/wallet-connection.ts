// Checking a wallet connection an ATM is handed at pairing (the receive-only one for cash-out invoices, the
// budget-limited one for cash-in) the same way the operator's own connection is checked: the whole NIP-47 URI is
// parsed (src-shared/nostr/nip47.ts: wallet key, at least one ws:// or wss:// relay, a 64-hex secret that is a
// valid key). A connection the ATM cannot use would otherwise only show up at its first sale.
//
// The parser's refusal names the part of the URI; here it becomes a sentence in the operator's words that names
// the form field, and never quotes the URI (it holds a secret). Pure: used by the fleet service and the Fleet form.
import { NwcUriError, parseConnectionUri } from '../nostr/nip47'

export type WalletConnectionField = 'nwcReceiveOnlyUri' | 'nwcCashInUri'

const WHICH: Record<WalletConnectionField, string> = {
  nwcReceiveOnlyUri: 'Receive-only wallet connection',
  nwcCashInUri: 'Cash-in wallet connection',
}

const PART: Record<NwcUriError['part'], string> = {
  uri: 'must start with nostr+walletconnect:// — copy the whole connection from your wallet',
  pubkey:
    "does not hold the wallet's key (64 hex characters after nostr+walletconnect://) — copy the whole connection from your wallet",
  relay: 'must name at least one relay as a ws:// or wss:// address (relay=wss://…)',
  secret: 'must carry its secret as 64 hex characters (secret=…) — copy the whole connection from your wallet',
  lud16: 'has a Lightning address (lud16) that is not of the form name@domain',
}

/** Null when the connection is usable; otherwise the sentence to show under `field`. */
export function walletConnectionProblem(field: WalletConnectionField, uri: string): string | null {
  try {
    parseConnectionUri(uri)
    return null
  } catch (e) {
    const part = e instanceof NwcUriError ? e.part : 'uri'
    return `${WHICH[field]} ${PART[part]}.`
  }
}
