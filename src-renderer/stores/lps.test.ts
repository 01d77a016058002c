// The Liquidity providers store over the fake bridge (the real contract schema, main-side handlers replaced): a new
// LP whose destination fails the live check keeps the field and the main side's reason as a sentence, then goes
// through with a good one and is selected; deposits go record → confirm with amounts typed in major units and sent
// as integer minor units; a correction is a reversing entry; statement periods are whole local days; the dust
// preview is the shared money code's; typing errors never reach the main side.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import type { DepositView, LpView } from '../../src-shared/ipc/lps'
import { installFakeBridge } from './fake-bridge.test-support'
import { emptyAddDraft, majorToMinor, periodMs, useLpsStore } from './lps'

const bridge = installFakeBridge()
const NPUB = 'npub1sn0wdenkukak0d9dfczzeacvhkrgz92ak56egt7vdgzn8pv2wfqqhrjdv9'

const lp = (over: Partial<LpView> = {}): LpView => ({
  id: 'lp-1',
  name: 'Ana',
  npub: NPUB,
  currency: 'GTQ',
  machineId: null,
  mode: 'flow',
  dailyLimitMinor: null,
  active: true,
  registeredAtMs: 1,
  deactivatedAtMs: null,
  deactivationReason: null,
  balanceMinor: '0',
  pendingDepositsMinor: '0',
  accruedMsat: '0',
  destination: { kind: 'lightning_address', address: 'ana@example.com' },
  payout: {
    thresholdMsat: '10000000',
    schedule: 'threshold',
    minIntervalMs: 0,
    maxFeeBaseMsat: '0',
    maxFeePpm: 10_000,
  },
  health: { ok: true, text: 'ana@example.com answered', checkedAtMs: 1 },
  paidMsat: '0',
  inUse: false,
  lastPayout: null,
  ...over,
})

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.handlers = {}
  bridge.calls = []
})

function wireDetail(deposits: DepositView[] = []) {
  bridge.handlers['lps.history'] = () => ({ lines: [], next: null, events: [], deposits })
  bridge.handlers['payouts.list'] = () => ({ items: [], nextCursor: null })
}

