// The Settings screen store over the fake bridge (the real contract schemas, main-side handlers replaced): a garbage
// relay is refused by the schema before any handler runs, with a sentence naming what is wrong; a relay check's
// outcome is kept per address; the fee preview comes from the shared engine and refuses in the units typed; a fee
// save sends ppm and maps a refusal to its field; backup and restore keep their results and refusals.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import type { FeesView } from '../../src-shared/ipc/settings-screen'
import { installFakeBridge } from './fake-bridge.test-support'
import { useSettingsScreenStore } from './settings-screen'

const bridge = installFakeBridge()

const fees = (over: Partial<FeesView> = {}): FeesView => ({
  configured: true,
  cashOut: { platformPpm: 10_000, operatorPpm: 40_000 },
  cashIn: { platformPpm: 5_000, operatorPpm: 25_000 },
  discountPpm: 0,
  splits: [{ id: 'owner', weightPpm: 1_000_000 }],
  effectiveFromMs: 1,
  machineOverrides: 0,
  ...over,
})

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.handlers = {}
  bridge.calls = []
})

describe('settings screen store', () => {
  it('refuses ws://!!garbage!! before any handler, naming what is wrong', async () => {
    bridge.handlers['settings.checkRelay'] = () => {
      throw new Error('must not be called')
    }
    const s = useSettingsScreenStore()
    const r = await s.checkRelay('ws://!!garbage!!')
    expect(r.ok).toBe(false)
    expect(s.relayChecks['ws://!!garbage!!']).toEqual({
      state: 'failed',
      error:
        'Not a relay address: the host name may contain only letters, digits, dots and dashes (not at the start or end of a part)',
    })
  })

  it('keeps each relay check outcome', async () => {
    bridge.handlers['settings.checkRelay'] = (a) => {
      const url = (a as { url: string }).url
      return url.includes('good')
        ? { url, ok: true, latencyMs: 12, error: null }
        : { url, ok: false, latencyMs: null, error: 'nothing listens at that address (connection refused)' }
    }
    const s = useSettingsScreenStore()
    await s.checkRelay('wss://good.example')
    await s.checkRelay('wss://bad.example')
    expect(s.relayChecks['wss://good.example']).toEqual({ state: 'ok', latencyMs: 12 })
    expect(s.relayChecks['wss://bad.example']).toMatchObject({ state: 'failed', error: /connection refused/ })
  })

  it('loads fees as percent, previews with the engine, and refuses in percent and currency units', async () => {
    bridge.handlers['fees.get'] = () => fees()
    const s = useSettingsScreenStore()
    await s.loadFees()
    expect(s.draft.cashOutPlatform).toBe('1')
    expect(s.draft.cashOutCommission).toBe('4')
    s.draft.amount = '200'
    s.draft.btcPrice = '50000'
    const p = s.preview('EUR')
    expect(p).toMatchObject({ ok: true, wireMsat: 420_000_000n, platformFeeMsat: 4_000_000n })
    s.draft.amount = '1.005'
    expect(s.preview('EUR')).toMatchObject({ ok: false, field: 'amount', message: /EUR 0.01/ })
    s.draft.amount = '200'
    s.draft.cashOutCommission = '20'
    const bad = s.preview('EUR')
    expect(bad).toMatchObject({ ok: false, field: 'commissionPercent' })
    if (!bad.ok) expect(bad.message).toMatch(/at most 15 %; they add up to 21 %/)
    expect(s.feesDirty).toBe(true)
  })

  it('saves fees as ppm; a refusal lands on its field as a sentence', async () => {
    bridge.handlers['fees.get'] = () => fees()
    bridge.handlers['fees.set'] = (a) => {
      const arg = a as { cashOut: { platformPpm: number; operatorPpm: number } }
      if (arg.cashOut.operatorPpm > 100_000)
        throw new ApiError(
          'bad_args',
          'args[0].cashOut.operatorPpm: Cash-out: the platform fee and your commission together may be at most 15 %; they add up to 16 %',
          'args[0].cashOut.operatorPpm',
        )
      return fees({ cashOut: arg.cashOut })
    }
    const s = useSettingsScreenStore()
    await s.loadFees()
    s.draft.cashOutCommission = '2.5'
    expect(await s.saveFees()).toBe(true)
    expect(bridge.calls.find((c) => c.method === 'fees.set')?.args[0]).toEqual({
      cashOut: { platformPpm: 10_000, operatorPpm: 25_000 },
      cashIn: { platformPpm: 5_000, operatorPpm: 25_000 },
    })
    expect(s.feesDirty).toBe(false)
    s.draft.cashOutCommission = '15'
    expect(await s.saveFees()).toBe(false)
    expect(s.feesError).toEqual({
      field: 'cashOutCommission',
      message: 'Cash-out: the platform fee and your commission together may be at most 15 %; they add up to 16 %',
    })
    s.draft.cashInPlatform = 'abc'
    expect(await s.saveFees()).toBe(false)
    expect(s.feesError).toEqual({
      field: 'cashInPlatform',
      message: 'Cash-in platform fee: enter a number of percent, e.g. 1.5',
    })
  })

  it('backup and restore keep their result or the refusal naming the file', async () => {
    bridge.handlers['backup.create'] = () => ({ path: '/b/satmachine-backup-x', createdAtMs: 1, seq: 7, files: [] })
    bridge.handlers['backup.restore'] = () => {
      throw new ApiError(
        'bad_args',
        'args[0].folder: refused, nothing was replaced: ledger/snapshot-0000000000000007.sqlite: does not match its SHA-256 in the manifest (damaged or changed)',
        'args[0].folder',
      )
    }
    const s = useSettingsScreenStore()
    expect(await s.createBackup(' /b ')).toBe(true)
    expect(bridge.calls.at(-1)?.args[0]).toEqual({ folder: '/b' })
    expect(s.backupResult?.seq).toBe(7)
    expect(await s.restore('/b/satmachine-backup-x')).toBe(false)
    expect(s.backupError).toEqual({
      action: 'restore',
      message:
        'Refused, nothing was replaced: ledger/snapshot-0000000000000007.sqlite: does not match its SHA-256 in the manifest (damaged or changed)',
    })
  })
})
