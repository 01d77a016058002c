// Relay pool, paging and re-query (docs/protocol.md §11): a page is ordered by created_at and cut at `limit`, so
// a second holding more stored events than a page can never be paged through with `until`. Such a second is asked
// for on its own with a larger limit (`secondFilters`) and, when that answer is full too, split into one query per
// author or #p value (`splitFilters`). Pure functions; the pool (relay-pool.ts, `startSweep`/`continueSweep`)
// decides when to send them.
import type { Filter } from './relay-subscriptions'

/** The subscription's filters restricted to one second, with the single-second limit. */
export function secondFilters(filters: readonly Filter[], second: number, limit: number): Filter[] {
  return filters.map((f) => ({
    ...f,
    since: Math.max(f.since ?? 0, second),
    until: Math.min(f.until ?? second, second),
    limit,
  }))
}

/**
 * One query per author (or per #p value) of every filter that names several, so each answer is smaller than the
 * full second; null when no filter can be split.
 */
export function splitFilters(filters: readonly Filter[], second: number, limit: number): Filter[][] | null {
  let split = false
  const out: Filter[][] = []
  for (const f of filters) {
    const key = (f.authors?.length ?? 0) > 1 ? 'authors' : (f['#p']?.length ?? 0) > 1 ? '#p' : null
    const values = key === null ? undefined : f[key]
    if (key === null || values === undefined) {
      out.push(secondFilters([f], second, limit))
      continue
    }
    split = true
    for (const v of values) out.push(secondFilters([{ ...f, [key]: [v] }], second, limit))
  }
  return split ? out : null
}