describe('lps store', () => {
  it('keeps a failed live check under its field, then adds the LP with a good destination and selects it', async () => {
    let lps: LpView[] = []
    bridge.handlers['lps.list'] = () => lps
    wireDetail()
    bridge.handlers['lps.register'] = (a) => {
      const arg = a as { destination: { address: string }; payout: { thresholdMsat: string; maxFeePpm: number } }
      if (arg.destination.address.startsWith('nobody')) {
        throw new ApiError(
          'bad_args',
          'args[0].destination.address: nobody@example.org did not answer as a Lightning address: HTTP 404',
          'args[0].destination.address',
        )
      }
      expect(arg.payout).toEqual({ thresholdMsat: '10000000', schedule: 'threshold', maxFeePpm: 10_000 })
      lps = [lp()]
      return lps[0]
    }
    const s = useLpsStore()
    await s.load()
    const draft = { ...emptyAddDraft('GTQ'), npub: NPUB, name: 'Ana', value: 'nobody@example.org' }
    expect(await s.register(draft)).toBe(false)
    expect(s.error).toEqual({
      key: 'add',
      field: 'address',
      message: 'Nobody@example.org did not answer as a Lightning address: HTTP 404',
    })
    expect(await s.register({ ...draft, value: 'ana@example.com' })).toBe(true)
    expect(s.selected?.name).toBe('Ana')
    expect(s.done).toBe('Ana added; ana@example.com answered')
    expect(s.error).toBeNull()
  })

  it('records a deposit typed in major units, confirms it, and books a correction as a reversing entry', async () => {
    let deposits: DepositView[] = []
    const dep = (status: DepositView['status']): DepositView => ({
      depositId: 'dep-1',
      lpId: 'lp-1',
      amountMinor: '123450',
      status,
      createdAtMs: 1,
      confirmedAtMs: status === 'confirmed' ? 2 : null,
      closedAtMs: null,
      note: 'Monday',
      reversedMinor: '0',
    })
    bridge.handlers['lps.list'] = () => [lp({ balanceMinor: deposits[0]?.status === 'confirmed' ? '123450' : '0' })]
    bridge.handlers['lps.history'] = () => ({ lines: [], next: null, events: [], deposits })
    bridge.handlers['payouts.list'] = () => ({ items: [], nextCursor: null })
    bridge.handlers['lps.deposit.record'] = (a) => {
      expect(a).toEqual({ lpId: 'lp-1', amountMinor: '123450', note: 'Monday' })
      deposits = [dep('pending')]
      return deposits[0]
    }
    bridge.handlers['lps.deposit.confirm'] = () => {
      deposits = [dep('confirmed')]
      return { ...deposits[0], balanceMinor: '123450' }
    }
    bridge.handlers['lps.deposit.reverse'] = (a) => {
      expect(a).toEqual({ depositId: 'dep-1', reason: 'miscount', amountMinor: '2000' })
      return { ...dep('confirmed'), reversedMinor: '2000', balanceMinor: '121450' }
    }
    const s = useLpsStore()
    await s.load()
    await s.select('lp-1')
    expect(await s.recordDeposit(s.selected!, '1,234.50', ' Monday ')).toBe(true)
    expect(s.deposits.map((d) => d.status)).toEqual(['pending'])
    expect(await s.confirmDeposit('dep-1')).toBe(true)
    expect(s.deposits.map((d) => d.status)).toEqual(['confirmed'])
    expect(s.selected?.balanceMinor).toBe('123450')
    expect(await s.reverseDeposit(s.selected!, 'dep-1', 'miscount', '20')).toBe(true)
    expect(s.done).toBe('Correction booked as a reversing entry')
  })

  it('refuses bad typing before anything is sent, naming the field in operator words', async () => {
    bridge.handlers['lps.list'] = () => [lp()]
    wireDetail()
    const s = useLpsStore()
    await s.load()
    await s.select('lp-1')
    expect(await s.recordDeposit(s.selected!, '12.345', '')).toBe(false)
    expect(s.error).toEqual({ key: 'deposit', field: 'amountMinor', message: 'At most 2 decimals.' })
    expect(bridge.calls.some((c) => c.method === 'lps.deposit.record')).toBe(false)
    expect(() => majorToMinor('abc', 'GTQ', 'amountMinor')).toThrow('Must be an amount in GTQ, such as 500 or 12.50.')
    // A zero amount the contract accepts is refused by the main side; its wording is shown without the path.
    bridge.handlers['lps.deposit.record'] = () => {
      throw new ApiError('bad_args', 'args[0].amountMinor: must be at least 1', 'args[0].amountMinor')
    }
    expect(await s.recordDeposit(s.selected!, '0', '')).toBe(false)
    expect(s.error?.message).toBe('Must be at least 1')
  })

  it('asks for a statement over whole local days and previews dust with the shared money code', async () => {
    bridge.handlers['lps.list'] = () => [lp({ balanceMinor: '320' })]
    wireDetail()
    bridge.handlers['lps.statement'] = (a) => {
      expect(a).toEqual({ lpId: 'lp-1', fromMs: Date.UTC(2026, 9, 31, 23), toMs: Date.UTC(2026, 10, 30, 23) })
      return { lp: lp(), lines: [], events: [] }
    }
    const s = useLpsStore()
    await s.load()
    await s.select('lp-1')
    expect(await s.showStatement('lp-1', '2026-11-01', '2026-11-30', 'Europe/Berlin')).toBe(true)
    expect(s.statement).not.toBeNull()
    expect(periodMs('2026-11-01', '2026-11-01', 'UTC')).toEqual({
      fromMs: Date.UTC(2026, 10, 1),
      toMs: Date.UTC(2026, 10, 2),
    })
    expect(() => periodMs('2026-11-02', '2026-11-01', 'UTC')).toThrow(/must not be before/)
    // 1 BTC = GTQ 750,000 → 133,333 msat per quetzal; GTQ 3.20 → 426,665 msat.
    expect(s.dustPreview(s.selected!, '750,000', '')).toEqual({ rate: 133_333n, fiatMinor: 320n, msat: 426_665n })
    expect(() => s.dustPreview(s.selected!, '750000', '5')).toThrow('That is more than the remaining balance.')
  })

  it("loads the selected provider's own payouts (payouts.list for kind lp and its id)", async () => {
    bridge.handlers['lps.list'] = () => [
      lp({ paidMsat: '21000', lastPayout: { amountMsat: '21000', state: 'paid', atMs: 5 } }),
    ]
    bridge.handlers['lps.history'] = () => ({ lines: [], next: null, events: [], deposits: [] })
    bridge.handlers['payouts.list'] = (a) => {
      expect(a).toEqual({ recipientKind: 'lp', recipientId: 'lp-1', limit: 50 })
      return {
        items: [
          {
            id: 'po:lp:lp-1:1',
            recipientKind: 'lp',
            recipientId: 'lp-1',
            amountMsat: '21000',
            state: 'paid',
            paymentHash: 'ab'.repeat(32),
            preimage: 'cd'.repeat(32),
            feesPaidMsat: '0',
            attempt: 1,
            errorCode: null,
            reason: null,
            plannedAtMs: 4,
            updatedAtMs: 5,
          },
        ],
        nextCursor: null,
      }
    }
    const s = useLpsStore()
    await s.load()
    await s.select('lp-1')
    expect(s.payouts.map((p) => [p.state, p.amountMsat, p.preimage])).toEqual([['paid', '21000', 'cd'.repeat(32)]])
    await s.select(null)
    expect(s.payouts).toEqual([])
  })
})
