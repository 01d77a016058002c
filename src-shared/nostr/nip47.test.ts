// Unit tests for the pure NIP-47 core: URI parsing, negotiation, request building, response checking and
// interpretation, amounts, payment proofs. Responses are built here with nostr-tools directly (not with the
// module under test), the way a wallet service would.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { LightningNetwork } from '../../test/support/lightning'
import {
  buildRequestEvent,
  checkResponseEvent,
  checkSettledInvoice,
  chooseEncryption,
  formatConnectionUri,
  inspectOwnRequest,
  interpretResponse,
  invoiceAmountMsat,
  invoicePaymentHash,
  msatToWire,
  NIP47_WALLET_ERROR_CODES,
  type Nip47Transaction,
  NWC_ERROR_POLICY,
  NWC_LOCAL_ERROR_CODES,
  NwcError,
  NwcParamError,
  NwcUriError,
  openNotification,
  paramsToWire,
  parseConnectionUri,
  parseInfoEvent,
  parseResult,
  reconcilePaymentLookup,
  verifyPaymentProof,
  walletErrorToNwcError,
} from './nip47'

const walletSk = generateSecretKey()
const walletPk = getPublicKey(walletSk)
const clientSkHex = bytesToHex(generateSecretKey())
const uri = formatConnectionUri({
  walletPubkey: walletPk,
  relays: ['wss://relay.one', 'ws://127.0.0.1:7000'],
  secretHex: clientSkHex,
  lud16: 'ops@example.com',
})
const conn = parseConnectionUri(uri)

function respond(reqId: string, body: unknown, o: { sk?: Uint8Array; enc?: 'nip44_v2' | 'nip04'; e?: string } = {}) {
  const sk = o.sk ?? walletSk
  const plain = JSON.stringify(body)
  const content =
    (o.enc ?? 'nip44_v2') === 'nip44_v2'
      ? nip44.encrypt(plain, nip44.getConversationKey(sk, conn.clientPubkey))
      : nip04.encrypt(sk, conn.clientPubkey, plain)
  return finalizeEvent(
    {
      kind: 23195,
      created_at: 1_800_000_000,
      tags: [
        ['e', o.e ?? reqId],
        ['p', conn.clientPubkey],
      ],
      content,
    },
    sk,
  )
}

function uriError(u: string): NwcUriError {
  try {
    parseConnectionUri(u)
  } catch (e) {
    expect(e).toBeInstanceOf(NwcUriError)
    return e as NwcUriError
  }
  throw new Error('expected NwcUriError')
}

describe('connection URI', () => {
  it('parses pubkey, several relays, secret and lud16', () => {
    expect(conn.walletPubkey).toBe(walletPk)
    expect(conn.relays).toEqual(['wss://relay.one', 'ws://127.0.0.1:7000'])
    expect(conn.clientPubkey).toBe(getPublicKey(hexToBytes(clientSkHex)))
    expect(conn.lud16).toBe('ops@example.com')
    expect(bytesToHex(conn.secretKey)).toBe(clientSkHex)
  })

  it('never exposes the secret through JSON or enumeration', () => {
    expect(JSON.stringify(conn)).not.toContain(clientSkHex)
    expect(Object.keys(conn)).not.toContain('secretKey')
  })

  it('accepts the form without // and upper-case hex, and de-duplicates relays', () => {
    const c = parseConnectionUri(
      `nostr+walletconnect:${walletPk.toUpperCase()}?relay=wss%3A%2F%2Fa.example&relay=wss://a.example/&secret=${clientSkHex.toUpperCase()}`,
    )
    expect(c.walletPubkey).toBe(walletPk)
    expect(c.relays).toEqual(['wss://a.example'])
    expect(c.lud16).toBeNull()
  })

  it.each([
    ['https://x', 'uri'],
    [`nostr+walletconnect://abc?relay=wss://r&secret=${clientSkHex}`, 'pubkey'],
    [`nostr+walletconnect://${walletPk}?secret=${clientSkHex}`, 'relay'],
    [`nostr+walletconnect://${walletPk}?relay=https://r&secret=${clientSkHex}`, 'relay'],
    [`nostr+walletconnect://${walletPk}?relay=not%20a%20url&secret=${clientSkHex}`, 'relay'],
    [`nostr+walletconnect://${walletPk}?relay=wss://r`, 'secret'],
    [`nostr+walletconnect://${walletPk}?relay=wss://r&secret=1234`, 'secret'],
    [`nostr+walletconnect://${walletPk}?relay=wss://r&secret=${'0'.repeat(64)}`, 'secret'],
    [`nostr+walletconnect://${walletPk}?relay=wss://r&secret=${'f'.repeat(64)}`, 'secret'],
    [`nostr+walletconnect://${walletPk}?relay=wss://r&secret=${clientSkHex}&lud16=nope`, 'lud16'],
  ])('%s -> names the %s part', (u, part) => {
    const e = uriError(u)
    expect(e.part).toBe(part)
    expect(e.message).toContain(part)
    expect(e.message).not.toContain(clientSkHex)
  })
})

