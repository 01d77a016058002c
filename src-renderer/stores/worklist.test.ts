// The worklist store against the real contract: arguments are checked by the real `settlements.*`, `worklist.*` and
// `payouts.*` schemas (fake-bridge.test-support.ts), so an inline error's field comes from the same path the main
// side reports. Checks the mapping of refusals to inline messages, that a failed action keeps the list, that a
// successful one reloads it, and that a revoked ATM's wallet reminder counts and is confirmed with its roster version.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import type { WorklistView } from '../../src-shared/ipc/worklist'
import { installFakeBridge } from './fake-bridge.test-support'
import { actionError, needsAcceptUnpaid, parseSettlementId, useWorklistStore, worklistCounts } from './worklist'

const bridge = installFakeBridge()

const EMPTY: WorklistView = {
  settlements: [],
  payouts: [],
  pausedConnections: [],
  alerts: [],
  reconcile: null,
  delegations: [],
}

const ONE: WorklistView = {
  ...EMPTY,
  settlements: [
    {
      kind: 'refund_due',
      settlementId: 7,
      paymentHash: 'ab'.repeat(32),
      machineId: 'atm-1',
      status: 'settled',
      statusChangedAtMs: 1_700_000_000_000,
      reason: 'partial dispense',
      amountMsat: '1234567000',
    },
  ],
  pausedConnections: [{ connectionId: 'lp-1', reason: 'insufficient balance', changedAtMs: 1 }],
}

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.handlers = {}
  bridge.calls.length = 0
})

describe('worklist error mapping', () => {
  it('a schema refusal names the field by its label, without the path', async () => {
    const w = useWorklistStore()
    bridge.handlers['worklist.list'] = () => EMPTY
    expect(await w.retry(0, 'k')).toBe(false)
    expect(w.errors.k).toEqual({
      field: 'settlementId',
      code: 'bad_args',
      message: expect.stringMatching(/^Settlement id: Must be /),
    })
    expect(w.errors.k?.message).not.toContain('args[0]')
  })

  it('an empty refund reference is refused naming the reference field', async () => {
    const w = useWorklistStore()
    expect(await w.resolveRefund(7, '   ')).toBe(false)
    expect(w.errors['refund:7']?.field).toBe('reference')
    expect(w.errors['refund:7']?.message).toMatch(/^Refund reference: /)
  })

  it("a refusal of the action itself keeps the main side's message", () => {
    const e = actionError(new ApiError('not_found', 'settlement 42 does not exist'))
    expect(e).toEqual({ field: null, code: 'not_found', message: 'settlement 42 does not exist' })
  })

  it('typed ids: only whole numbers are sent', () => {
    expect(parseSettlementId(' 42 ')).toBe(42)
    expect(parseSettlementId('4.2')).toMatchObject({ field: 'settlementId' })
    expect(parseSettlementId('')).toMatchObject({ field: 'settlementId' })
  })

  it('UNVERIFIABLE payouts need the explicit acceptUnpaid, others do not', () => {
    expect(needsAcceptUnpaid('UNVERIFIABLE')).toBe(true)
    expect(needsAcceptUnpaid('NO_ROUTE')).toBe(false)
    expect(needsAcceptUnpaid(null)).toBe(false)
  })
})

