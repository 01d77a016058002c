import { describe, expect, it } from 'vitest'
import { baseRecord, keys, scenario, T0 } from '../../test/support/fleet-fixture'
import { AtmRecordError, parseAtmRecordContent, serializeAtmRecordContent } from './atm-record'
import { checkEvent } from './event'
import { parseDelegationTag } from './nip26'

const doc = (o: Record<string, unknown> = {}): string => {
  const base = JSON.parse(serializeAtmRecordContent(baseRecord())) as Record<string, unknown>
  return JSON.stringify({ ...base, ...o })
}

function expectField(json: string, field: string, code = 'schema'): void {
  try {
    parseAtmRecordContent(json)
  } catch (e) {
    expect(e).toBeInstanceOf(AtmRecordError)
    expect((e as AtmRecordError).field).toBe(field)
    expect((e as AtmRecordError).code).toBe(code)
    return
  }
  throw new Error(`expected a rejection naming ${field}`)
}

describe('ATM record content v1', () => {
  it('round-trips with bigints intact and canonical field order', () => {
    const r = baseRecord()
    const s = serializeAtmRecordContent(r)
    expect(s.startsWith('{"v":1,"txId":"tx-000042","machineId":')).toBe(true)
    expect(parseAtmRecordContent(s)).toEqual(r)
  })
  it.each([
    [{ txId: '' }, 'txId'],
    [{ txId: 'a b' }, 'txId'],
    [{ machineId: 'x'.repeat(65) }, 'machineId'],
    [{ direction: 'sell' }, 'direction'],
    [{ status: 'pending' }, 'status'],
    [{ fiatMinor: 10000 }, 'fiatMinor'],
    [{ fiatMinor: '010000' }, 'fiatMinor'],
    [{ fiatMinor: '0' }, 'fiatMinor'],
    [{ fiatMinor: '-5' }, 'fiatMinor'],
    [{ currency: 'eur' }, 'currency'],
    [{ wireMsat: '0' }, 'wireMsat'],
    [{ wireMsat: '2100000000000000001' }, 'wireMsat'],
    [{ wireMsat: '21000000.5' }, 'wireMsat'],
    [{ paymentHash: 'AB'.repeat(32) }, 'paymentHash'],
    [{ bolt11: 'LNBC1' }, 'bolt11'],
    [{ feePpm: 1.5 }, 'feePpm'],
    [{ feePpm: 1_000_001 }, 'feePpm'],
    [{ discountPpm: -1 }, 'discountPpm'],
    [{ rateMinorPerBtc: '0' }, 'rateMinorPerBtc'],
    [{ startedAt: '1' }, 'startedAt'],
    [{ paidAt: T0 - 300 }, 'paidAt'],
    [{ finishedAt: T0 - 121 }, 'finishedAt'],
    [{ extra: 1 }, 'extra'],
    [{ fiatDispensedMinor: '10001' }, 'fiatDispensedMinor'],
    [{ status: 'partial' }, 'fiatDispensedMinor'],
    [{ status: 'failed' }, 'fiatDispensedMinor'],
    [{ fiatDispensedMinor: '5000' }, 'fiatDispensedMinor'],
    [{ direction: 'cash_in' }, 'fiatDispensedMinor'],
    [{ direction: 'cash_in', status: 'partial', fiatDispensedMinor: '0' }, 'status'],
  ])('rejects %j naming %s', (o, field) => expectField(doc(o), field))
  it('accepts partial and failed cash-outs and a cash-in', () => {
    expect(parseAtmRecordContent(doc({ status: 'partial', fiatDispensedMinor: '5000' })).status).toBe('partial')
    expect(parseAtmRecordContent(doc({ status: 'failed', fiatDispensedMinor: '0' })).fiatDispensedMinor).toBe(0n)
    expect(parseAtmRecordContent(doc({ direction: 'cash_in', fiatDispensedMinor: '0' })).direction).toBe('cash_in')
  })
  it('names missing fields, wrong versions, bad JSON and oversize documents', () => {
    const o = JSON.parse(doc()) as Record<string, unknown>
    delete o.bolt11
    expectField(JSON.stringify(o), 'bolt11')
    expectField(doc({ v: 2 }), 'v', 'version')
    expectField(doc({ v: '1' }), 'v', 'version')
    expectField('{', 'content', 'json')
    expectField('[1]', 'content', 'schema')
    expectField(doc({ bolt11: `ln${'a'.repeat(5000)}` }), 'content', 'size')
  })
  it('serialize refuses a record that breaks the schema', () => {
    expect(() => serializeAtmRecordContent(baseRecord({ fiatDispensedMinor: 1n }))).toThrow(AtmRecordError)
  })
})

describe('createAtmRecord', () => {
  it('builds a signed, encrypted kind 30079 with d, p, delegation tags that the console can read', async () => {
    const sc = await scenario(false)
    const ev = sc.event
    expect(checkEvent(ev)).toEqual({ ok: true })
    expect(ev.kind).toBe(30079)
    expect(ev.pubkey).toBe(keys.atmPk)
    expect(ev.tags.map((t) => t[0])).toEqual(['d', 'p', 'delegation'])
    expect(ev.tags[0]).toEqual(['d', 'tx-000042'])
    expect(ev.tags[1]).toEqual(['p', keys.consolePk])
    expect(parseDelegationTag(ev)).toEqual(sc.delegation)
    expect(ev.content).not.toContain('tx-000042')
    const plain = await sc.s.console.nip44Decrypt(keys.atmPk, ev.content)
    expect(parseAtmRecordContent(plain)).toEqual(baseRecord())
  })

  it('point 9 (NIP-40): a record carries no expiration tag, so no relay deletes it before a console catches up', async () => {
    // docs/protocol.md §11: records MUST NOT expire; replay is stopped by event id, payment hash, (ATM, txId)
    // versions and the delegation window instead.
    const sc = await scenario(false)
    for (const ev of [sc.event, await sc.makeEvent({ createdAt: T0 - 30, record: { txId: 'tx-000043' } })]) {
      expect(ev.tags.some((t) => t[0] === 'expiration')).toBe(false)
      expect(ev.tags.map((t) => t[0]).sort()).toEqual(['d', 'delegation', 'p'])
    }
  })
})
