// The LP self-service store against the real contract schemas (fake-bridge.test-support.ts): status loads, a
// switch replaces the status with the main side's answer, a refusal keeps the status and shows the reason.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import type { LpServiceStatusView } from '../../src-shared/ipc/lp-service'
import { installFakeBridge } from './fake-bridge.test-support'
import { outcomeText, useLpServiceStore } from './lp-service'

const bridge = installFakeBridge()

const status = (enabled: boolean, lpEnabled: boolean): LpServiceStatusView => ({
  enabled,
  lps: [{ lpId: 'ana', name: 'Ana', active: true, enabled: lpEnabled, answered: 2, refused: 1, lastRequests: [] }],
  unknown: [],
})

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.calls.length = 0
  bridge.handlers = {}
})

describe('lp self-service store', () => {
  it('loads and switches, taking the main side answer', async () => {
    bridge.handlers['lpService.status'] = () => status(true, true)
    bridge.handlers['lpService.setEnabled'] = (a) => {
      const { lpId, enabled } = a as { lpId: string | null; enabled: boolean }
      return lpId === null ? status(enabled, true) : status(true, enabled)
    }
    const s = useLpServiceStore()
    await s.load()
    expect(s.status?.lps[0]?.enabled).toBe(true)
    expect(await s.setEnabled('ana', false)).toBe(true)
    expect(s.status?.lps[0]?.enabled).toBe(false)
    expect(await s.setEnabled(null, false)).toBe(true)
    expect(s.status?.enabled).toBe(false)
    expect(bridge.calls.map((c) => [c.method, c.args[0]])).toEqual([
      ['lpService.status', { limit: 10 }],
      ['lpService.setEnabled', { lpId: 'ana', enabled: false }],
      ['lpService.setEnabled', { lpId: null, enabled: false }],
    ])
  })

  it('keeps the status when the main side refuses', async () => {
    bridge.handlers['lpService.status'] = () => status(true, true)
    bridge.handlers['lpService.setEnabled'] = () => {
      throw new ApiError('not_found', 'args[0].lpId: no LP gone', 'args[0].lpId')
    }
    const s = useLpServiceStore()
    await s.load()
    expect(await s.setEnabled('gone', false)).toBe(false)
    expect(s.error).toBe('args[0].lpId: no LP gone')
    expect(s.status?.lps[0]?.enabled).toBe(true)
  })

  it('words refusal reasons for the operator', () => {
    expect(outcomeText({ outcome: 'answered', reason: null })).toBe('answered')
    expect(outcomeText({ outcome: 'refused', reason: 'rate_limited' })).toBe('refused: too many requests')
    expect(outcomeText({ outcome: 'refused', reason: 'something_new' })).toBe('refused: something_new')
  })
})
