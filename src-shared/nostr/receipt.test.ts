import { describe, expect, it } from 'vitest'
import { keys, PAYMENT_HASH, PREIMAGE, signers, T0 } from '../../test/support/fleet-fixture'
import { buildReceiptTemplate, parseReceiptEvent, ReceiptError } from './receipt'

const s = signers()
const fields = {
  recordEventId: 'e'.repeat(64),
  operatorPubkey: keys.operatorPk,
  atmPubkey: keys.atmPk,
  paymentHash: PAYMENT_HASH,
  preimage: PREIMAGE,
  amountMsat: 21_000_000n,
}

describe('receipt (kind 3079)', () => {
  it('builds the tags in order and verifies back', async () => {
    const t = buildReceiptTemplate(fields, T0)
    expect(t.kind).toBe(3079)
    expect(t.tags.map((x) => x[0])).toEqual(['e', 'p', 'P', 'payment_hash', 'preimage', 'amount'])
    const ev = await s.console.signEvent(t)
    expect(parseReceiptEvent(ev, keys.consolePk)).toMatchObject({ ...fields, consolePubkey: keys.consolePk })
  })
  it('refuses a preimage that does not hash to the payment hash', async () => {
    expect(() => buildReceiptTemplate({ ...fields, preimage: 'b2'.repeat(32) }, T0)).toThrow(ReceiptError)
    const t = buildReceiptTemplate(fields, T0)
    t.tags[4] = ['preimage', 'b2'.repeat(32)]
    const bad = await s.console.signEvent(t)
    expect(() => parseReceiptEvent(bad, keys.consolePk)).toThrow('preimage')
  })
  it('refuses other signers and bad amounts', async () => {
    const ev = await s.other.signEvent(buildReceiptTemplate(fields, T0))
    expect(() => parseReceiptEvent(ev, keys.consolePk)).toThrow('pubkey')
    const t = buildReceiptTemplate(fields, T0)
    t.tags[5] = ['amount', '21.5']
    const bad = await s.console.signEvent(t)
    expect(() => parseReceiptEvent(bad)).toThrow('tags.amount')
  })
})
