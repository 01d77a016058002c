// A wallet connection handed to an ATM is checked whole, and a refusal names the connection in words without
// quoting it (it carries a secret).
import { describe, expect, it } from 'vitest'
import { walletConnectionProblem } from './wallet-connection'

const PK = 'ab'.repeat(32)
const SECRET = '11'.repeat(32)

describe('walletConnectionProblem', () => {
  it('accepts a usable NIP-47 connection', () => {
    expect(
      walletConnectionProblem(
        'nwcReceiveOnlyUri',
        `nostr+walletconnect://${PK}?relay=wss://r.example&secret=${SECRET}`,
      ),
    ).toBeNull()
  })

  it('names what is wrong in words, for the field it was typed in, never quoting the URI', () => {
    const cases: Array<[string, RegExp]> = [
      ['nostr+walletconnect://nope', /does not hold the wallet's key/],
      ['https://wallet.example', /must start with nostr\+walletconnect:\/\//],
      [`nostr+walletconnect://${PK}?secret=${SECRET}`, /at least one relay/],
      [`nostr+walletconnect://${PK}?relay=https://r.example&secret=${SECRET}`, /ws:\/\/ or wss:\/\//],
      [`nostr+walletconnect://${PK}?relay=wss://r.example`, /secret as 64 hex/],
      [`nostr+walletconnect://${PK}?relay=wss://r.example&secret=${SECRET}&lud16=bad`, /Lightning address/],
    ]
    for (const [uri, why] of cases) {
      const m = walletConnectionProblem('nwcReceiveOnlyUri', uri)
      expect(m, uri).toMatch(/^Receive-only wallet connection /)
      expect(m, uri).toMatch(why)
      expect(m).not.toContain(SECRET)
    }
    expect(walletConnectionProblem('nwcCashInUri', 'nostr+walletconnect://nope')).toMatch(/^Cash-in wallet connection /)
  })
})
