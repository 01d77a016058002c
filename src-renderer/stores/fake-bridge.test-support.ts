// A stand-in for `window.api` in store tests: every call's arguments go through the REAL contract schema (so a bad
// argument is refused with the same `bad_args` code, message and field path the main side's dispatcher answers),
// and then to a handler the test sets. A handler may throw an ApiError, which travels back as an error envelope like
// over the real bridge. Only the main-side services behind the bridge are replaced; the envelope and the typed client
// (src-shared/ipc/renderer-api.ts) are the real ones.
import {
  ApiError,
  type EventName,
  METHOD_NAMES,
  METHODS,
  type MethodName,
  type Result,
} from '../../src-shared/ipc/contract'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { SchemaError } from '../../src-shared/ipc/schema'

export type FakeHandler = (...args: unknown[]) => unknown
export interface FakeBridge {
  handlers: Partial<Record<MethodName, FakeHandler>>
  calls: Array<{ method: MethodName; args: unknown[] }>
  /** Delivers a push event to every listener the stores registered with `on` (as the main side would). */
  push(event: EventName, payload?: unknown): void
  /** How many listeners are registered for `event` (a stopped follow leaves none). */
  listeners(event: EventName): number
}

/** Installs the fake as `globalThis.api` (once per test file: the typed client caches it) and returns its tables. */
export function installFakeBridge(): FakeBridge {
  const subs = new Map<EventName, Set<(payload: unknown) => void>>()
  const bridge: FakeBridge = {
    handlers: {},
    calls: [],
    push(event, payload = {}) {
      for (const cb of [...(subs.get(event) ?? [])]) cb(payload)
    },
    listeners: (event) => subs.get(event)?.size ?? 0,
  }
  const raw: Record<string, unknown> = {
    on: (event: EventName, cb: (payload: unknown) => void) => {
      const set = subs.get(event) ?? new Set()
      subs.set(event, set)
      set.add(cb)
      return () => {
        set.delete(cb)
      }
    },
  }
  for (const m of METHOD_NAMES) {
    raw[m] = async (...args: unknown[]): Promise<Result<unknown>> => {
      bridge.calls.push({ method: m, args })
      try {
        METHODS[m].args.parse(args, 'args')
      } catch (e) {
        if (e instanceof SchemaError)
          return { ok: false, error: { code: 'bad_args', message: e.message, field: e.path } }
        throw e
      }
      const h = bridge.handlers[m]
      if (!h) return { ok: false, error: { code: 'not_found', message: `no handler for ${m} in this test` } }
      try {
        return { ok: true, value: await h(...args) }
      } catch (e) {
        if (e instanceof ApiError) return { ok: false, error: e.toBody() }
        throw e
      }
    }
  }
  ;(globalThis as { api?: WindowApi }).api = raw as unknown as WindowApi
  return bridge
}
