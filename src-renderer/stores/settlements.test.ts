// The settlements store: the typed filter form becomes the contract's filter (days as local midnights in the
// operator's zone, `to` inclusive), bad input is refused before anything is sent, and pages move by cursor —
// through the fake bridge, whose arguments pass the real contract schema.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import { installFakeBridge } from './fake-bridge.test-support'
import { emptyForm, localMidnightMs, toFilter, useSettlementsStore } from './settlements'

const bridge = installFakeBridge()

describe('localMidnightMs / toFilter', () => {
  it('finds local midnight in a zone, across a daylight-saving change', () => {
    expect(localMidnightMs('2026-11-21', 'UTC')).toBe(Date.UTC(2026, 10, 21))
    expect(localMidnightMs('2026-07-01', 'Europe/Berlin')).toBe(Date.UTC(2026, 5, 30, 22))
    expect(localMidnightMs('2026-03-29', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 28, 23))
    expect(localMidnightMs('2026-03-30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 22))
    expect(localMidnightMs('nope', 'UTC')).toBeNull()
  })

  it('makes `to` inclusive and refuses an inverted range or a malformed amount, naming the field', () => {
    const f = toFilter(
      { ...emptyForm(), from: '2026-11-01', to: '2026-11-30', direction: 'cash_in', feeMismatch: true },
      'UTC',
    )
    expect(f).toEqual({
      fromMs: Date.UTC(2026, 10, 1),
      toMs: Date.UTC(2026, 11, 1),
      direction: 'cash_in',
      feeMismatch: true,
    })
    expect(toFilter({ ...emptyForm(), from: '2026-11-02', to: '2026-11-01' }, 'UTC')).toMatchObject({ field: 'to' })
    expect(toFilter({ ...emptyForm(), minAmount: '12.5.0' }, 'UTC')).toMatchObject({ field: 'minAmount' })
    expect(toFilter({ ...emptyForm(), search: '  abc  ', maxAmount: '250' }, 'UTC')).toEqual({
      search: 'abc',
      maxAmount: '250',
    })
  })
})

describe('useSettlementsStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    bridge.calls.length = 0
  })

  it('applies the filter, then pages forward and back by cursor', async () => {
    const page = (n: number, next: string | null) => ({
      rows: [{ id: n }],
      next,
      count: 3,
      countCapped: false,
      countCap: 10_000,
    })
    bridge.handlers['settlements.list'] = (a: unknown) => {
      const after = (a as { after?: string }).after
      return after === undefined ? page(3, 'c1') : after === 'c1' ? page(2, 'c2') : page(1, null)
    }
    const s = useSettlementsStore()
    s.form.direction = 'cash_out'
    await s.apply('UTC')
    expect(bridge.calls.at(-1)?.args[0]).toMatchObject({
      filter: { direction: 'cash_out' },
      sort: 'booked_desc',
      limit: 50,
    })
    await s.next()
    await s.next()
    expect(s.page?.rows[0]?.id).toBe(1)
    expect(s.pageNumber).toBe(3)
    await s.previous()
    expect(s.page?.rows[0]?.id).toBe(2)
    expect(s.pageNumber).toBe(2)
    expect(bridge.calls.at(-1)?.args[0]).toMatchObject({ after: 'c1' })
  })

  it('shows a refusal of the main side under the form field it names', async () => {
    bridge.handlers['settlements.list'] = () => {
      throw new ApiError(
        'bad_args',
        'args[0].filter.maxAmount: the largest amount (1) is below the smallest (2)',
        'args[0].filter.maxAmount',
      )
    }
    const s = useSettlementsStore()
    s.form.minAmount = '2'
    s.form.maxAmount = '1'
    await s.apply('UTC')
    expect(s.formError).toEqual({ field: 'maxAmount', message: 'The largest amount (1) is below the smallest (2)' })
    // A form the renderer can tell is wrong is never sent.
    const before = bridge.calls.length
    s.form.from = '2026-11-02'
    s.form.to = '2026-11-01'
    await s.apply('UTC')
    expect(bridge.calls.length).toBe(before)
    expect(s.formError?.field).toBe('to')
  })
})
