// The fleet and pairing stores against the real contract schemas (fake-bridge.test-support.ts): paging of refused
// records with `beforeId`, the summary counts, the typed form's conversion to ppm and minor units (string arithmetic,
// no floats), the mapping of the main side's field paths to form fields, and the `unavailable` signer state.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError, type FleetMachineView, METHODS, type RejectedRecordView } from '../../src-shared/ipc/contract'
import type { FleetPairView } from '../../src-shared/ipc/fleet-pairing'
import { installFakeBridge } from './fake-bridge.test-support'
import { appendRejected, fleetSummary, REJECTED_PAGE, useFleetStore } from './fleet'
import {
  emptyPairForm,
  FormFieldError,
  majorToMinor,
  newestDelegations,
  pairError,
  pairInput,
  percentToPpm,
  qrDataUrl,
  usePairingStore,
} from './pairing'

const bridge = installFakeBridge()

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.handlers = {}
  bridge.calls.length = 0
})

const rec = (id: number): RejectedRecordView => ({
  id,
  eventId: id.toString(16).padStart(64, '0'),
  atmPubkey: 'aa'.repeat(32),
  createdAt: 1_700_000_000 + id,
  reason: 'bad_sig',
  detail: 'signature does not verify',
  retryable: false,
  receivedAtMs: 1_700_000_000_000 + id,
})

const machine = (over: Partial<FleetMachineView>): FleetMachineView => ({
  atmPubkey: 'bb'.repeat(32),
  machineId: 'atm-1',
  name: 'Kiosk',
  currency: 'EUR',
  rosterStatus: 'member',
  configEventId: null,
  configCreatedAt: null,
  booked: 0,
  rejected: 0,
  lastRecordAt: null,
  ...over,
})

describe('fleet store', () => {
  it('pages refused records with beforeId = the oldest shown, and stops on a short page', async () => {
    const all = Array.from({ length: REJECTED_PAGE + 5 }, (_, i) => rec(REJECTED_PAGE + 5 - i)) // newest first
    bridge.handlers['fleet.rejected'] = (o) => {
      const { limit, beforeId } = o as { limit: number; beforeId?: number }
      return all.filter((r) => beforeId === undefined || r.id < beforeId).slice(0, limit)
    }
    bridge.handlers['fleet.machines'] = () => []
    const f = useFleetStore()
    await f.load()
    expect(f.rejected).toHaveLength(REJECTED_PAGE)
    expect(f.rejectedMore).toBe(true)
    await f.loadMoreRejected()
    expect(f.rejected.map((r) => r.id)).toEqual(all.map((r) => r.id))
    expect(f.rejectedMore).toBe(false)
    const pages = bridge.calls.filter((c) => c.method === 'fleet.rejected').map((c) => c.args[0])
    expect(pages).toEqual([{ limit: REJECTED_PAGE }, { limit: REJECTED_PAGE, beforeId: 6 }])
  })

  it('appendRejected drops duplicates and keeps newest first', () => {
    const r = appendRejected([rec(9), rec(8)], [rec(8), rec(7)], 2)
    expect(r.items.map((x) => x.id)).toEqual([9, 8, 7])
    expect(r.more).toBe(true)
  })

  it('summary counts machines by roster status and sums records', () => {
    const s = fleetSummary([
      machine({ booked: 3, rejected: 1 }),
      machine({ atmPubkey: 'cc'.repeat(32), rosterStatus: 'revoked', booked: 2 }),
      machine({ atmPubkey: 'dd'.repeat(32), rosterStatus: 'not_listed' }),
    ])
    expect(s).toEqual({ total: 3, active: 1, revoked: 1, attention: 1, booked: 5, rejected: 1 })
  })

  it('keeps the error when the machines cannot be fetched', async () => {
    bridge.handlers['fleet.machines'] = () => {
      throw new ApiError('internal', 'fleet store failed')
    }
    const f = useFleetStore()
    await f.loadMachines()
    expect(f.machinesError).toBe('fleet store failed')
    expect(f.machinesLoaded).toBe(true)
  })
})

