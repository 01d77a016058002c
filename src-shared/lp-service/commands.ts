// LP self-service DM commands (docs/lp-rpc.md §2): the plain-text words an LP types in any NIP-17 client —
// `balance`, `history`, `history 2026-11`, `statement 2026-Q4`, `statement 2026-11`, `help` — parsed into a typed
// command, and the calendar periods they name turned into half-open [fromMs, untilMs) windows in the operator's
// time zone (months from src-shared/notices/period.ts, so a DM statement and the monthly statement agree). Pure.
import { FieldError } from '../field-error'
import { localMonthStartMs } from '../notices/period'

/** A period named in a command: a calendar month or a calendar quarter. */
export type PeriodSpec =
  | { kind: 'month'; year: number; month: number }
  | { kind: 'quarter'; year: number; quarter: number }

export type DmCommand =
  | { kind: 'balance' }
  | { kind: 'history'; period: PeriodSpec | null }
  | { kind: 'statement'; period: PeriodSpec }
  | { kind: 'help' }
  /** Anything else: answered with the help text (an LP who mistypes is told what works). */
  | { kind: 'unknown'; word: string }

export class PeriodError extends FieldError {
  override readonly name = 'PeriodError'
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/
const QUARTER = /^(\d{4})-[Qq]([1-4])$/

/** "2026-11" → month, "2026-Q4" → quarter; years 2000–2999. Throws PeriodError naming `field`. */
export function parsePeriod(text: string, field = 'period'): PeriodSpec {
  const t = text.trim()
  let m = MONTH.exec(t)
  if (m) return checkYear({ kind: 'month', year: Number(m[1]), month: Number(m[2]) }, field)
  m = QUARTER.exec(t)
  if (m) return checkYear({ kind: 'quarter', year: Number(m[1]), quarter: Number(m[2]) }, field)
  throw new PeriodError(field, 'must be a month YYYY-MM or a quarter YYYY-Qn')
}

function checkYear(p: PeriodSpec, field: string): PeriodSpec {
  if (p.year < 2000 || p.year > 2999) throw new PeriodError(field, 'year must be 2000–2999')
  return p
}

/** The canonical label: "2026-11" or "2026-Q4". */
export function periodLabel(p: PeriodSpec): string {
  return p.kind === 'month' ? `${p.year}-${String(p.month).padStart(2, '0')}` : `${p.year}-Q${p.quarter}`
}

/** [fromMs, untilMs) of the period in `timeZone` (local midnights; DST-safe). */
export function periodRange(p: PeriodSpec, timeZone: string): { fromMs: number; untilMs: number } {
  const first = p.kind === 'month' ? p.month : (p.quarter - 1) * 3 + 1
  const months = p.kind === 'month' ? 1 : 3
  const endMonth = first + months
  const fromMs = localMonthStartMs(p.year, first, timeZone)
  const untilMs =
    endMonth > 12
      ? localMonthStartMs(p.year + 1, endMonth - 12, timeZone)
      : localMonthStartMs(p.year, endMonth, timeZone)
  return { fromMs, untilMs }
}

/** At most this many characters of a DM are looked at; a command is one short line. */
export const MAX_COMMAND_CHARS = 200

/**
 * Parses a DM body. Case and surrounding whitespace do not matter, a leading "/" is allowed (some clients make
 * commands look like that). A bad period is a PeriodError (answered with its message); any other text is
 * `unknown`.
 */
export function parseDmCommand(text: string): DmCommand {
  const words = text.slice(0, MAX_COMMAND_CHARS).trim().replace(/^\//, '').split(/\s+/).filter(Boolean)
  const head = (words[0] ?? '').toLowerCase()
  const arg = words[1]
  switch (head) {
    case 'balance':
    case 'bal':
      return { kind: 'balance' }
    case 'history':
      return { kind: 'history', period: arg === undefined ? null : parsePeriod(arg) }
    case 'statement':
      if (arg === undefined) throw new PeriodError('period', 'statement needs a month YYYY-MM or a quarter YYYY-Qn')
      return { kind: 'statement', period: parsePeriod(arg) }
    case 'help':
    case '?':
      return { kind: 'help' }
    default:
      return { kind: 'unknown', word: head.slice(0, 40) }
  }
}
