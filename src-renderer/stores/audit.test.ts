// The Audit screen's store against the real contract (fake-bridge.test-support.ts): the arguments of close, export
// and verify go through the real schemas, a section that fails keeps its own error while the others load, a refused
// close or export is kept under its quarter, and an export reloads the list of exports.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { PeriodView } from '../../src-shared/ipc/audit'
import { ApiError } from '../../src-shared/ipc/contract'
import { canClose, useAuditStore } from './audit'
import { installFakeBridge } from './fake-bridge.test-support'

const bridge = installFakeBridge()

const Q3: PeriodView = {
  period: '2026Q3',
  startMs: Date.UTC(2026, 6, 1),
  endMs: Date.UTC(2026, 9, 1),
  state: 'open',
  closedAtMs: null,
  head: null,
  headEventId: null,
  attestationEventId: null,
  manifestSha256: null,
}

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.calls.length = 0
  bridge.handlers = {
    'audit.periods': () => [
      Q3,
      { ...Q3, period: '2026Q4', startMs: Date.UTC(2026, 9, 1), endMs: Date.UTC(2027, 0, 1) },
    ],
    'audit.head': () => {
      throw new ApiError('unavailable', 'the ledger is still opening')
    },
    'audit.exports': () => [],
    'audit.changes': () => ({ configChanges: [], reconRuns: [] }),
    'fleet.rejected': () => [],
  }
})

describe('audit store', () => {
  it('loads every section; a failing one keeps its error and the others show', async () => {
    const s = useAuditStore()
    await s.load()
    expect(s.periods?.map((p) => p.period)).toEqual(['2026Q3', '2026Q4'])
    expect(s.errors.head).toBe('the ledger is still opening')
    expect(s.errors.periods).toBeUndefined()
  })

  it('a quarter can be closed once it ended and while it is open', () => {
    expect(canClose(Q3, Date.UTC(2026, 9, 1))).toBe(true)
    expect(canClose(Q3, Date.UTC(2026, 8, 30))).toBe(false)
    expect(canClose({ ...Q3, state: 'closed' }, Date.UTC(2027, 0, 1))).toBe(false)
  })

  it('a refused close is kept under its quarter', async () => {
    bridge.handlers['audit.closeQuarter'] = () => {
      throw new ApiError('unavailable', 'the operator signer is not connected')
    }
    const s = useAuditStore()
    expect(await s.closeQuarter('2026Q3')).toBe(false)
    expect(s.errors['close:2026Q3']).toBe('the operator signer is not connected')
    expect(bridge.calls.find((c) => c.method === 'audit.closeQuarter')?.args).toEqual([{ period: '2026Q3' }])
  })

  it('an export sends the quarter and draft flag, keeps the result and reloads the exports', async () => {
    let listed = 0
    bridge.handlers['audit.exports'] = () => {
      listed++
      return [
        {
          name: '2026Q4-draft-x',
          path: '/d/exports/2026Q4-draft-x',
          period: '2026Q4',
          draft: true,
          manifestSha256: 'ab'.repeat(32),
          createdAtMs: 1,
          hasPdf: true,
        },
      ]
    }
    bridge.handlers['audit.export'] = () => ({
      period: '2026Q4',
      name: '2026Q4-draft-x',
      path: '/d/exports/2026Q4-draft-x',
      draft: true,
      manifestSha256: 'ab'.repeat(32),
      headEventId: null,
      settlements: 3,
      files: 14,
      pdfPath: '/d/exports/2026Q4-draft-x/report.pdf',
      pages: 9,
      warnings: [],
    })
    const s = useAuditStore()
    const r = await s.exportQuarter('2026Q4', true)
    expect(r?.pages).toBe(9)
    expect(bridge.calls.find((c) => c.method === 'audit.export')?.args).toEqual([{ period: '2026Q4', draft: true }])
    expect(listed).toBe(1)
    expect(s.exports).toHaveLength(1)
    expect(s.busy).toBeNull()
  })

  it('a malformed quarter is refused by the contract before it reaches the main side', async () => {
    const s = useAuditStore()
    expect(await s.exportQuarter('2026-Q4', false)).toBeNull()
    expect(s.errors['export:2026-Q4']).toMatch(/^args\[0\]\.period: /)
  })

  it('verification results are kept per export', async () => {
    bridge.handlers['audit.verifyExport'] = () => ({
      name: 'x',
      ok: false,
      draft: true,
      passed: [],
      problems: ['transactions.csv line 43, column amount_msat: is 1; the signed log holds 2'],
    })
    const s = useAuditStore()
    await s.verify('x')
    expect(s.verifications.x?.ok).toBe(false)
    expect(s.verifications.x?.problems[0]).toMatch(/line 43/)
  })
})
