// Structured logging interface shared by every layer. Pure: the sink is injected, so the core can log
// without importing Node. Fields must never contain secret keys, NWC secrets or decrypted records;
// log ids, pubkeys, amounts and reasons instead.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, string | number | bigint | boolean | null | undefined>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  child(scope: string): Logger
}

export interface LogRecord {
  level: LogLevel
  scope: string
  msg: string
  fields: LogFields
  atMs: number
}

/** A logger that hands every record to `sink`; scopes nest as `a.b`. */
export function createLogger(sink: (r: LogRecord) => void, scope = 'app', nowMs: () => number = Date.now): Logger {
  const emit =
    (level: LogLevel) =>
    (msg: string, fields: LogFields = {}) =>
      sink({ level, scope, msg, fields, atMs: nowMs() })
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (sub) => createLogger(sink, `${scope}.${sub}`, nowMs),
  }
}

/** Renders a record as one line: `2026-11-21T19:42:00.000Z warn ledger.journal torn tail dropped file=… offset=…`. */
export function formatLogLine(r: LogRecord): string {
  const kv = Object.entries(r.fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"]/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ')
  return `${new Date(r.atMs).toISOString()} ${r.level} ${r.scope} ${r.msg}${kv ? ` ${kv}` : ''}`
}

/** A logger that collects records in memory, for tests that assert a reason was logged. */
export function memoryLogger(scope = 'test'): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = []
  return Object.assign(
    createLogger((r) => records.push(r), scope),
    { records },
  )
}
