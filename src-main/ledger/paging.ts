// Keyset paging (no OFFSET: the cost of a page does not grow with how deep it is). The caller's query is
// wrapped as a subquery, filtered on `key > cursor` and ordered by `key`; `key` must be a unique, non-null
// column of the result. The cursor is opaque to callers: base64url of a small JSON document holding the last
// key's type and value (integers as decimal strings, so bigint keys survive exactly).
import { LedgerInputError } from './errors'
import type { SqlParams, SqlValue } from './types'

export const MAX_PAGE_LIMIT = 10_000
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/

type Cursor = ['i', string] | ['s', string] | ['n', number]

export function encodeCursor(v: SqlValue | undefined): string {
  let c: Cursor
  if (typeof v === 'bigint') c = ['i', v.toString()]
  else if (typeof v === 'number') c = Number.isInteger(v) ? ['i', String(v)] : ['n', v]
  else if (typeof v === 'string') c = ['s', v]
  else throw new LedgerInputError('paging key must be a non-null integer, real or text column', 'key')
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url')
}

export function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(c) && c.length === 2) {
      if (c[0] === 'i' && typeof c[1] === 'string' && /^-?\d+$/.test(c[1])) return c as Cursor
      if (c[0] === 's' && typeof c[1] === 'string') return c as Cursor
      if (c[0] === 'n' && typeof c[1] === 'number' && Number.isFinite(c[1])) return c as Cursor
    }
  } catch {
    // Fall through to the typed error.
  }
  throw new LedgerInputError('malformed paging cursor', 'after')
}

export interface PagePlan {
  sql: string
  params: SqlParams
}

/** Builds the wrapped query; it fetches `limit + 1` rows so the caller can tell whether a next page exists. */
export function planPage(
  sql: string,
  params: SqlParams | undefined,
  opts: { key: string; limit: number; after?: string; desc?: boolean },
): PagePlan {
  if (!IDENT_RE.test(opts.key)) throw new LedgerInputError('must be a plain column name', 'key')
  if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_PAGE_LIMIT) {
    throw new LedgerInputError(`must be an integer from 1 to ${MAX_PAGE_LIMIT}`, 'limit')
  }
  const k = `"${opts.key}"`
  const named = params !== undefined && params !== null && !Array.isArray(params)
  const afterName = named ? '$__page_after' : '?'
  const limitName = named ? '$__page_limit' : '?'
  let where = ''
  let afterValue: SqlValue | undefined
  if (opts.after !== undefined) {
    const c = decodeCursor(opts.after)
    // Integers are bound as text and cast back, so keys beyond 2^53 compare exactly.
    where = `WHERE ${k} ${opts.desc ? '<' : '>'} ${c[0] === 'i' ? `CAST(${afterName} AS INTEGER)` : afterName}`
    afterValue = c[1]
  }
  const text = `SELECT * FROM (${sql}) AS _page ${where} ORDER BY ${k} ${opts.desc ? 'DESC' : 'ASC'} LIMIT ${limitName}`
  if (named) {
    const p: Record<string, SqlValue> = { ...(params as Record<string, SqlValue>), $__page_limit: opts.limit + 1 }
    if (afterValue !== undefined) p.$__page_after = afterValue
    return { sql: text, params: p }
  }
  const p: SqlValue[] = [...((params as readonly SqlValue[] | undefined) ?? [])]
  if (afterValue !== undefined) p.push(afterValue)
  p.push(opts.limit + 1)
  return { sql: text, params: p }
}
