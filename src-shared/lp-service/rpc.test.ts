import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { signTemplateWithKey } from '../nostr/event'
import { buildRequestTemplate, checkRequestEnvelope, parseRpcRequest, RpcRequestError, requestIdOf } from './rpc'

function refusal(text: string): { code: string; field: string } {
  try {
    parseRpcRequest(text)
  } catch (e) {
    expect(e).toBeInstanceOf(RpcRequestError)
    return { code: (e as RpcRequestError).code, field: (e as RpcRequestError).field }
  }
  throw new Error('accepted')
}

describe('RPC request schema', () => {
  it('parses each method with defaults', () => {
    expect(parseRpcRequest('{"id":"a","method":"getBalance"}')).toEqual({ id: 'a', params: { method: 'getBalance' } })
    expect(parseRpcRequest('{"id":"a","method":"getTransactions","params":{}}').params).toEqual({
      method: 'getTransactions',
      limit: 20,
      before: null,
      period: null,
    })
    expect(
      parseRpcRequest('{"id":"a","method":"getTransactions","params":{"limit":5,"before":"42","period":"2026-q4"}}')
        .params,
    ).toEqual({ method: 'getTransactions', limit: 5, before: '42', period: '2026-Q4' })
    expect(parseRpcRequest('{"id":"a","method":"getStatement","params":{"period":"2026-11"}}').params).toEqual({
      method: 'getStatement',
      period: '2026-11',
    })
    expect(parseRpcRequest('{"id":"a","method":"getConfig","params":{}}').params).toEqual({ method: 'getConfig' })
  })

  it('refuses bad input naming the field', () => {
    expect(refusal('nope')).toEqual({ code: 'bad_request', field: 'content' })
    expect(refusal('{"method":"getBalance"}')).toEqual({ code: 'bad_request', field: 'id' })
    expect(refusal('{"id":"a b","method":"getBalance"}')).toEqual({ code: 'bad_request', field: 'id' })
    expect(refusal('{"id":"a","method":"getEverything"}')).toEqual({ code: 'unknown_method', field: 'method' })
    expect(refusal('{"id":"a","method":"getBalance","params":{"lpId":"x"}}')).toEqual({
      code: 'bad_request',
      field: 'params.lpId',
    })
    expect(refusal('{"id":"a","method":"getTransactions","params":{"limit":101}}').field).toBe('params.limit')
    expect(refusal('{"id":"a","method":"getTransactions","params":{"before":"x"}}').field).toBe('params.before')
    expect(refusal('{"id":"a","method":"getStatement","params":{}}').field).toBe('params.period')
    expect(refusal('{"id":"a","method":"getStatement","params":{"period":"2026-13"}}').field).toBe('params.period')
    expect(refusal('{"id":"a","method":"getBalance","extra":1}').field).toBe('request.extra')
    expect(requestIdOf('{"id":"r-1","method":"x"}')).toBe('r-1')
    expect(requestIdOf('garbage')).toBeNull()
  })
})

describe('request envelope', () => {
  const lp = generateSecretKey()
  const consolePk = getPublicKey(generateSecretKey())
  const at = 1_800_000_000
  const ev = (exp: number | null, p = consolePk) => {
    const t = buildRequestTemplate(lp, p, { id: 'x', method: 'getBalance' }, at, exp ?? at)
    if (exp === null) t.tags = t.tags.filter((x) => x[0] !== 'expiration')
    return signTemplateWithKey(t, lp)
  }
  it('needs a p tag for the console and an expiration in (now, now + 600]', () => {
    expect(checkRequestEnvelope(ev(at + 60), consolePk, at)).toEqual({ ok: true, expiration: at + 60 })
    expect(checkRequestEnvelope(ev(at + 600), consolePk, at).ok).toBe(true)
    expect(checkRequestEnvelope(ev(at + 601), consolePk, at)).toEqual({ ok: false, reason: 'lifetime_too_long' })
    expect(checkRequestEnvelope(ev(at), consolePk, at)).toEqual({ ok: false, reason: 'expired' })
    expect(checkRequestEnvelope(ev(null), consolePk, at)).toEqual({ ok: false, reason: 'no_expiration' })
    expect(checkRequestEnvelope(ev(at + 60, getPublicKey(generateSecretKey())), consolePk, at)).toEqual({
      ok: false,
      reason: 'not_for_us',
    })
  })
})
