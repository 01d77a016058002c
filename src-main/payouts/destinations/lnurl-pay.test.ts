// LNURL-pay (LUD-06/LUD-16) against a real node:http server on 127.0.0.1 that serves /.well-known/lnurlp/<user>
// and its callback, minting real signed BOLT11 invoices (description hash = sha256(metadata)) from the simulated
// Lightning network (test/support/lightning.ts). Each misbehaviour a real service could show is served for real:
// wrong amount, wrong description hash, over-max, error status, malformed JSON, {status: ERROR}, http callback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../../src-shared/log'
import { invoiceAmountMsat, invoicePaymentHash } from '../../../src-shared/nostr/nip47'
import { LightningNetwork, type SimWallet } from '../../../test/support/lightning'
import {
  checkServiceUrl,
  fetchPayRequest,
  LnurlPayError,
  lightningAddressUrl,
  parsePayRequest,
  resolveLightningAddress,
} from './lnurl-pay'

type Mode =
  | 'ok'
  | 'wrong-amount'
  | 'wrong-hash'
  | 'no-amount'
  | 'error-status'
  | 'service-error'
  | 'bad-json'
  | 'callback-bad-json'
  | 'http-callback'
  | 'bad-tag'
  | 'other-identifier'
  | 'expired'
  | 'hang'

interface Served {
  mode: Mode
  requests: string[]
}

const net = new LightningNetwork()
let payee: SimWallet
let server: Server
let base = ''
let host = ''
const served: Served = { mode: 'ok', requests: [] }
const hanging: ServerResponse[] = []

const metadataFor = (user: string) =>
  JSON.stringify([
    ['text/plain', `Payout to ${user}`],
    ['text/identifier', `${user}@${host}`],
  ])

/** Answers the request; returns true so the handler's branches can `return send(…)`. */
function send(res: ServerResponse, status: number, body: string): boolean {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(body)
  return true
}

function handle(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', base)
  served.requests.push(url.pathname + url.search)
  const m = /^\/\.well-known\/lnurlp\/([a-z0-9._+-]+)$/.exec(url.pathname)
  if (m) {
    const user = m[1]!
    if (served.mode === 'hang') {
      hanging.push(res)
      return false
    }
    if (served.mode === 'error-status') return send(res, 503, '<html>down</html>')
    if (served.mode === 'bad-json') return send(res, 200, '{"tag": "payRequest", ')
    if (user === 'ghost') return send(res, 404, JSON.stringify({ status: 'ERROR', reason: 'no such user' }))
    const callback =
      served.mode === 'http-callback' ? `http://example.com/cb/${user}` : `${base}/lnurlp/callback/${user}?tok=1`
    return send(
      res,
      200,
      JSON.stringify({
        tag: served.mode === 'bad-tag' ? 'withdrawRequest' : 'payRequest',
        callback,
        minSendable: 1000,
        maxSendable: 50_000_000,
        metadata:
          served.mode === 'other-identifier'
            ? JSON.stringify([
                ['text/plain', 'x'],
                ['text/identifier', `someone@${host}`],
              ])
            : metadataFor(user),
        commentAllowed: 0,
      }),
    )
  }
  const cb = /^\/lnurlp\/callback\/([a-z0-9._+-]+)$/.exec(url.pathname)
  if (cb) {
    const user = cb[1]!
    if (url.searchParams.get('tok') !== '1') return send(res, 400, JSON.stringify({ status: 'ERROR', reason: 'tok' }))
    if (served.mode === 'service-error') {
      return send(res, 200, JSON.stringify({ status: 'ERROR', reason: 'wallet offline' }))
    }
    if (served.mode === 'callback-bad-json') return send(res, 200, 'not json at all')
    const amountMsat = BigInt(url.searchParams.get('amount') ?? '0')
    const meta = metadataFor(user)
    const tx = payee.makeInvoice(served.mode === 'wrong-amount' ? amountMsat + 1000n : amountMsat, {
      descriptionHash: bytesToHex(sha256(new TextEncoder().encode(served.mode === 'wrong-hash' ? `${meta} ` : meta))),
      ...(served.mode === 'expired' ? { expirySec: 1 } : {}),
    })
    return send(res, 200, JSON.stringify({ pr: tx.invoice, routes: [] }))
  }
  return send(res, 404, JSON.stringify({ status: 'ERROR', reason: 'not found' }))
}

