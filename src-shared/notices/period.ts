// Calendar months in the operator's time zone, for monthly LP statements. A statement covers [first local midnight
// of the month, first local midnight of the next month); both ends are computed from the IANA zone with Intl, so
// daylight-saving changes inside the month shift nothing. Pure.

export interface MonthPeriod {
  /** "YYYY-MM" */
  period: string
  fromMs: number
  untilMs: number
}

/** One formatter per zone: building one costs a few ms, and a filter change or a statement asks several times. */
const partsFormatters = new Map<string, Intl.DateTimeFormat>()

function partsIn(ms: number, timeZone: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  let f = partsFormatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    })
    // Only zones that construct are kept (an unknown zone throws above); the map stays as small as the zones used.
    partsFormatters.set(timeZone, f)
  }
  const parts = f.formatToParts(new Date(ms))
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value)
  return { y: n('year'), m: n('month'), d: n('day'), h: n('hour'), mi: n('minute'), s: n('second') }
}

/** Offset of `timeZone` from UTC at instant `ms`, in ms (local − UTC), to the second. */
function offsetMs(ms: number, timeZone: string): number {
  const p = partsIn(ms, timeZone)
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000
}

/** Epoch ms of local midnight starting day 1 of `month` (1–12) of `year` in `timeZone`. */
export function localMonthStartMs(year: number, month: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, 1)
  // Two rounds settle the offset even when the guess lands on the other side of a DST change.
  let t = wall - offsetMs(wall, timeZone)
  t = wall - offsetMs(t, timeZone)
  return t
}

const pad = (n: number) => String(n).padStart(2, '0')

/** The month containing `ms` in `timeZone`. */
export function monthOf(ms: number, timeZone: string): MonthPeriod {
  const p = partsIn(ms, timeZone)
  const next = p.m === 12 ? { y: p.y + 1, m: 1 } : { y: p.y, m: p.m + 1 }
  return {
    period: `${p.y}-${pad(p.m)}`,
    fromMs: localMonthStartMs(p.y, p.m, timeZone),
    untilMs: localMonthStartMs(next.y, next.m, timeZone),
  }
}

/** The last full month before the one containing `ms` in `timeZone` (what a statement run sends). */
export function previousMonth(ms: number, timeZone: string): MonthPeriod {
  const current = monthOf(ms, timeZone)
  return monthOf(current.fromMs - 1, timeZone)
}

/** Epoch ms of local midnight starting `day` ("YYYY-MM-DD") in `timeZone` (the LP screen's statement periods). */
export function localDayStartMs(day: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (!m) throw new RangeError(`not a day: ${JSON.stringify(day)}`)
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  let t = wall - offsetMs(wall, timeZone)
  t = wall - offsetMs(t, timeZone)
  return t
}
