// Keeps the test vectors in docs/protocol.md honest: the JSON blocks tagged `vector:<name>` must equal what
// test/vectors/protocol-vectors.ts generates, and each block is re-verified from the doc's own text with the keys
// it publishes. Set UPDATE_VECTORS=1 to rewrite the blocks after a deliberate protocol change.
import { readFileSync, writeFileSync } from 'node:fs'
import { schnorr } from '@noble/curves/secp256k1.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { describe, expect, it } from 'vitest'
import { type NostrEvent, publicKeyHex } from '../../src-shared/nostr/event'
import { parseMachineConfigEvent } from '../../src-shared/nostr/machine-config'
import { delegationString, verifyDelegationToken } from '../../src-shared/nostr/nip26'
import { parsePairingPayload } from '../../src-shared/nostr/pairing'
import { parseReceiptEvent } from '../../src-shared/nostr/receipt'
import { parseRosterEvent, type Roster } from '../../src-shared/nostr/roster'
import {
  REJECT_REASON_CODES,
  REJECT_REASONS,
  type VerifyRecordContext,
  verifyRecord,
} from '../../src-shared/nostr/verify-record'
import { generateVectors } from './protocol-vectors'

const DOC = new URL('../../docs/protocol.md', import.meta.url)
const BLOCK = /```json vector:([a-z-]+)\n([\s\S]*?)\n```/g

function readBlocks(text: string): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const m of text.matchAll(BLOCK)) out.set(m[1]!, JSON.parse(m[2]!))
  return out
}

// biome-ignore lint/suspicious/noExplicitAny: the doc's JSON is read field by field below
type J = any