describe('pairing form conversion (no floats)', () => {
  it('percent to ppm by string arithmetic', () => {
    expect(percentToPpm('5', 'discountPpm')).toBe(50_000)
    expect(percentToPpm('1.25', 'discountPpm')).toBe(12_500)
    expect(percentToPpm('0,0001', 'discountPpm')).toBe(1)
    expect(() => percentToPpm('0.1234 5', 'discountPpm')).toThrow(FormFieldError)
    expect(() => percentToPpm('101', 'discountPpm')).toThrow(/at most 100%/)
  })

  it('major units to minor units with the currency exponent', () => {
    expect(majorToMinor('1,000.5', 'EUR', 'limits.cash_in.maxFiatMinor')).toBe('100050')
    expect(majorToMinor('500', 'JPY', 'limits.cash_in.maxFiatMinor')).toBe('500')
    expect(() => majorToMinor('5.5', 'JPY', 'limits.cash_in.maxFiatMinor')).toThrow(/no decimals/)
    const err = (() => {
      try {
        majorToMinor('abc', 'EUR', 'limits.cash_out.minFiatMinor')
        return null
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(FormFieldError)
    expect((err as FormFieldError).field).toBe('limits.cash_out.minFiatMinor')
  })

  it('the default form converts to an argument the real schema accepts (once the required fields are typed)', () => {
    const f = { ...emptyPairForm(), atm: 'ee'.repeat(32), machineId: 'atm-1', name: 'Kiosk' }
    const input = pairInput(f)
    expect(input.fees.cash_out.operatorPpm).toBe(50_000)
    expect(input.limits.cash_out.minFiatMinor).toBe('2000')
    expect(input.windowDays).toBe(90)
    expect('nwcReceiveOnlyUri' in input).toBe(false)
    expect(() => METHODS['fleet.pair'].args.parse([input], 'args')).not.toThrow()
  })
})

describe('pairing store', () => {
  it("a field refusal from the main side lands on that field with the schema's sentence", async () => {
    const p = usePairingStore()
    // machineId with a space fails the real schema's pattern.
    const ok = await p.pair({ ...emptyPairForm(), atm: 'ee'.repeat(32), machineId: 'atm 1', name: 'Kiosk' })
    expect(ok).toBe(false)
    expect(p.formError).toEqual({ field: 'machineId', code: 'bad_args', message: expect.stringMatching(/^Must be /) })
  })

  it('a nested fee path maps to its form field', () => {
    const e = new ApiError(
      'bad_args',
      'args[0].fees.cash_in.platformPpm: expected integer 0–150000',
      'args[0].fees.cash_in.platformPpm',
    )
    expect(pairError(e).field).toBe('fees.cash_in.platformPpm')
  })

  it('an unavailable signer is kept as the main side says it, not as a form error', async () => {
    const p = usePairingStore()
    bridge.handlers['fleet.pair'] = () => {
      throw new ApiError('unavailable', 'no hardware signer is connected')
    }
    const ok = await p.pair({ ...emptyPairForm(), atm: 'ee'.repeat(32), machineId: 'atm-1', name: 'Kiosk' })
    expect(ok).toBe(false)
    expect(p.unavailable).toBe('no hardware signer is connected')
    expect(p.formError).toBeNull()
    expect(p.oneShot).toBeNull()
  })

  it('a pairing answer becomes the one-shot payload, which closing drops', async () => {
    const p = usePairingStore()
    const answer: FleetPairView = {
      machineId: 'atm-1',
      atmPubkey: 'ee'.repeat(32),
      uri: 'satmachine-pair:xyz',
      qrSvg: '<svg xmlns="http://www.w3.org/2000/svg"/>',
      delegation: { conditions: 'kind=30079', fromSec: 1, untilSec: 2 },
      rosterEventId: null,
      configEventId: 'ff'.repeat(32),
    }
    bridge.handlers['fleet.pair'] = () => answer
    bridge.handlers['fleet.delegations'] = () => []
    expect(await p.pair({ ...emptyPairForm(), atm: 'ee'.repeat(32), machineId: 'atm-1', name: 'Kiosk' })).toBe(true)
    expect(p.oneShot).toMatchObject({ kind: 'pair', uri: 'satmachine-pair:xyz', untilSec: 2 })
    p.dismissOneShot()
    expect(p.oneShot).toBeNull()
  })

  it('the QR is a base64 data URL of the SVG', () => {
    const url = qrDataUrl('<svg>é</svg>')
    expect(url.startsWith('data:image/svg+xml;base64,')).toBe(true)
    expect(Buffer.from(url.split(',')[1] ?? '', 'base64').toString('utf8')).toBe('<svg>é</svg>')
  })

  it('newestDelegations prefers the one marked newest', () => {
    const base = { conditions: '', fromSec: 0, untilSec: 0, machineId: null, daysLeft: 1 }
    const m = newestDelegations([
      { ...base, atmPubkey: 'a', issuedAtSec: 2, status: 'active', newest: true },
      { ...base, atmPubkey: 'a', issuedAtSec: 1, status: 'expired', newest: false },
    ])
    expect(m.get('a')?.issuedAtSec).toBe(2)
  })

  it('renew answers a renewal one-shot; revoke without a reason is refused naming the reason', async () => {
    const p = usePairingStore()
    const atm = 'ee'.repeat(32)
    bridge.handlers['fleet.delegations'] = () => []
    bridge.handlers['fleet.renew'] = () => ({
      atmPubkey: atm,
      machineId: 'atm-1',
      uri: 'satmachine-pair:renew',
      qrSvg: '<svg/>',
      delegation: { conditions: 'kind=30079', fromSec: 10, untilSec: 20 },
    })
    expect(await p.renew(atm)).toBe(true)
    expect(p.oneShot).toMatchObject({ kind: 'renew', uri: 'satmachine-pair:renew', untilSec: 20 })
    bridge.handlers['fleet.revoke'] = () => ({ atmPubkey: atm, rosterEventId: 'ff'.repeat(32), members: [] })
    expect(await p.revoke(atm, '  ')).toBe(false)
    expect(p.actionErrors[`revoke:${atm}`]).toMatch(/^Reason: Must be /)
    expect(bridge.calls.filter((c) => c.method === 'fleet.revoke')).toHaveLength(1) // sent, refused by the schema
    expect(await p.revoke(atm, 'decommissioned')).toBe(true)
    expect(p.done).toMatch(/revoked/)
  })
})
