// The operator-local calendar day of an instant (docs/settlement.md: a fixed LP's "used today" counts fiat allocated since
// local midnight in the operator's configured time zone). Uses the IANA zone database built into Intl, so
// daylight-saving shifts are handled by the runtime rather than by offsets we would have to maintain.

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    // en-CA formats a date as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    formatters.set(timeZone, f)
  }
  return f
}

/** True when the runtime knows `timeZone` (an IANA name such as "America/Guatemala", or "UTC"). */
export function isTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone.length === 0) return false
  try {
    formatter(timeZone)
    return true
  } catch {
    return false
  }
}

/** The local calendar day of `ms` in `timeZone`, as "YYYY-MM-DD". */
export function localDay(ms: number, timeZone: string): string {
  return formatter(timeZone).format(new Date(ms))
}
