// Relay pool paging and re-query: the query for one second on its own, and its split by author / #p value.
import { describe, expect, it } from 'vitest'
import { secondFilters, splitFilters } from './relay-paging'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)

describe('a second holding more than a page', () => {
  it('secondFilters narrows every filter to that second (never widening its own bounds) with the given limit', () => {
    expect(secondFilters([{ kinds: [1], since: 0, limit: 500 }], 1234, 5000)).toEqual([
      { kinds: [1], since: 1234, until: 1234, limit: 5000 },
    ])
    // A filter that already ends before the second stays empty rather than widened.
    expect(secondFilters([{ until: 1000 }], 1234, 10)).toEqual([{ since: 1234, until: 1000, limit: 10 }])
  })

  it('splitFilters makes one query per author, else per #p value; null when nothing can be split', () => {
    expect(splitFilters([{ authors: [A, B], kinds: [1] }], 7, 100)).toEqual([
      [{ authors: [A], kinds: [1], since: 7, until: 7, limit: 100 }],
      [{ authors: [B], kinds: [1], since: 7, until: 7, limit: 100 }],
    ])
    expect(splitFilters([{ authors: [A], '#p': [A, B] }], 7, 100)).toEqual([
      [{ authors: [A], '#p': [A], since: 7, until: 7, limit: 100 }],
      [{ authors: [A], '#p': [B], since: 7, until: 7, limit: 100 }],
    ])
    expect(splitFilters([{ authors: [A] }], 7, 100)).toBeNull()
  })
})
