// The main side's log: every record goes to a bounded in-memory ring (what `log.recent` answers) and, optionally,
// as one line to stderr. Records are converted to the contract's JSON-safe `LogEntry` as they arrive, so a bigint
// field becomes a decimal string once, not on every read.
import type { LogEntry, LogLevelName } from '../src-shared/ipc/contract'
import { createLogger, formatLogLine, type Logger, type LogRecord } from '../src-shared/log'

const LEVEL_RANK: Record<LogLevelName, number> = { debug: 0, info: 1, warn: 2, error: 3 }

export interface AppLog {
  log: Logger
  /** The newest `limit` entries at or above `minLevel`, oldest first. */
  recent(limit: number, minLevel?: LogLevelName): LogEntry[]
}

export interface AppLogOptions {
  capacity?: number
  /** Where one formatted line per record goes (stderr in the CLI, nothing in tests). */
  write?: (line: string) => void
  /** Records below this level are kept in the ring but not written out. */
  writeLevel?: LogLevelName
  scope?: string
}

function toEntry(r: LogRecord): LogEntry {
  const fields: LogEntry['fields'] = {}
  for (const [k, v] of Object.entries(r.fields)) {
    if (v === undefined) continue
    fields[k] = typeof v === 'bigint' ? v.toString() : v
  }
  return { atMs: r.atMs, level: r.level, scope: r.scope, msg: r.msg, fields }
}

export function createAppLog(opts: AppLogOptions = {}): AppLog {
  const capacity = opts.capacity ?? 2000
  const ring: LogEntry[] = []
  const writeRank = LEVEL_RANK[opts.writeLevel ?? 'info']
  const sink = (r: LogRecord) => {
    ring.push(toEntry(r))
    if (ring.length > capacity) ring.splice(0, ring.length - capacity)
    if (opts.write && LEVEL_RANK[r.level] >= writeRank) opts.write(formatLogLine(r))
  }
  return {
    log: createLogger(sink, opts.scope ?? 'app'),
    recent(limit, minLevel = 'debug') {
      const min = LEVEL_RANK[minLevel]
      const out: LogEntry[] = []
      for (let i = ring.length - 1; i >= 0 && out.length < limit; i--) {
        const e = ring[i] as LogEntry
        if (LEVEL_RANK[e.level] >= min) out.push(e)
      }
      return out.reverse()
    },
  }
}
