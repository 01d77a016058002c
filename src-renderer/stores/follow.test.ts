// The renderer side of the live push (follow.ts and the stores' follow()): pushes during a reload in flight cost
// exactly one more reload, a stopped follow leaves no listener, and the Fleet, LP, worklist and Dashboard stores
// reload what they show on their pushes — through the real contract schemas (fake-bridge.test-support.ts).
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { FleetMachineView, RejectedRecordView } from '../../src-shared/ipc/contract'
import type { LpView } from '../../src-shared/ipc/lps'
import { useDashboardStore } from './dashboard'
import { installFakeBridge } from './fake-bridge.test-support'
import { REJECTED_PAGE, useFleetStore } from './fleet'
import { coalescedReload, followPushes } from './follow'
import { useLpsStore } from './lps'
import { useMachineStore } from './machine'

const bridge = installFakeBridge()

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.handlers = {}
  bridge.calls.length = 0
})

/** Resolves once `cond()` holds, checking after each settled microtask/macrotask turn (5 s at most). */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 5_000
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached')
    await new Promise((r) => setImmediate(r))
  }
}
const callsOf = (m: string) => bridge.calls.filter((c) => c.method === m).length

describe('coalescedReload', () => {
  it('100 calls while one reload is in flight run it exactly once more', async () => {
    let runs = 0
    let release: () => void = () => {}
    const run = coalescedReload(async () => {
      runs++
      await new Promise<void>((r) => {
        release = r
      })
    })
    void run()
    for (let i = 0; i < 100; i++) void run()
    expect(runs).toBe(1)
    release()
    await until(() => runs === 2)
    release()
    await new Promise((r) => setImmediate(r))
    expect(runs).toBe(2)
  })

  it('a failing reload does not stop the next one', async () => {
    let runs = 0
    const run = coalescedReload(async () => {
      runs++
      throw new Error('unavailable')
    })
    await run()
    await run()
    expect(runs).toBe(2)
  })
})

describe('followPushes', () => {
  it('subscribes to each event and leaves no listener once stopped', async () => {
    let runs = 0
    const stop = followPushes(['fleet.changed', 'relay.status'], async () => {
      runs++
    })
    expect(bridge.listeners('fleet.changed')).toBe(1)
    bridge.push('fleet.changed')
    await until(() => runs === 1)
    bridge.push('relay.status')
    await until(() => runs === 2)
    stop()
    expect(bridge.listeners('fleet.changed')).toBe(0)
    expect(bridge.listeners('relay.status')).toBe(0)
    bridge.push('fleet.changed')
    await new Promise((r) => setImmediate(r))
    expect(runs).toBe(2)
  })
})

const machine = (booked: number): FleetMachineView =>
  ({
    atmPubkey: 'aa'.repeat(32),
    machineId: 'atm-1',
    name: 'Lobby',
    rosterStatus: 'member',
    booked,
    rejected: 0,
  }) as unknown as FleetMachineView
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

describe('stores following their pushes', () => {
  it('Fleet: a fleet.changed push reloads the machines and puts a new refused record in front of older pages', async () => {
    let booked = 1
    let newest = 100
    bridge.handlers['fleet.machines'] = () => [machine(booked)]
    bridge.handlers['fleet.rejected'] = (o) => {
      const { beforeId } = o as { beforeId?: number }
      const top = beforeId === undefined ? newest : beforeId - 1
      return Array.from({ length: REJECTED_PAGE }, (_, i) => rec(top - i)).filter((r) => r.id > 0)
    }
    const fleet = useFleetStore()
    const stop = fleet.follow()
    await until(() => fleet.machines.length === 1 && fleet.rejected.length === REJECTED_PAGE)
    await fleet.loadMoreRejected()
    expect(fleet.rejected.length).toBe(2 * REJECTED_PAGE)

    booked = 2
    newest = 101
    bridge.push('fleet.changed')
    await until(() => fleet.machines[0]?.booked === 2 && fleet.rejected[0]?.id === 101)
    // The older page the operator opened is still there, and nothing is listed twice.
    expect(fleet.rejected.length).toBe(2 * REJECTED_PAGE + 1)
    expect(new Set(fleet.rejected.map((r) => r.id)).size).toBe(fleet.rejected.length)
    stop()
  })

  it('Machine detail: reloads the open panel on fleet.changed, and asks nothing while no panel is open', async () => {
    let lastSeen = 1_000
    bridge.handlers['fleet.machine'] = () => ({ machine: machine(1), lastSeenAtMs: lastSeen })
    const m = useMachineStore()
    const stop = m.follow()
    bridge.push('fleet.changed')
    await new Promise((r) => setImmediate(r))
    expect(callsOf('fleet.machine')).toBe(0)
    await m.open('aa'.repeat(32))
    expect(m.detail?.lastSeenAtMs).toBe(1_000)
    lastSeen = 2_000
    bridge.push('fleet.changed')
    await until(() => m.detail?.lastSeenAtMs === 2_000)
    stop()
  })

  it('LPs: a confirmed deposit (lps.changed) and a payout (payouts.changed) reload the list and the open provider', async () => {
    let balance = '100'
    const lp = { id: 'lp-a', name: 'Ana', currency: 'USD', balanceMinor: balance } as unknown as LpView
    bridge.handlers['lps.list'] = () => [{ ...lp, balanceMinor: balance }]
    bridge.handlers['lps.history'] = () => ({ deposits: [], lines: [] })
    bridge.handlers['payouts.list'] = () => ({ items: [], next: null })
    const s = useLpsStore()
    const stop = s.follow()
    await until(() => s.list?.length === 1)
    await s.select('lp-a')
    const before = callsOf('lps.history')
    balance = '200'
    bridge.push('lps.changed')
    await until(() => s.selected?.balanceMinor === '200' && callsOf('lps.history') > before)
    const mid = callsOf('payouts.list')
    bridge.push('payouts.changed')
    await until(() => callsOf('payouts.list') > mid)
    stop()
  })

  it('Dashboard: each area it shows reloads the summary, and a burst of 50 pushes costs at most two loads', async () => {
    let release: () => void = () => {}
    bridge.handlers['dashboard.summary'] = () =>
      new Promise((r) => {
        release = () => r({ periods: [] })
      })
    const dash = useDashboardStore()
    const stop = dash.follow()
    expect(callsOf('dashboard.summary')).toBe(1)
    for (let i = 0; i < 10; i++)
      for (const e of [
        'fleet.changed',
        'lps.changed',
        'payouts.changed',
        'worklist.changed',
        'settlements.changed',
      ] as const)
        bridge.push(e)
    release()
    await until(() => callsOf('dashboard.summary') === 2)
    release()
    await new Promise((r) => setImmediate(r))
    expect(callsOf('dashboard.summary')).toBe(2)
    stop()
  })
})
