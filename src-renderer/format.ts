// Display formatting for the renderer. Time zone is the operator's configured IANA zone so every time on screen
// matches the day boundaries the ledger uses (docs/settlement.md, "used today").
import { formatLocalDateTime } from '../src-shared/notices/format'

/**
 * Formats an epoch-ms instant as `2026-11-21 19:42` in the given IANA zone (or the system zone): the same
 * formatter the notices and statements use, so a time reads the same on screen and in an LP's DM.
 */
export function formatDateTime(ms: number, timeZone?: string): string {
  return formatLocalDateTime(ms, timeZone)
}

/** Like formatDateTime, but `today 19:42` when the instant falls on the current day in that zone. */
export function formatWhen(ms: number, timeZone?: string, nowMs: number = Date.now()): string {
  const then = formatDateTime(ms, timeZone)
  const now = formatDateTime(nowMs, timeZone)
  return then.slice(0, 10) === now.slice(0, 10) ? `today ${then.slice(11)}` : then
}

/** The IANA zones the runtime knows, with UTC first; falls back to a short list on runtimes without the API. */
export function timeZones(): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  const list = all.length > 0 ? all : ['Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Los_Angeles']
  return ['UTC', ...list.filter((z) => z !== 'UTC')]
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}
