// The main-side log ring behind `log.recent`: bounded, filtered by level, JSON-safe (bigint → decimal string).
import { describe, expect, it } from 'vitest'
import { createAppLog } from './app-log'

describe('createAppLog', () => {
  it('keeps the newest records up to its capacity, oldest first', () => {
    const a = createAppLog({ capacity: 3 })
    for (let i = 0; i < 5; i++) a.log.info(`m${i}`)
    expect(a.recent(10).map((e) => e.msg)).toEqual(['m2', 'm3', 'm4'])
    expect(a.recent(2).map((e) => e.msg)).toEqual(['m3', 'm4'])
  })

  it('filters by minimum level and stringifies bigint fields', () => {
    const lines: string[] = []
    const a = createAppLog({ write: (l) => lines.push(l), writeLevel: 'warn' })
    a.log.debug('noise')
    a.log.child('pay').warn('slow', { wireMsat: 21_000_000_000_000n, ok: false, missing: undefined })
    a.log.error('bad')
    expect(a.recent(10, 'warn')).toEqual([
      expect.objectContaining({ level: 'warn', scope: 'app.pay', fields: { wireMsat: '21000000000000', ok: false } }),
      expect.objectContaining({ level: 'error', msg: 'bad' }),
    ])
    expect(a.recent(10)).toHaveLength(3)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/ warn app\.pay slow wireMsat=21000000000000 ok=false$/)
  })
})