beforeAll(async () => {
  payee = net.createWallet('lp-ana')
  server = createServer(handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  host = `127.0.0.1:${port}`
  base = `http://${host}`
})
afterAll(async () => {
  for (const r of hanging) r.destroy()
  await new Promise<void>((r) => server.close(() => r()))
})
beforeEach(() => {
  served.mode = 'ok'
  served.requests = []
})

async function errOf(p: Promise<unknown>): Promise<LnurlPayError> {
  try {
    await p
  } catch (e) {
    if (e instanceof LnurlPayError) return e
    throw e
  }
  throw new Error('expected an LnurlPayError')
}

describe('Lightning address → invoice (LUD-16 / LUD-06)', () => {
  it('fetches a real invoice for exactly the amount, committing to sha256(metadata)', async () => {
    const log = memoryLogger('lnurl')
    const d = await resolveLightningAddress(`Ana@${host}`, 21_000n, { logger: log })
    expect(d.kind).toBe('invoice')
    expect(d.amountMsat).toBe(21_000n)
    expect(invoiceAmountMsat(d.bolt11)).toBe(21_000n)
    expect(invoicePaymentHash(d.bolt11)).toBe(d.paymentHash)
    // The invoice really belongs to the payee's wallet: paying it settles there.
    const payer = net.createWallet('operator', 1_000_000n)
    payer.payInvoice(d.bolt11)
    expect(payee.lookup(d.paymentHash)?.state).toBe('settled')
    expect(served.requests).toEqual(['/.well-known/lnurlp/ana', '/lnurlp/callback/ana?tok=1&amount=21000'])
    expect(log.records.find((r) => r.msg === 'lnurl invoice fetched')?.fields.paymentHash).toBe(d.paymentHash)
  })

  it('refuses an invoice for another amount', async () => {
    served.mode = 'wrong-amount'
    const e = await errOf(resolveLightningAddress(`ana@${host}`, 21_000n))
    expect(e.code).toBe('AMOUNT_MISMATCH')
    expect(e.field).toBe('pr')
    expect(e.message).toContain('22000')
  })

  it('refuses an invoice whose description hash is not sha256(metadata)', async () => {
    served.mode = 'wrong-hash'
    const log = memoryLogger('lnurl')
    const e = await errOf(resolveLightningAddress(`ana@${host}`, 21_000n, { logger: log }))
    expect(e.code).toBe('DESCRIPTION_HASH_MISMATCH')
    const line = log.records.find((r) => r.msg === 'lnurl invoice refused')
    expect(line?.fields.code).toBe('DESCRIPTION_HASH_MISMATCH')
    expect(line?.fields.field).toBe('pr')
  })

  it('refuses amounts outside [minSendable, maxSendable] without calling the callback', async () => {
    const over = await errOf(resolveLightningAddress(`ana@${host}`, 50_000_001n))
    expect(over.code).toBe('AMOUNT_OUT_OF_RANGE')
    expect(over.field).toBe('amountMsat')
    const under = await errOf(resolveLightningAddress(`ana@${host}`, 999n))
    expect(under.code).toBe('AMOUNT_OUT_OF_RANGE')
    expect(served.requests.every((r) => r.startsWith('/.well-known/'))).toBe(true)
  })

  it('reports an error status, a service error reason, and malformed JSON', async () => {
    served.mode = 'error-status'
    const s = await errOf(resolveLightningAddress(`ana@${host}`, 21_000n))
    expect([s.code, s.message]).toEqual(['HTTP_STATUS', 'HTTP_STATUS: payRequest: HTTP 503'])
    served.mode = 'ok'
    const ghost = await errOf(resolveLightningAddress(`ghost@${host}`, 21_000n))
    expect(ghost.code).toBe('SERVICE_ERROR')
    expect(ghost.message).toContain('no such user')
    served.mode = 'service-error'
    const se = await errOf(resolveLightningAddress(`ana@${host}`, 21_000n))
    expect([se.code, se.field]).toEqual(['SERVICE_ERROR', 'callback'])
    expect(se.message).toContain('wallet offline')
    served.mode = 'bad-json'
    expect((await errOf(resolveLightningAddress(`ana@${host}`, 21_000n))).code).toBe('BAD_JSON')
    served.mode = 'callback-bad-json'
    const cj = await errOf(resolveLightningAddress(`ana@${host}`, 21_000n))
    expect([cj.code, cj.field]).toEqual(['BAD_JSON', 'callback'])
  })

  it('refuses an http callback, a non-payRequest, a foreign identifier and an expired invoice', async () => {
    served.mode = 'http-callback'
    const h = await errOf(resolveLightningAddress(`ana@${host}`, 21_000n))
    expect([h.code, h.field]).toEqual(['INSECURE_URL', 'callback'])
    served.mode = 'bad-tag'
    expect((await errOf(resolveLightningAddress(`ana@${host}`, 21_000n))).field).toBe('tag')
    served.mode = 'other-identifier'
    const oi = await errOf(resolveLightningAddress(`ana@${host}`, 21_000n))
    expect([oi.code, oi.field]).toEqual(['BAD_RESPONSE', 'metadata'])
    served.mode = 'expired'
    const ex = await errOf(
      resolveLightningAddress(`ana@${host}`, 21_000n, { nowSec: () => Math.floor(Date.now() / 1000) + 5 }),
    )
    expect(ex.code).toBe('INVOICE_EXPIRED')
  })

  it('times out on a server that never answers', async () => {
    served.mode = 'hang'
    const e = await errOf(resolveLightningAddress(`ana@${host}`, 21_000n, { timeoutMs: 200 }))
    expect([e.code, e.field]).toEqual(['TIMEOUT', 'payRequest'])
  })

  it('reports a refused connection as NETWORK', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    const e = await errOf(fetchPayRequest(`ana@127.0.0.1:${port}`))
    expect(e.code).toBe('NETWORK')
  })
})