describe('info event and encryption negotiation', () => {
  const info = (tags: string[][], content = 'pay_invoice get_balance') =>
    finalizeEvent({ kind: 13194, created_at: 1_800_000_000, tags, content }, walletSk)

  it('prefers nip44_v2, falls back to nip04, and refuses a wallet with neither', () => {
    expect(chooseEncryption(parseInfoEvent(info([['encryption', 'nip44_v2 nip04']]), walletPk))).toBe('nip44_v2')
    expect(chooseEncryption(parseInfoEvent(info([['encryption', 'nip04']]), walletPk))).toBe('nip04')
    expect(chooseEncryption(parseInfoEvent(info([]), walletPk))).toBe('nip04')
    expect(chooseEncryption(null)).toBe('nip04')
    expect(() => chooseEncryption(parseInfoEvent(info([['encryption', 'nip99']]), walletPk))).toThrow(
      /UNSUPPORTED_ENCRYPTION/,
    )
  })

  it('point 8 (NWC for ATMs): the 13194 info event picks the scheme and the request names it and uses it', () => {
    // docs/protocol.md §5.6: NIP-44 v2 whenever the info event lists it, NIP-04 only when the tag is absent.
    const cases: Array<[string[][], 'nip44_v2' | 'nip04']> = [
      [[['encryption', 'nip04 nip44_v2']], 'nip44_v2'],
      [[], 'nip04'],
    ]
    for (const [tags, want] of cases) {
      const encryption = chooseEncryption(parseInfoEvent(info(tags), walletPk))
      expect(encryption).toBe(want)
      const b = buildRequestEvent({
        conn,
        method: 'lookup_invoice',
        params: { paymentHash: 'ab'.repeat(32) },
        encryption,
        createdAtSec: 1_800_000_000,
        expiresAtSec: 1_800_000_060,
      })
      expect(b.event.tags.find((t) => t[0] === 'encryption')).toEqual(['encryption', want])
      const plain =
        want === 'nip44_v2'
          ? nip44.decrypt(b.event.content, nip44.getConversationKey(walletSk, conn.clientPubkey))
          : nip04.decrypt(walletSk, conn.clientPubkey, b.event.content)
      expect(JSON.parse(plain).method).toBe('lookup_invoice')
    }
  })

  it('reads capabilities and notifications, and refuses a forged or foreign info event', () => {
    const i = parseInfoEvent(info([['notifications', 'payment_received payment_sent']]), walletPk)
    expect(i.capabilities).toEqual(['pay_invoice', 'get_balance'])
    expect(i.notifications).toEqual(['payment_received', 'payment_sent'])
    expect(() => parseInfoEvent(info([]), getPublicKey(generateSecretKey()))).toThrow(/not by the wallet/)
    const forged = { ...info([]), content: 'make_invoice' }
    expect(() => parseInfoEvent(forged, walletPk)).toThrow(/signature/)
  })
})

