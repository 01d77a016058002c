import { hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { baseConfig, DAY, keys, OTHER_SK, signers, T0 } from '../../test/support/fleet-fixture'
import { signTemplateWithKey } from './event'
import {
  buildMachineConfigTemplate,
  configAt,
  configHistory,
  diffConfigs,
  latestConfig,
  MachineConfigError,
  parseMachineConfigContent,
  parseMachineConfigEvent,
  serializeMachineConfigContent,
} from './machine-config'

const s = signers()

function expectField(fn: () => unknown, field: string): void {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(MachineConfigError)
    expect((e as MachineConfigError).field).toBe(field)
    return
  }
  throw new Error(`expected a MachineConfigError naming ${field}`)
}

describe('machine config', () => {
  it('template: kind 30078, d = satmachine:machine:<atm>, p = atm, canonical content', () => {
    const t = buildMachineConfigTemplate(baseConfig(), T0)
    expect(t.kind).toBe(30078)
    expect(t.tags).toEqual([
      ['d', `satmachine:machine:${keys.atmPk}`],
      ['p', keys.atmPk],
    ])
    expect(parseMachineConfigContent(t.content)).toEqual(baseConfig())
  })
  it('parses an operator-signed event with who and when', async () => {
    const ev = await s.operator.signEvent(buildMachineConfigTemplate(baseConfig(), T0))
    const c = parseMachineConfigEvent(ev, keys.operatorPk)
    expect(c.signerPubkey).toBe(keys.operatorPk)
    expect(c.createdAt).toBe(T0)
    expect(c.fees.cash_out.operatorPpm).toBe(50_000)
    expect(c.limits.cash_out.maxFiatMinor).toBe(200_000n)
  })
  it('refuses events not by the operator, with a foreign d, or a tampered body', async () => {
    const t = buildMachineConfigTemplate(baseConfig(), T0)
    expectField(() => parseMachineConfigEvent(signTemplateWithKey(t, hexToBytes(OTHER_SK)), keys.operatorPk), 'pubkey')
    const wrongD = await s.operator.signEvent({ ...t, tags: [['d', `satmachine:machine:${keys.otherPk}`], t.tags[1]!] })
    expectField(() => parseMachineConfigEvent(wrongD, keys.operatorPk), 'atmPubkey')
    const ev = await s.operator.signEvent(t)
    expectField(
      () => parseMachineConfigEvent({ ...ev, content: ev.content.replace('50000', '90000') }, keys.operatorPk),
      'event',
    )
  })
  it.each([
    [(c: Record<string, unknown>) => ({ ...c, v: 2 }), 'v'],
    [(c: Record<string, unknown>) => ({ ...c, name: '' }), 'name'],
    [(c: Record<string, unknown>) => ({ ...c, name: 'a\nb' }), 'name'],
    [(c: Record<string, unknown>) => ({ ...c, relays: [] }), 'relays'],
    [(c: Record<string, unknown>) => ({ ...c, relays: ['https://x'] }), 'relays[0]'],
    [(c: Record<string, unknown>) => ({ ...c, currency: 'EURO' }), 'currency'],
    [(c: Record<string, unknown>) => ({ ...c, extra: 1 }), 'config.extra'],
    [(c: Record<string, unknown>) => ({ ...c, discountPpm: 1_000_001 }), 'discountPpm'],
    [
      (c: Record<string, unknown>) => ({
        ...c,
        fees: { ...(c.fees as object), cash_out: { platformPpm: 100_000, operatorPpm: 50_001 } },
      }),
      'fees.cash_out',
    ],
    [
      (c: Record<string, unknown>) => ({
        ...c,
        limits: { ...(c.limits as object), cash_in: { minFiatMinor: '5', maxFiatMinor: '4' } },
      }),
      'limits.cash_in.minFiatMinor',
    ],
  ])('content rule %# names %s', (change, field) => {
    const c = JSON.parse(serializeMachineConfigContent(baseConfig())) as Record<string, unknown>
    expectField(() => parseMachineConfigContent(JSON.stringify(change(c))), field)
  })
  it('history: diffs old → new per field, who signed, when; configAt picks the version in force', async () => {
    const v1 = parseMachineConfigEvent(
      await s.operator.signEvent(buildMachineConfigTemplate(baseConfig(), T0 - 2 * DAY)),
      keys.operatorPk,
    )
    const changed = baseConfig()
    changed.fees.cash_out.operatorPpm = 45_000
    changed.name = 'Berlin #1'
    const v2 = parseMachineConfigEvent(
      await s.operator.signEvent(buildMachineConfigTemplate(changed, T0 - DAY)),
      keys.operatorPk,
    )
    const h = configHistory([v2, v1, v2])
    expect(h).toHaveLength(2)
    expect(h[0]!.changes.length).toBeGreaterThan(10)
    expect(h[1]).toEqual({
      eventId: v2.eventId,
      signerPubkey: keys.operatorPk,
      createdAt: T0 - DAY,
      changes: [
        { field: 'name', old: 'Berlin Kreuzberg #1', new: 'Berlin #1' },
        { field: 'fees.cash_out.operatorPpm', old: '50000', new: '45000' },
      ],
    })
    expect(diffConfigs(v1, v1)).toEqual([])
    expect(configAt([v1, v2], T0 - DAY - 1)?.eventId).toBe(v1.eventId)
    expect(configAt([v1, v2], T0 - DAY)?.eventId).toBe(v2.eventId)
    expect(configAt([v1, v2], T0 - 3 * DAY)).toBeNull()
    expect(latestConfig([v2, v1])?.eventId).toBe(v2.eventId)
  })
})
