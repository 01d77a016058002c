// Simulated Lightning network for tests and demo mode: the one mock at the true edge (there is no Lightning node here).
// Everything that crosses into the code under test is real: BOLT11 invoices are encoded per BOLT #11 and
// signed by each wallet's node key (recoverable ECDSA over sha256(hrp || data)), preimages are 32 random bytes,
// and payment_hash = sha256(preimage). Balances are bigint msat and move exactly: a payment debits
// amount + fee from the payer and credits amount to the payee in one synchronous step, so no test can observe
// a half-applied payment. Invoices are found by payment hash across the whole network, like a route.

import { randomBytes } from 'node:crypto'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { decode as decodeBolt11 } from 'light-bolt11-decoder'

export type SimNetwork = 'regtest' | 'mainnet'
export type SimTxState = 'pending' | 'settled' | 'expired' | 'failed'

/** One wallet-side transaction, shaped like a NIP-47 transaction but with bigint msat amounts. */
export interface SimTransaction {
  type: 'incoming' | 'outgoing'
  state: SimTxState
  invoice: string | null
  description: string | null
  descriptionHash: string | null
  preimage: string | null
  paymentHash: string
  amountMsat: bigint
  feesPaidMsat: bigint
  createdAtSec: number
  expiresAtSec: number | null
  settledAtSec: number | null
}

/** Why the simulated network refused a payment; `code` is the NIP-47 error code a wallet would answer with. */
export class SimPaymentError extends Error {
  constructor(
    readonly code: 'PAYMENT_FAILED' | 'INSUFFICIENT_BALANCE' | 'NOT_FOUND' | 'OTHER',
    message: string,
  ) {
    super(message)
    this.name = 'SimPaymentError'
  }
}

export interface SettlementEvent {
  paymentHash: string
  amountMsat: bigint
  payer: SimWallet
  payee: SimWallet | null
  incoming: SimTransaction | null
  outgoing: SimTransaction
}

// ---------------------------------------------------------------------------------------------------------------
// BOLT11 encoding. Written from the BOLT #11 text: bech32 without the 90-char limit, 35-bit timestamp, tagged
// fields (5-bit type, 10-bit length in 5-bit words, data), 520-bit signature (r || s || recovery id).

const BECH32_ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function bech32Polymod(values: number[]): number {
  let chk = 1
  for (const v of values) {
    const top = chk >>> 25
    chk = ((chk & 0x1ffffff) << 5) ^ v
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GEN[i]!
  }
  return chk
}

function bech32Encode(hrp: string, words: number[]): string {
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)]
  const polymod = bech32Polymod([...expanded, ...words, 0, 0, 0, 0, 0, 0]) ^ 1
  const checksum = Array.from({ length: 6 }, (_, i) => (polymod >>> (5 * (5 - i))) & 31)
  return `${hrp}1${[...words, ...checksum].map((w) => BECH32_ALPHABET[w]).join('')}`
}

/** Regroups bits; `pad` adds zero bits at the end (used for bytes -> 5-bit words and for the signing preimage). */
function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] {
  let acc = 0
  let bits = 0
  const out: number[] = []
  const maxv = (1 << to) - 1
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | data[i]!
    bits += from
    while (bits >= to) {
      bits -= to
      out.push((acc >>> bits) & maxv)
    }
    acc &= (1 << bits) - 1
  }
  if (pad && bits > 0) out.push((acc << (to - bits)) & maxv)
  return out
}

function intToWords(n: number | bigint, minWords = 1): number[] {
  let v = BigInt(n)
  const out: number[] = []
  while (v > 0n) {
    out.unshift(Number(v & 31n))
    v >>= 5n
  }
  while (out.length < minWords) out.unshift(0)
  return out
}

function taggedField(type: number, data: number[]): number[] {
  if (data.length >= 1024) throw new Error(`bolt11 field ${type} too long`)
  return [type, data.length >> 5, data.length & 31, ...data]
}

/** Shortest human-readable amount for an msat value (BOLT11 multipliers m, u, n, p of one bitcoin). */
function hrpAmount(amountMsat: bigint): string {
  if (amountMsat <= 0n) throw new Error('amountMsat must be > 0')
  // 1 BTC = 1e11 msat. m = 1e8 msat, u = 1e5 msat, n = 100 msat, p = 0.1 msat (so p needs amount * 10).
  if (amountMsat % 100_000_000_000n === 0n) return String(amountMsat / 100_000_000_000n)
  if (amountMsat % 100_000_000n === 0n) return `${amountMsat / 100_000_000n}m`
  if (amountMsat % 100_000n === 0n) return `${amountMsat / 100_000n}u`
  if (amountMsat % 100n === 0n) return `${amountMsat / 100n}n`
  return `${amountMsat * 10n}p`
}

