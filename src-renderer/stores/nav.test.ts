// The view id read from the URL hash: only ids from the fixed list are honoured.
import { describe, expect, it } from 'vitest'
import { isViewId, VIEWS, viewFromHash } from './nav'

describe('viewFromHash', () => {
  it('reads every known view from #/<id>', () => {
    for (const v of VIEWS) expect(viewFromHash(`#/${v.id}`)).toBe(v.id)
  })

  it('falls back to the dashboard for empty, unknown or hostile hashes', () => {
    for (const h of ['', '#', '#/', '#/nope', '#/settings/extra', '#/__proto__', '#/constructor', '#main'])
      expect(viewFromHash(h)).toBe('dashboard')
  })

  it('accepts the hash without the slash', () => {
    expect(viewFromHash('#fleet')).toBe('fleet')
  })

  it('isViewId is exact', () => {
    expect(isViewId('lps')).toBe(true)
    expect(isViewId('LPS')).toBe(false)
    expect(isViewId('toString')).toBe(false)
  })
})