describe('docs/protocol.md test vectors', async () => {
  const generated = await generateVectors()
  let text = readFileSync(DOC, 'utf8')
  if (process.env.UPDATE_VECTORS === '1') {
    text = text.replace(BLOCK, (whole, name: string) =>
      name in generated ? `\`\`\`json vector:${name}\n${JSON.stringify(generated[name], null, 2)}\n\`\`\`` : whole,
    )
    writeFileSync(DOC, text)
  }
  const v = readBlocks(text)
  const get = (name: string): J => {
    const x = v.get(name)
    if (x === undefined) throw new Error(`docs/protocol.md has no vector:${name} block`)
    return x
  }

  it('every generated vector is in the doc, unchanged', () => {
    expect([...v.keys()].sort()).toEqual(Object.keys(generated).sort())
    for (const [name, value] of Object.entries(generated)) expect(v.get(name), name).toEqual(value)
  })

  it('point 15: the vectors agree with themselves — amounts with the rate and §5.7, distinct payments, a valid NWC key', () => {
    const rec = JSON.parse(get('atm-record').plaintext)
    const W = BigInt(rec.wireMsat)
    const F = BigInt(rec.feePpm)
    const D = BigInt(rec.discountPpm)
    const P = (W * 10n ** 12n) / (10n ** 12n + F * (10n ** 6n - D))
    expect([rec.principalMsat, rec.feeMsat]).toEqual([P.toString(), (W - P).toString()])
    // The principal is the fiat at the quoted rate (msat per BTC = 10^11), to the msat.
    expect((BigInt(rec.fiatMinor) * 10n ** 11n) / BigInt(rec.rateMinorPerBtc)).toBe(P)
    const k = get('keys')
    const late = get('atm-record-after-revocation').event as NostrEvent
    const lateRec = JSON.parse(
      nip44.decrypt(late.content, nip44.getConversationKey(hexToBytes(k.console.secretKey), late.pubkey)),
    )
    expect(lateRec.paymentHash).not.toBe(rec.paymentHash)
    const p = parsePairingPayload(get('pairing-uri').uri, { nowSec: get('pairing-uri').parseAtSec })
    for (const uri of [p.nwcUri, p.nwcCashInUri]) {
      const walletKey = new URL((uri as string).replace('nostr+walletconnect://', 'https://')).hostname
      expect(() => schnorr.utils.lift_x(BigInt(`0x${walletKey}`))).not.toThrow()
    }
  })

  it('§9 lists every reason code of verifyRecord, in pipeline order, with its retryable flag', () => {
    const section = text.slice(text.indexOf('## 9.'), text.indexOf('## 10.'))
    const rows = [...section.matchAll(/^\|\s*\d+\s*\|.*\|\s*`([a-z_]+)`\s*\|\s*(yes|no)\s*\|$/gm)]
    const distinct = [...new Set(rows.map((r) => r[1]!))]
    expect(distinct).toEqual(REJECT_REASON_CODES)
    for (const r of rows)
      expect(r[2] === 'yes', r[1]).toBe(REJECT_REASONS[r[1] as keyof typeof REJECT_REASONS].retryable)
  })

  it('keys derive their public keys', () => {
    const k = get('keys')
    for (const who of ['operator', 'console', 'atm'])
      expect(publicKeyHex(hexToBytes(k[who].secretKey))).toBe(k[who].publicKey)
  })

  it('the delegation token verifies', () => {
    const d = get('delegation')
    expect(delegationString(d.delegatee, d.conditions)).toBe(d.delegationString)
    expect(verifyDelegationToken(d.delegator, d.delegatee, d.conditions, d.token)).toBe(true)
  })

  it('roster, machine config and receipt verify', () => {
    const k = get('keys')
    expect(parseRosterEvent(get('roster'), k.operator.publicKey).members).toEqual([k.atm.publicKey])
    expect(parseMachineConfigEvent(get('machine-config'), k.operator.publicKey).atmPubkey).toBe(k.atm.publicKey)
    expect(parseReceiptEvent(get('receipt'), k.console.publicKey).recordEventId).toBe(get('atm-record').event.id)
  })

  function ctxFor(rosters: Roster[], nowSec: number, lookup: J): VerifyRecordContext {
    const k = get('keys')
    const config = parseMachineConfigEvent(get('machine-config'), k.operator.publicKey)
    const consoleSk = hexToBytes(k.console.secretKey)
    return {
      operatorPubkey: k.operator.publicKey,
      consolePubkey: k.console.publicKey,
      nowSec,
      rosters,
      isEventKnown: () => false,
      decrypt: async (from, payload) => nip44.decrypt(payload, nip44.getConversationKey(consoleSk, from)),
      machineConfig: () => config,
      lookupInvoice: async (h) =>
        lookup && h === lookup.paymentHash
          ? {
              found: true,
              settled: lookup.settled,
              amountMsat: BigInt(lookup.amountMsat),
              preimage: lookup.preimage,
              settledAt: lookup.settledAt,
              type: lookup.type,
            }
          : { found: false },
      isBooked: () => null,
      bookedVersionOf: () => null,
    }
  }

  it('the ATM record decrypts to the documented plaintext and is booked', async () => {
    const k = get('keys')
    const r = get('atm-record')
    const ev = r.event as NostrEvent
    const plain = nip44.decrypt(ev.content, nip44.getConversationKey(hexToBytes(k.console.secretKey), ev.pubkey))
    expect(plain).toBe(r.plaintext)
    const roster = parseRosterEvent(get('roster'), k.operator.publicKey)
    const res = await verifyRecord(ev, ctxFor([roster], r.consoleNowSec, r.lookupInvoice))
    expect(res.ok ? res.action : `${res.reason}: ${res.detail}`).toBe(r.expect)
  })

  it('the record made after the revocation is rejected as revoked', async () => {
    const k = get('keys')
    const r = get('atm-record-after-revocation')
    const rosters = [get('roster'), get('roster-revocation')].map((e) => parseRosterEvent(e, k.operator.publicKey))
    const res = await verifyRecord(r.event, ctxFor(rosters, r.consoleNowSec, null))
    expect(res.ok ? res.action : res.reason).toBe(r.expect)
  })

  it('the pairing URI parses and its delegation verifies', () => {
    const p = get('pairing-uri')
    const k = get('keys')
    const parsed = parsePairingPayload(p.uri, { nowSec: p.parseAtSec, expectAtmPubkey: k.atm.publicKey })
    expect(parsed.token).toBe(get('delegation').token)
  })
})