describe('addresses and URLs', () => {
  it('maps addresses to https well-known URLs, http only for loopback', () => {
    expect(lightningAddressUrl('Satoshi@Example.com').url).toBe('https://example.com/.well-known/lnurlp/satoshi')
    expect(lightningAddressUrl('a@localhost:8080').url).toBe('http://localhost:8080/.well-known/lnurlp/a')
    expect(lightningAddressUrl('a@127.0.0.1').url).toBe('http://127.0.0.1/.well-known/lnurlp/a')
    for (const bad of ['nobody', '@example.com', 'a b@example.com', 'a@', 'a@exa mple.com', 'a@-x.com']) {
      const e = (() => {
        try {
          lightningAddressUrl(bad)
        } catch (x) {
          return x as LnurlPayError
        }
        throw new Error(`accepted ${bad}`)
      })()
      expect([e.code, e.field]).toEqual(['BAD_ADDRESS', 'address'])
    }
  })

  it('refuses http to a public host and non-http schemes', () => {
    expect(() => checkServiceUrl('callback', 'http://example.com/x')).toThrow(/INSECURE_URL/)
    expect(() => checkServiceUrl('callback', 'ftp://example.com/x')).toThrow(/INSECURE_URL/)
    expect(() => checkServiceUrl('callback', 'not a url')).toThrow(/BAD_RESPONSE/)
    expect(checkServiceUrl('callback', 'http://[::1]:9/x').hostname).toBe('[::1]')
    expect(checkServiceUrl('callback', 'https://example.com/x').protocol).toBe('https:')
  })

  it('validates payRequest fields and names them', () => {
    const good = {
      tag: 'payRequest',
      callback: 'https://x.com/cb',
      minSendable: 1000,
      maxSendable: 2000,
      metadata: '[["text/plain","hi"]]',
    }
    expect(parsePayRequest(good).metadataHash).toBe(bytesToHex(sha256(new TextEncoder().encode(good.metadata))))
    const fieldOf = (b: unknown) => {
      try {
        parsePayRequest(b)
      } catch (e) {
        return (e as LnurlPayError).field
      }
      return 'accepted'
    }
    expect(fieldOf({ ...good, minSendable: 1.5 })).toBe('minSendable')
    expect(fieldOf({ ...good, maxSendable: 10 })).toBe('maxSendable')
    expect(fieldOf({ ...good, metadata: '[["image/png","x"]]' })).toBe('metadata')
    expect(fieldOf({ ...good, metadata: '{' })).toBe('metadata')
    expect(fieldOf([])).toBe('payRequest')
  })
})
