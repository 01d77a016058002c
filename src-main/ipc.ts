// The ONE wrapper every contract method goes through, whatever the transport (Electron IPC in `ipc-electron.ts`,
// the headless WebSocket bridge in `serve/`). docs/architecture.md §2 and SECURITY.md: the caller
// has already been checked by the transport (sender frame / token); here the method name is checked against the
// contract, the arguments are parsed with the contract's schema, the handler runs, and whatever happens the
// caller gets a JSON-safe `Result` envelope. Errors never cross as Error objects (Electron keeps only `message`).
//
// Plain Node: no electron import, so both modes and the unit tests share it.
import {
  ApiError,
  type Handlers,
  isMethodName,
  METHODS,
  type MethodName,
  type Result,
} from '../src-shared/ipc/contract'
import { SchemaError } from '../src-shared/ipc/schema'
import type { Logger } from '../src-shared/log'

/** Who is calling, for the log (never a secret: an origin or `ws#3`). */
export interface CallContext {
  transport: 'electron' | 'ws'
  caller: string
}

export type Dispatch = (method: unknown, args: unknown, ctx: CallContext) => Promise<Result<unknown>>

export function forbidden(message: string): Result<never> {
  return { ok: false, error: { code: 'forbidden', message } }
}

/**
 * Builds the dispatcher over a complete handler table. Rejected calls (unknown method, bad arguments, forbidden,
 * handler failure) are logged with their reason; argument VALUES are never logged, only the field path.
 */
export function createDispatcher(handlers: Handlers, log: Logger): Dispatch {
  return async (method, args, ctx) => {
    const name = typeof method === 'string' ? method.slice(0, 100) : typeof method
    if (!isMethodName(method)) {
      log.warn('ipc call rejected', { reason: 'unknown method', method: name, ...ctx })
      return { ok: false, error: { code: 'not_found', message: `unknown method: ${name}` } }
    }
    let parsed: unknown[]
    try {
      parsed = METHODS[method].args.parse(args, 'args') as unknown[]
    } catch (e) {
      if (e instanceof SchemaError) {
        log.warn('ipc call rejected', { reason: 'bad_args', method, field: e.path, detail: e.reason, ...ctx })
        return { ok: false, error: { code: 'bad_args', message: e.message, field: e.path } }
      }
      throw e
    }
    try {
      const fn = handlers[method] as (...a: unknown[]) => unknown
      const value = await fn(...parsed)
      return { ok: true, value: jsonSafe(method, value) }
    } catch (e) {
      return failure(method, e, log, ctx)
    }
  }
}

/**
 * Round-trips the result through JSON so the Electron path (structured clone) delivers exactly what the headless
 * path (JSON) delivers. A bigint or a cyclic value is a bug in the handler and becomes `internal`.
 */
function jsonSafe(method: MethodName, value: unknown): unknown {
  if (value === undefined) return null
  const text = JSON.stringify(value)
  if (text === undefined) throw new ApiError('internal', `${method} returned a value that is not JSON`)
  return JSON.parse(text)
}

function failure(method: MethodName, e: unknown, log: Logger, ctx: CallContext): Result<never> {
  if (e instanceof ApiError) {
    const level = e.code === 'internal' ? 'error' : 'warn'
    log[level]('ipc call failed', { reason: e.code, method, field: e.field, detail: e.message, ...ctx })
    return { ok: false, error: e.toBody() }
  }
  if (e instanceof SchemaError) {
    // A handler validating deeper input (e.g. a nested document) with the same schema kit.
    log.warn('ipc call rejected', { reason: 'bad_args', method, field: e.path, detail: e.reason, ...ctx })
    return { ok: false, error: { code: 'bad_args', message: e.message, field: e.path } }
  }
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  log.error('ipc handler threw', { reason: 'internal', method, detail, ...ctx })
  return { ok: false, error: { code: 'internal', message: `${method} failed; see the console log` } }
}
