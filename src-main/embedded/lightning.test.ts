// Checks the simulated Lightning ledger itself: invoices decode with an independent decoder, carry the
// payee's node signature, commit to sha256(preimage), and payments move balances exactly.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { decode } from 'light-bolt11-decoder'
import { describe, expect, it } from 'vitest'
import { LightningNetwork, recoverInvoicePayee, SimPaymentError } from './lightning'

const section = (inv: string, name: string) => decode(inv).sections.find((s) => s.name === name) as { value: unknown }

describe('simulated lightning ledger', () => {
  it('makes real signed bolt11 invoices that decode to the requested amount and hash', () => {
    const net = new LightningNetwork()
    const w = net.createWallet('atm')
    for (const amountMsat of [1n, 999n, 21_000n, 123_456_789n, 100_000_000_000n]) {
      const tx = w.makeInvoice(amountMsat, { description: 'cash-out', expirySec: 600 })
      expect(tx.invoice!.startsWith('lnbcrt')).toBe(true)
      expect(section(tx.invoice!, 'amount').value).toBe(String(amountMsat))
      expect(section(tx.invoice!, 'payment_hash').value).toBe(tx.paymentHash)
      expect(section(tx.invoice!, 'description').value).toBe('cash-out')
      expect(section(tx.invoice!, 'expiry').value).toBe(600)
      expect(bytesToHex(sha256(hexToBytes(tx.preimage!)))).toBe(tx.paymentHash)
      expect(recoverInvoicePayee(tx.invoice!)).toBe(w.nodePubkey)
    }
  })

  it('mainnet invoices use the lnbc prefix', () => {
    const w = new LightningNetwork({ network: 'mainnet' }).createWallet('m')
    expect(w.makeInvoice(21_000n).invoice!.startsWith('lnbc210n1')).toBe(true)
  })

  it('moves balances exactly and refuses double payment, unknown invoices and overdraft', () => {
    const net = new LightningNetwork()
    const payer = net.createWallet('payer', 100_000n)
    const payee = net.createWallet('payee', 5n)
    const settled: string[] = []
    net.onSettled((e) => settled.push(e.paymentHash))
    const tx = payee.makeInvoice(21_000n)
    const r = payer.payInvoice(tx.invoice!)
    expect(r.preimage).toBe(tx.preimage)
    expect(payer.balanceMsat).toBe(79_000n)
    expect(payee.balanceMsat).toBe(21_005n)
    expect(payee.lookup(tx.paymentHash)?.state).toBe('settled')
    expect(settled).toEqual([tx.paymentHash])
    expect(() => payer.payInvoice(tx.invoice!)).toThrow(SimPaymentError)
    const big = payee.makeInvoice(1_000_000n)
    expect(() => payer.payInvoice(big.invoice!)).toThrow(/not enough funds/)
    expect(payer.balanceMsat).toBe(79_000n)
    const foreign = new LightningNetwork().createWallet('x').makeInvoice(10n)
    expect(() => payer.payInvoice(foreign.invoice!)).toThrow(/no route/)
    expect(net.totalBalanceMsat()).toBe(100_005n)
  })

  it('expires invoices by the network clock', () => {
    let now = 1_800_000_000
    const net = new LightningNetwork({ nowSec: () => now })
    const payer = net.createWallet('payer', 100_000n)
    const tx = net.createWallet('payee').makeInvoice(1_000n, { expirySec: 60 })
    now += 61
    expect(() => payer.payInvoice(tx.invoice!)).toThrow(/expired/)
    expect(payer.balanceMsat).toBe(100_000n)
  })

  it('keysend pays a node pubkey with the chosen preimage', () => {
    const net = new LightningNetwork()
    const a = net.createWallet('a', 10_000n)
    const b = net.createWallet('b')
    const pre = '11'.repeat(32)
    const r = a.payKeysend(b.nodePubkey, 4_000n, pre)
    expect(r.paymentHash).toBe(bytesToHex(sha256(hexToBytes(pre))))
    expect(b.balanceMsat).toBe(4_000n)
    expect(b.lookup(r.paymentHash)?.type).toBe('incoming')
  })
})