describe('requests', () => {
  it('carries p, encryption and expiration tags and decrypts to {method, params} for the wallet', () => {
    const b = buildRequestEvent({
      conn,
      method: 'make_invoice',
      params: { amountMsat: 21_000n, description: 'atm', expirySec: 600 },
      encryption: 'nip44_v2',
      createdAtSec: 1_800_000_000,
      expiresAtSec: 1_800_000_060,
    })
    expect(b.event.kind).toBe(23194)
    expect(b.event.pubkey).toBe(conn.clientPubkey)
    expect(b.event.tags).toEqual([
      ['p', walletPk],
      ['encryption', 'nip44_v2'],
      ['expiration', '1800000060'],
    ])
    const plain = nip44.decrypt(b.event.content, nip44.getConversationKey(walletSk, conn.clientPubkey))
    expect(JSON.parse(plain)).toEqual({
      method: 'make_invoice',
      params: { amount: 21_000, description: 'atm', expiry: 600 },
    })
    expect(inspectOwnRequest(conn, b.event)).toEqual({
      id: b.id,
      method: 'make_invoice',
      encryption: 'nip44_v2',
      expiresAtSec: 1_800_000_060,
    })
  })

  it('inspectOwnRequest refuses events that are not ours', () => {
    const b = buildRequestEvent({
      conn,
      method: 'get_balance',
      params: {},
      encryption: 'nip04',
      createdAtSec: 1,
      expiresAtSec: 2,
    })
    expect(() => inspectOwnRequest(conn, { ...b.event, sig: '00'.repeat(64) })).toThrow(/event.sig/)
    const other = parseConnectionUri(
      formatConnectionUri({ walletPubkey: walletPk, relays: ['wss://r'], secretHex: bytesToHex(generateSecretKey()) }),
    )
    expect(() => inspectOwnRequest(other, b.event)).toThrow(/event.pubkey/)
  })

  it('validates parameters at the boundary, naming the field', () => {
    const bad = (f: () => unknown, field: string) => {
      try {
        f()
      } catch (e) {
        expect(e).toBeInstanceOf(NwcParamError)
        expect((e as NwcParamError).field).toBe(field)
        return
      }
      throw new Error('expected NwcParamError')
    }
    bad(() => paramsToWire('make_invoice', { amountMsat: 0n }), 'amountMsat')
    bad(() => paramsToWire('make_invoice', { amountMsat: -5n }), 'amountMsat')
    bad(() => paramsToWire('make_invoice', { amountMsat: 2n ** 53n }), 'amountMsat')
    bad(() => paramsToWire('make_invoice', { amountMsat: 5 as unknown as bigint }), 'amountMsat')
    bad(() => paramsToWire('make_invoice', { amountMsat: 1n, descriptionHash: 'zz' }), 'descriptionHash')
    bad(() => paramsToWire('lookup_invoice', { paymentHash: 'abc' }), 'paymentHash')
    bad(() => paramsToWire('pay_invoice', { invoice: 'lnbc1garbage' }), 'invoice')
    bad(() => paramsToWire('pay_keysend', { amountMsat: 1n, pubkey: walletPk }), 'pubkey')
    bad(() => paramsToWire('list_transactions', { limit: -1 }), 'limit')
    bad(() => paramsToWire('list_transactions', { type: 'sideways' as 'incoming' }), 'type')
    const inv = new LightningNetwork().createWallet('w').makeInvoice(5_000n).invoice!
    bad(() => paramsToWire('pay_invoice', { invoice: inv, amountMsat: 4_000n }), 'amountMsat')
    expect(paramsToWire('pay_invoice', { invoice: inv, amountMsat: 5_000n })).toEqual({ invoice: inv, amount: 5_000 })
    expect(msatToWire('x', BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER)
  })
})

describe('responses', () => {
  const reqId = 'ab'.repeat(32)
  const req: { id: string; encryption: 'nip44_v2' | 'nip04' } = { id: reqId, encryption: 'nip44_v2' }

  it('accepts only the wallet-signed, e-tagged, decryptable answer', () => {
    const ok = checkResponseEvent(conn, req, respond(reqId, { result_type: 'get_balance', result: { balance: 5 } }))
    expect(ok).toEqual({ ok: true, response: { resultType: 'get_balance', result: { balance: 5 }, error: null } })
    const reason = (ev: NostrEvent, r = req) => {
      const c = checkResponseEvent(conn, r, ev)
      return c.ok ? 'ok' : c.reason
    }
    const body = { result_type: 'get_balance', result: { balance: 5 } }
    expect(reason(respond(reqId, body, { sk: generateSecretKey() }))).toBe('wrong_author')
    expect(reason(respond(reqId, body, { e: 'cd'.repeat(32) }))).toBe('wrong_request')
    expect(reason({ ...respond(reqId, body), created_at: 1 })).toBe('bad_signature')
    expect(reason(respond(reqId, body, { enc: 'nip04' }))).toBe('undecryptable')
    expect(reason(respond(reqId, 'just a string'))).toBe('malformed')
    expect(reason(respond(reqId, { result: {} }))).toBe('malformed')
    expect(reason({ ...respond(reqId, body), kind: 23194 })).toBe('wrong_kind')
    expect(reason(respond(reqId, body, { enc: 'nip04' }), { id: reqId, encryption: 'nip04' })).toBe('ok')
  })

  it('maps every wallet error code, keeps unknown codes as OTHER, and documents every policy', () => {
    for (const code of NIP47_WALLET_ERROR_CODES) {
      const e = walletErrorToNwcError({ code, message: 'm' }, { method: 'pay_invoice', requestId: reqId })
      expect(e.code).toBe(code)
      expect(e.outcome).toBe('rejected')
      expect(e.retryable).toBe(NWC_ERROR_POLICY[code].retryable)
    }
    for (const code of [...NIP47_WALLET_ERROR_CODES, ...NWC_LOCAL_ERROR_CODES]) {
      expect(NWC_ERROR_POLICY[code].why.length).toBeGreaterThan(10)
    }
    expect(walletErrorToNwcError({ code: 'NEW_THING', message: '' }).code).toBe('OTHER')
    expect(() =>
      interpretResponse('get_balance', reqId, {
        resultType: 'get_balance',
        result: null,
        error: { code: 'RATE_LIMITED', message: 'slow down' },
      }),
    ).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', retryable: true }))
  })

  it('a result_type for another method is a BAD_RESPONSE', () => {
    expect(() =>
      interpretResponse('pay_invoice', reqId, { resultType: 'get_balance', result: { balance: 1 }, error: null }),
    ).toThrow(expect.objectContaining({ code: 'BAD_RESPONSE' }))
  })

  it.each<[unknown, string]>([
    [1.5, 'fraction'],
    [-1, 'negative'],
    ['100', 'string'],
    [2 ** 60, 'beyond safe integers'],
    [null, 'missing'],
  ])('amount %s (%s) is a BAD_RESPONSE naming the field', (amount) => {
    try {
      parseResult('get_balance', { balance: amount })
      throw new Error('expected BAD_RESPONSE')
    } catch (e) {
      expect(e).toBeInstanceOf(NwcError)
      expect((e as NwcError).code).toBe('BAD_RESPONSE')
      expect((e as NwcError).message).toContain('result.balance')
    }
  })

  it('reads transactions, deriving state for wallets that omit it', () => {
    const base = { type: 'incoming', payment_hash: 'aa'.repeat(32), amount: 1000 }
    expect(parseResult('lookup_invoice', { ...base, settled_at: 5 }).state).toBe('settled')
    expect(parseResult('lookup_invoice', base).state).toBe('pending')
    expect(parseResult('lookup_invoice', { ...base, state: 'expired' }).amountMsat).toBe(1000n)
    expect(() => parseResult('lookup_invoice', { ...base, state: 'weird' })).toThrow(/state/)
    expect(() => parseResult('list_transactions', { transactions: [{ ...base, amount: 0.1 }] })).toThrow(
      /result.transactions\[0\].amount/,
    )
    expect(parseResult('pay_invoice', { preimage: '', fees_paid: 0 })).toEqual({ preimage: null, feesPaidMsat: 0n })
  })
})

describe('payment proofs', () => {
  const w = new LightningNetwork().createWallet('payee')
  const tx = w.makeInvoice(42_000n)

  it('decodes the invoice hash and amount', () => {
    expect(invoicePaymentHash(tx.invoice!)).toBe(tx.paymentHash)
    expect(invoiceAmountMsat(tx.invoice!)).toBe(42_000n)
  })

  it('classifies verified, mismatch and missing preimages', () => {
    expect(verifyPaymentProof(tx.paymentHash, tx.preimage).status).toBe('verified')
    expect(verifyPaymentProof(tx.paymentHash, 'ff'.repeat(32)).status).toBe('preimage_mismatch')
    expect(verifyPaymentProof(tx.paymentHash, 'not hex').status).toBe('preimage_mismatch')
    expect(verifyPaymentProof(tx.paymentHash, null).status).toBe('preimage_missing')
  })

  it('checkSettledInvoice applies the booking rule', () => {
    const settled: Nip47Transaction = {
      type: 'incoming',
      state: 'settled',
      invoice: tx.invoice,
      description: null,
      descriptionHash: null,
      preimage: tx.preimage,
      paymentHash: tx.paymentHash,
      amountMsat: 42_000n,
      feesPaidMsat: null,
      createdAtSec: null,
      expiresAtSec: null,
      settledAtSec: 1,
    }
    const want = { paymentHash: tx.paymentHash, amountMsat: 42_000n }
    expect(checkSettledInvoice(settled, want)).toEqual({ ok: true, preimage: tx.preimage })
    const reason = (t: Partial<Nip47Transaction>, w2 = want) => {
      const r = checkSettledInvoice({ ...settled, ...t }, w2)
      return r.ok ? 'ok' : r.reason
    }
    expect(reason({ state: 'pending' })).toBe('not_settled')
    expect(reason({ amountMsat: 41_999n })).toBe('wrong_amount')
    expect(reason({ preimage: null })).toBe('preimage_missing')
    expect(reason({ preimage: '00'.repeat(32) })).toBe('preimage_mismatch')
    expect(reason({}, { paymentHash: bytesToHex(sha256(new Uint8Array([1]))), amountMsat: 42_000n })).toBe('wrong_hash')
  })

  it('reconcilePaymentLookup: only NOT_FOUND, failed or expired allow a new attempt', () => {
    const out: Nip47Transaction = {
      type: 'outgoing',
      state: 'settled',
      invoice: tx.invoice,
      description: null,
      descriptionHash: null,
      preimage: tx.preimage,
      paymentHash: tx.paymentHash,
      amountMsat: 42_000n,
      feesPaidMsat: 3n,
      createdAtSec: null,
      expiresAtSec: null,
      settledAtSec: 1,
    }
    const want = { paymentHash: tx.paymentHash, amountMsat: 42_000n }
    const st = (t: Partial<Nip47Transaction> | null) =>
      reconcilePaymentLookup(t === null ? null : { ...out, ...t }, want)
    expect(st({})).toEqual({ status: 'paid', preimage: tx.preimage, feesPaidMsat: 3n })
    expect(st(null)).toEqual({ status: 'not_paid', reason: 'not_found' })
    expect(st({ state: 'failed' })).toEqual({ status: 'not_paid', reason: 'failed' })
    expect(st({ state: 'expired' })).toEqual({ status: 'not_paid', reason: 'expired' })
    expect(st({ state: 'pending' })).toEqual({ status: 'pending' })
    expect(st({ state: 'accepted' })).toEqual({ status: 'pending' })
    expect(st({ preimage: 'ee'.repeat(32) })).toEqual({ status: 'unverifiable', reason: 'preimage_mismatch' })
    expect(st({ preimage: null })).toEqual({ status: 'unverifiable', reason: 'preimage_missing' })
    expect(st({ amountMsat: 1n })).toEqual({ status: 'unverifiable', reason: 'wrong_amount' })
    expect(st({ paymentHash: 'cc'.repeat(32) })).toEqual({ status: 'unverifiable', reason: 'wrong_hash' })
  })
})

describe('notifications', () => {
  const note = (kind: number, body: unknown, sk = walletSk) => {
    const plain = JSON.stringify(body)
    const content =
      kind === 23197
        ? nip44.encrypt(plain, nip44.getConversationKey(sk, conn.clientPubkey))
        : nip04.encrypt(sk, conn.clientPubkey, plain)
    return finalizeEvent({ kind, created_at: 1, tags: [['p', conn.clientPubkey]], content }, sk)
  }
  const tx = { type: 'incoming', state: 'settled', payment_hash: 'aa'.repeat(32), amount: 1000, settled_at: 2 }

  it('opens NIP-44 (23197) and NIP-04 (23196) notifications', () => {
    for (const kind of [23197, 23196]) {
      const n = openNotification(conn, note(kind, { notification_type: 'payment_received', notification: tx }))
      expect(n).toMatchObject({ type: 'payment_received', transaction: { amountMsat: 1000n } })
    }
  })

  it('refuses foreign, unknown-type and malformed notifications with a reason', () => {
    const err = (ev: NostrEvent) => {
      const n = openNotification(conn, ev)
      return 'error' in n ? n.error : 'ok'
    }
    expect(err(note(23197, { notification_type: 'payment_received', notification: tx }, generateSecretKey()))).toBe(
      'not by the wallet',
    )
    expect(err(note(23197, { notification_type: 'weather', notification: tx }))).toMatch(/unknown notification_type/)
    expect(err(note(23197, { notification_type: 'payment_sent', notification: { ...tx, amount: 'x' } }))).toMatch(
      /amount/,
    )
  })
})
