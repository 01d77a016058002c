// The renderer's view of the IPC contract.
//
// `window.api` (defined by the Electron preload, or in headless mode by the bridge script at /__bridge/preload.js)
// is the RAW bridge: one function per contract method that resolves to the `Result` envelope, plus `on(event, cb)`.
// Envelopes, not thrown errors, cross the bridge because Electron's contextBridge drops custom properties of
// thrown errors (only `message` survives), and the renderer needs the error `code` and `field`.
//
// The renderer uses `createApi(window.api)` (or `getApi()`), which returns the typed client: each method resolves
// to the value or throws an `ApiError` with `code`, `message` and `field`.
//
// Pure TypeScript: importable from the renderer (DOM) and from tests (Node).
import {
  ApiError,
  type ApiErrorBody,
  ERROR_CODES,
  type EventName,
  type EventPayload,
  METHOD_NAMES,
  type MethodArgs,
  type MethodName,
  type MethodResult,
  type Result,
} from './contract'

export type Unsubscribe = () => void

export interface OnEvent {
  on<E extends EventName>(event: E, cb: (payload: EventPayload<E>) => void): Unsubscribe
}

/** What the preload exposes as `window.api`: envelopes, never throws for a handled error. */
export type WindowApi = {
  readonly [M in MethodName]: (...args: MethodArgs<M>) => Promise<Result<MethodResult<M>>>
} & OnEvent

/** The typed client the renderer calls: the value, or a thrown `ApiError`. */
export type Api = {
  readonly [M in MethodName]: (...args: MethodArgs<M>) => Promise<MethodResult<M>>
} & OnEvent

declare global {
  interface Window {
    /** Set by the preload (Electron) or /__bridge/preload.js (headless); absent if the page was opened directly. */
    api?: WindowApi
  }
}

function isErrorBody(e: unknown): e is ApiErrorBody {
  if (typeof e !== 'object' || e === null) return false
  const o = e as Record<string, unknown>
  return typeof o.message === 'string' && (ERROR_CODES as readonly unknown[]).includes(o.code)
}

/** Unwraps one envelope; anything malformed becomes an `internal` ApiError rather than a silent undefined. */
export function unwrap<T>(r: Result<T>): T {
  if (r && typeof r === 'object' && r.ok === true && 'value' in r) return r.value
  if (r && typeof r === 'object' && r.ok === false && isErrorBody(r.error)) throw ApiError.fromBody(r.error)
  throw new ApiError('internal', 'malformed reply from the main side')
}

/** Wraps the raw bridge into the typed client. Transport failures (bridge closed) become `unavailable`. */
export function createApi(raw: WindowApi): Api {
  const client: Record<string, unknown> = {}
  for (const m of METHOD_NAMES) {
    const fn = raw[m] as (...a: unknown[]) => Promise<Result<unknown>>
    client[m] = async (...args: unknown[]) => {
      let r: Result<unknown>
      try {
        r = await fn(...args)
      } catch (e) {
        throw new ApiError('unavailable', e instanceof Error ? e.message : String(e))
      }
      return unwrap(r)
    }
  }
  client.on = raw.on
  return Object.freeze(client) as unknown as Api
}

let cached: Api | undefined

/** The typed client over `window.api`; throws `unavailable` if the page was opened without the preload. */
export function getApi(): Api {
  if (cached) return cached
  const w = globalThis as { api?: WindowApi }
  if (!w.api)
    throw new ApiError(
      'unavailable',
      'window.api is missing: open the console through the app or `satmachine serve`, not the file directly',
    )
  cached = createApi(w.api)
  return cached
}

export { ApiError }
