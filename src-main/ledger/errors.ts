// Typed errors of the ledger store (docs/architecture.md §5). Every error crosses the worker boundary as a plain
// `{ name, message, props }` record and is rebuilt on the other side by `reviveLedgerError`, so callers can
// rely on `instanceof` and on the named fields whether the store runs in-process or in a worker thread.

/** Base class: every error the ledger itself raises. */
export class LedgerError extends Error {
  override name = 'LedgerError'
}

/** The files on disk are damaged in a way that cannot be repaired without losing acknowledged data. */
export class LedgerCorruptError extends LedgerError {
  override name = 'LedgerCorruptError'
  constructor(
    message: string,
    readonly file: string,
    readonly offset?: number,
  ) {
    super(`${message} (file=${file}${offset === undefined ? '' : ` offset=${offset}`})`)
  }
}

/** Another live process holds the ledger directory. */
export class LedgerLockedError extends LedgerError {
  override name = 'LedgerLockedError'
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(`ledger directory is locked by process ${pid} (file=${file})`)
  }
}

/** Writing or syncing the journal or a snapshot failed; the store refuses further work until reopened. */
export class LedgerIOError extends LedgerError {
  override name = 'LedgerIOError'
}

/** The store is closed, failed, or still opening. */
export class LedgerStateError extends LedgerError {
  override name = 'LedgerStateError'
}

/** A caller passed something the store cannot accept; `field` names it. */
export class LedgerInputError extends LedgerError {
  override name = 'LedgerInputError'
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(`${field}: ${message}`)
  }
}

/** A statement of `transaction()` failed or changed an unexpected number of rows; nothing was committed. */
export class LedgerStepError extends LedgerError {
  override name = 'LedgerStepError'
  constructor(
    message: string,
    readonly step: number,
    readonly expected?: number,
    readonly actual?: number,
  ) {
    super(`step ${step}: ${message}`)
  }
}

/** A migration failed or the stored schema is newer than this build knows. */
export class LedgerSchemaError extends LedgerError {
  override name = 'LedgerSchemaError'
  constructor(
    message: string,
    readonly version: number,
  ) {
    super(message)
  }
}

/**
 * A procedure threw; its transaction was rolled back. `message` is the procedure's own message, `causeName`
 * the name of the error class it threw (e.g. `InsufficientBalanceError`), `details` its own enumerable
 * JSON-safe fields (e.g. `field`, `code`). In-process, `cause` is the original error object.
 */
export class LedgerProcedureError extends LedgerError {
  override name = 'LedgerProcedureError'
  constructor(
    message: string,
    readonly procedure: string,
    readonly causeName: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
  /** The `code` field of the original error, when it had a string one. */
  get code(): string | undefined {
    const c = this.details.code
    return typeof c === 'string' ? c : undefined
  }
}

/** Wraps whatever a procedure threw. */
export function procedureError(procedure: string, thrown: unknown): LedgerProcedureError {
  if (thrown instanceof LedgerProcedureError) return thrown
  if (thrown instanceof Error) {
    const details: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(thrown)) {
      if (k === 'name' || k === 'message' || k === 'stack') continue
      if (v === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof v)) details[k] = v
    }
    return new LedgerProcedureError(thrown.message, procedure, thrown.name, details, { cause: thrown })
  }
  return new LedgerProcedureError(String(thrown), procedure, typeof thrown)
}

export interface SerializedError {
  name: string
  message: string
  props: Record<string, unknown>
  stack?: string
}

/** Turns an error into a structured-clone-safe record. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof LedgerError) {
    const props: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(e)) {
      if (k !== 'name' && k !== 'cause') props[k] = v
    }
    // LedgerCorruptError etc. prefix the message in the constructor; keep the raw text so revival is exact.
    return { name: e.name, message: e.message, props, stack: e.stack }
  }
  if (e instanceof Error) return { name: e.name, message: e.message, props: {}, stack: e.stack }
  return { name: 'Error', message: String(e), props: {} }
}

/** Rebuilds an error serialized by `serializeError`, keeping its class and fields. */
export function reviveLedgerError(s: SerializedError): Error {
  const p = s.props
  let e: Error
  switch (s.name) {
    case 'LedgerCorruptError':
      e = new LedgerCorruptError('', String(p.file), p.offset as number | undefined)
      break
    case 'LedgerLockedError':
      e = new LedgerLockedError(String(p.file), Number(p.pid))
      break
    case 'LedgerIOError':
      e = new LedgerIOError('')
      break
    case 'LedgerStateError':
      e = new LedgerStateError('')
      break
    case 'LedgerInputError':
      e = new LedgerInputError('', String(p.field))
      break
    case 'LedgerStepError':
      e = new LedgerStepError('', Number(p.step), p.expected as number | undefined, p.actual as number | undefined)
      break
    case 'LedgerSchemaError':
      e = new LedgerSchemaError('', Number(p.version))
      break
    case 'LedgerProcedureError':
      e = new LedgerProcedureError(
        '',
        String(p.procedure),
        String(p.causeName),
        (p.details as Record<string, unknown>) ?? {},
      )
      break
    default:
      e = new Error('')
      e.name = s.name
  }
  e.message = s.message
  if (s.stack) e.stack = s.stack
  return e
}