export interface EncodeInvoiceInput {
  network: SimNetwork
  amountMsat: bigint | null
  paymentHash: string
  paymentSecret: string
  timestampSec: number
  description?: string
  descriptionHash?: string
  expirySec?: number
  nodeSecret: Uint8Array
}

/** Encodes and signs a BOLT11 payment request. Exported so tests can build invoices with odd fields. */
export function encodeInvoice(i: EncodeInvoiceInput): string {
  const hrp = `ln${i.network === 'regtest' ? 'bcrt' : 'bc'}${i.amountMsat === null ? '' : hrpAmount(i.amountMsat)}`
  const words: number[] = intToWords(i.timestampSec, 7)
  words.push(...taggedField(1, convertBits(hexToBytes(i.paymentHash), 8, 5, true)))
  words.push(...taggedField(16, convertBits(hexToBytes(i.paymentSecret), 8, 5, true)))
  if (i.descriptionHash !== undefined) {
    words.push(...taggedField(23, convertBits(hexToBytes(i.descriptionHash), 8, 5, true)))
  } else {
    words.push(...taggedField(13, convertBits(new TextEncoder().encode(i.description ?? ''), 8, 5, true)))
  }
  if (i.expirySec !== undefined) words.push(...taggedField(6, intToWords(i.expirySec)))
  words.push(...taggedField(24, intToWords(18)))
  // Feature bits: var_onion_optin (8) and payment_secret (14) required, as every current node sets them.
  const features = (1n << 8n) | (1n << 14n)
  words.push(...taggedField(5, intToWords(features)))
  const signingBytes = new Uint8Array([
    ...new TextEncoder().encode(hrp),
    ...convertBits(words, 5, 8, true), // data part, zero-padded to a whole byte as BOLT11 specifies
  ])
  const msgHash = sha256(signingBytes)
  // noble returns `recovery || r || s` for the recovered format; BOLT11 wants `r || s || recovery`.
  const rec = secp256k1.sign(msgHash, i.nodeSecret, { prehash: false, format: 'recovered' })
  const sig = new Uint8Array([...rec.slice(1, 65), rec[0]!])
  words.push(...convertBits(sig, 8, 5, true))
  return bech32Encode(hrp, words)
}

/** Recovers the signing node's compressed pubkey (hex) from an invoice; used to check our encoder. */
export function recoverInvoicePayee(invoice: string): string {
  const lower = invoice.toLowerCase()
  const sep = lower.lastIndexOf('1')
  const hrp = lower.slice(0, sep)
  const words = [...lower.slice(sep + 1, -6)].map((c) => BECH32_ALPHABET.indexOf(c))
  const dataWords = words.slice(0, -104)
  const sig = new Uint8Array(convertBits(words.slice(-104), 5, 8, false))
  const msgHash = sha256(new Uint8Array([...new TextEncoder().encode(hrp), ...convertBits(dataWords, 5, 8, true)]))
  const recovered = new Uint8Array([sig[64]!, ...sig.slice(0, 64)])
  return bytesToHex(secp256k1.recoverPublicKey(recovered, msgHash, { prehash: false }))
}

// ---------------------------------------------------------------------------------------------------------------

interface InvoiceRecord {
  payee: SimWallet
  invoice: string
  preimage: string
  paymentHash: string
  tx: SimTransaction
}

/** The whole simulated network: wallets, the invoice registry and settlement listeners. */
export class LightningNetwork {
  readonly network: SimNetwork
  private readonly invoices = new Map<string, InvoiceRecord>()
  private readonly wallets: SimWallet[] = []
  private readonly listeners = new Set<(e: SettlementEvent) => void>()
  /** Seconds clock; tests move it to expire invoices without sleeping. */
  nowSec: () => number

  constructor(opts: { network?: SimNetwork; nowSec?: () => number } = {}) {
    this.network = opts.network ?? 'regtest'
    this.nowSec = opts.nowSec ?? (() => Math.floor(Date.now() / 1000))
  }