describe('worklist store', () => {
  it('loads, counts, and keeps the list when an action is refused', async () => {
    const w = useWorklistStore()
    bridge.handlers['worklist.list'] = () => ONE
    await w.load()
    expect(w.counts).toEqual({
      settlements: 1,
      payouts: 0,
      paused: 1,
      alerts: 0,
      reconcile: 0,
      wallet: 0,
      waiting: 0,
      total: 2,
    })
    bridge.handlers['payouts.resume'] = () => {
      throw new ApiError('conflict', 'connection lp-1 is not paused')
    }
    expect(await w.resume('lp-1')).toBe(false)
    expect(w.errors['resume:lp-1']?.message).toBe('connection lp-1 is not paused')
    expect(w.view).toEqual(ONE)
  })

  it('a successful refund sends the trimmed reference and reloads the list', async () => {
    const w = useWorklistStore()
    let list = ONE
    bridge.handlers['worklist.list'] = () => list
    bridge.handlers['worklist.resolve'] = () => {
      list = EMPTY
      return { ackId: 3 }
    }
    await w.load()
    expect(await w.resolveRefund(7, '  R-77 ', '')).toBe(true)
    const call = bridge.calls.find((c) => c.method === 'worklist.resolve')
    expect(call?.args).toEqual([{ settlementId: 7, kind: 'refund_due', reference: 'R-77' }])
    expect(w.counts.total).toBe(0)
    expect(w.done).toMatch(/Refund for settlement 7/)
    expect(w.errors['refund:7']).toBeUndefined()
  })

  it('release passes acceptUnpaid only when asked', async () => {
    const w = useWorklistStore()
    bridge.handlers['worklist.list'] = () => EMPTY
    bridge.handlers['payouts.release'] = (a) => ({ payoutId: (a as { payoutId: string }).payoutId, state: 'released' })
    await w.release('p-1', true)
    await w.release('p-2', false)
    const args = bridge.calls.filter((c) => c.method === 'payouts.release').map((c) => c.args[0])
    expect(args).toEqual([{ payoutId: 'p-1', acceptUnpaid: true }, { payoutId: 'p-2' }])
  })

  it('a failed load keeps the message', async () => {
    const w = useWorklistStore()
    bridge.handlers['worklist.list'] = () => {
      throw new ApiError('unavailable', 'the ledger is still opening')
    }
    await w.load()
    expect(w.loadError).toBe('the ledger is still opening')
    expect(w.view).toBeNull()
  })

  it("a revoked ATM's wallet reminder counts, and confirming it sends its roster version and reloads", async () => {
    const w = useWorklistStore()
    const reminder = {
      atmPubkey: 'ab'.repeat(32),
      machineId: 'atm-1',
      name: 'Main Street',
      rosterEventId: 'cd'.repeat(32),
      revokedAtSec: 1_700_000_000,
    }
    let list: WorklistView = { ...EMPTY, walletRevocations: [reminder] }
    bridge.handlers['worklist.list'] = () => list
    bridge.handlers['fleet.confirmWalletRevoked'] = () => {
      list = { ...EMPTY, walletRevocations: [] }
      return { ackId: 1 }
    }
    await w.load()
    expect(w.counts.wallet).toBe(1)
    expect(w.counts.total).toBe(1)
    expect(await w.confirmWalletRevoked(reminder, '  done in Alby  ')).toBe(true)
    expect(bridge.calls.find((c) => c.method === 'fleet.confirmWalletRevoked')?.args).toEqual([
      { atmPubkey: reminder.atmPubkey, rosterEventId: reminder.rosterEventId, note: 'done in Alby' },
    ])
    expect(w.done).toBe('Noted: the wallet connection of Main Street is revoked in your wallet.')
    expect(w.counts.total).toBe(0)
  })

  it('a refused wallet confirmation stays under its reminder and keeps the list', async () => {
    const w = useWorklistStore()
    const reminder = {
      atmPubkey: 'ab'.repeat(32),
      machineId: null,
      name: null,
      rosterEventId: 'cd'.repeat(32),
      revokedAtSec: 1_700_000_000,
    }
    const list: WorklistView = { ...EMPTY, walletRevocations: [reminder] }
    bridge.handlers['worklist.list'] = () => list
    bridge.handlers['fleet.confirmWalletRevoked'] = () => {
      throw new ApiError('not_found', 'no open wallet reminder for this revocation', 'args[0].rosterEventId')
    }
    await w.load()
    expect(await w.confirmWalletRevoked(reminder)).toBe(false)
    expect(bridge.calls.find((c) => c.method === 'fleet.confirmWalletRevoked')?.args).toEqual([
      { atmPubkey: reminder.atmPubkey, rosterEventId: reminder.rosterEventId },
    ])
    expect(w.errors[`wallet:${reminder.atmPubkey}`]?.field).toBe('rosterEventId')
    expect(w.view).toEqual(list)
  })

  it('recipients whose sats wait for a destination count as needing a hand', () => {
    const c = worklistCounts({
      ...EMPTY,
      waitingRecipients: [
        {
          recipientKind: 'platform',
          recipientId: 'platform',
          reason: 'no_destination',
          accruedMsat: '1600000',
          waitingSat: '1600',
          text: 'platform has no destination: 1600 sats waiting',
        },
      ],
    })
    expect(c).toMatchObject({ waiting: 1, total: 1 })
  })

  it('worklistCounts of nothing is zero', () => {
    expect(worklistCounts(null).total).toBe(0)
  })
})