  /** Creates a wallet with its own node key and an opening balance (msat). */
  createWallet(name: string, balanceMsat = 0n): SimWallet {
    if (balanceMsat < 0n) throw new Error('balanceMsat must be >= 0')
    const w = new SimWallet(this, name, balanceMsat)
    this.wallets.push(w)
    return w
  }

  walletByNodePubkey(nodePubkey: string): SimWallet | undefined {
    return this.wallets.find((w) => w.nodePubkey === nodePubkey)
  }

  /** Subscribes to settlements (each paid invoice or keysend); returns an unsubscribe function. */
  onSettled(listener: (e: SettlementEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Sum of every wallet's balance; conserved by payments when fees are zero. */
  totalBalanceMsat(): bigint {
    return this.wallets.reduce((s, w) => s + w.balanceMsat, 0n)
  }

  /** @internal */
  registerInvoice(r: InvoiceRecord): void {
    this.invoices.set(r.paymentHash, r)
  }

  /** @internal */
  findInvoice(paymentHash: string): InvoiceRecord | undefined {
    return this.invoices.get(paymentHash)
  }

  /** @internal */
  emit(e: SettlementEvent): void {
    for (const l of this.listeners) l(e)
  }
}

export interface PaymentResult {
  preimage: string
  paymentHash: string
  amountMsat: bigint
  feesPaidMsat: bigint
  transaction: SimTransaction
}

/** One simulated wallet (a node with a balance). */
export class SimWallet {
  readonly nodeSecret: Uint8Array
  readonly nodePubkey: string
  balanceMsat: bigint
  /** Every transaction of this wallet, oldest first. */
  readonly transactions: SimTransaction[] = []
  /** Flat routing fee charged on each outgoing payment. */
  feeMsat = 0n

  constructor(
    readonly net: LightningNetwork,
    readonly name: string,
    balanceMsat: bigint,
  ) {
    this.nodeSecret = secp256k1.utils.randomSecretKey()
    this.nodePubkey = bytesToHex(secp256k1.getPublicKey(this.nodeSecret, true))
    this.balanceMsat = balanceMsat
  }

  /** Creates a real signed invoice with a fresh random preimage. */
  makeInvoice(
    amountMsat: bigint,
    opts: { description?: string; descriptionHash?: string; expirySec?: number } = {},
  ): SimTransaction {
    if (amountMsat <= 0n) throw new Error('amountMsat must be > 0')
    if (amountMsat % 1n !== 0n) throw new Error('amountMsat must be an integer')
    const preimage = randomBytes(32)
    const paymentHash = bytesToHex(sha256(preimage))
    const createdAtSec = this.net.nowSec()
    const expirySec = opts.expirySec ?? 3600
    const invoice = encodeInvoice({
      network: this.net.network,
      amountMsat,
      paymentHash,
      paymentSecret: randomBytes(32).toString('hex'),
      timestampSec: createdAtSec,
      description: opts.description ?? '',
      ...(opts.descriptionHash !== undefined ? { descriptionHash: opts.descriptionHash } : {}),
      expirySec,
      nodeSecret: this.nodeSecret,
    })
    const tx: SimTransaction = {
      type: 'incoming',
      state: 'pending',
      invoice,
      description: opts.descriptionHash !== undefined ? null : (opts.description ?? ''),
      descriptionHash: opts.descriptionHash ?? null,
      preimage: preimage.toString('hex'),
      paymentHash,
      amountMsat,
      feesPaidMsat: 0n,
      createdAtSec,
      expiresAtSec: createdAtSec + expirySec,
      settledAtSec: null,
    }
    this.transactions.push(tx)
    this.net.registerInvoice({ payee: this, invoice, preimage: tx.preimage!, paymentHash, tx })
    return tx
  }

  /** Pays a BOLT11 invoice issued by any wallet of the network. Throws SimPaymentError with a NIP-47 code. */
  payInvoice(invoice: string, opts: { amountMsat?: bigint } = {}): PaymentResult {
    let decoded: ReturnType<typeof decodeBolt11>
    try {
      decoded = decodeBolt11(invoice)
    } catch (e) {
      throw new SimPaymentError('OTHER', `invoice does not decode: ${(e as Error).message}`)
    }
    const hashSection = decoded.sections.find((s) => s.name === 'payment_hash')
    const amountSection = decoded.sections.find((s) => s.name === 'amount')
    if (!hashSection) throw new SimPaymentError('OTHER', 'invoice has no payment hash')
    const paymentHash = String(hashSection.value)
    const invoiceAmount = amountSection ? BigInt(String(amountSection.value)) : null
    const amountMsat = invoiceAmount ?? opts.amountMsat
    if (amountMsat === undefined || amountMsat <= 0n) throw new SimPaymentError('OTHER', 'amount required')
    if (invoiceAmount !== null && opts.amountMsat !== undefined && opts.amountMsat !== invoiceAmount) {
      throw new SimPaymentError('OTHER', 'amount does not match the invoice')
    }
    const rec = this.net.findInvoice(paymentHash)
    if (!rec) throw new SimPaymentError('PAYMENT_FAILED', 'no route to the destination')
    if (rec.tx.state === 'settled') throw new SimPaymentError('PAYMENT_FAILED', 'invoice is already paid')
    if (rec.tx.expiresAtSec !== null && this.net.nowSec() >= rec.tx.expiresAtSec) {
      rec.tx.state = 'expired'
      throw new SimPaymentError('PAYMENT_FAILED', 'invoice expired')
    }
    const total = amountMsat + this.feeMsat
    if (total > this.balanceMsat) throw new SimPaymentError('INSUFFICIENT_BALANCE', 'not enough funds')
    const nowSec = this.net.nowSec()
    // Debit and credit in one synchronous step: a payment is never half applied.
    this.balanceMsat -= total
    rec.payee.balanceMsat += amountMsat
    rec.tx.state = 'settled'
    rec.tx.settledAtSec = nowSec
    const out: SimTransaction = {
      type: 'outgoing',
      state: 'settled',
      invoice,
      description: rec.tx.description,
      descriptionHash: rec.tx.descriptionHash,
      preimage: rec.preimage,
      paymentHash,
      amountMsat,
      feesPaidMsat: this.feeMsat,
      createdAtSec: nowSec,
      expiresAtSec: rec.tx.expiresAtSec,
      settledAtSec: nowSec,
    }
    this.transactions.push(out)
    this.net.emit({ paymentHash, amountMsat, payer: this, payee: rec.payee, incoming: rec.tx, outgoing: out })
    return { preimage: rec.preimage, paymentHash, amountMsat, feesPaidMsat: this.feeMsat, transaction: out }
  }

  /** Spontaneous payment to a node pubkey; the payer chooses the preimage. */
  payKeysend(destNodePubkey: string, amountMsat: bigint, preimageHex?: string): PaymentResult {
    if (amountMsat <= 0n) throw new SimPaymentError('OTHER', 'amount must be > 0')
    const payee = this.net.walletByNodePubkey(destNodePubkey)
    if (!payee) throw new SimPaymentError('PAYMENT_FAILED', 'no route to the destination')
    const total = amountMsat + this.feeMsat
    if (total > this.balanceMsat) throw new SimPaymentError('INSUFFICIENT_BALANCE', 'not enough funds')
    const preimage = preimageHex ?? randomBytes(32).toString('hex')
    const paymentHash = bytesToHex(sha256(hexToBytes(preimage)))
    const nowSec = this.net.nowSec()
    this.balanceMsat -= total
    payee.balanceMsat += amountMsat
    const base = {
      invoice: null,
      description: null,
      descriptionHash: null,
      preimage,
      paymentHash,
      amountMsat,
      createdAtSec: nowSec,
      expiresAtSec: null,
      settledAtSec: nowSec,
      state: 'settled' as const,
    }
    const incoming: SimTransaction = { ...base, type: 'incoming', feesPaidMsat: 0n }
    const out: SimTransaction = { ...base, type: 'outgoing', feesPaidMsat: this.feeMsat }
    payee.transactions.push(incoming)
    this.transactions.push(out)
    this.net.emit({ paymentHash, amountMsat, payer: this, payee, incoming, outgoing: out })
    return { preimage, paymentHash, amountMsat, feesPaidMsat: this.feeMsat, transaction: out }
  }

  /** Finds this wallet's transaction by payment hash (incoming preferred, as lookup_invoice does). */
  lookup(paymentHash: string): SimTransaction | undefined {
    const mine = this.transactions.filter((t) => t.paymentHash === paymentHash)
    const tx = mine.find((t) => t.type === 'incoming') ?? mine[0]
    if (tx && tx.state === 'pending' && tx.expiresAtSec !== null && this.net.nowSec() >= tx.expiresAtSec) {
      tx.state = 'expired'
    }
    return tx
  }
}
