// The renderer's only door to the main side. `window.api` (defined by the Electron preload or, in headless mode,
// by the bridge script at /__bridge/preload.js) answers result envelopes; `getApi()` from the shared contract wraps
// it into a typed client that resolves to the value or throws an `ApiError` with `code`, `message` and `field`.
// Stores call `api()`; components never touch `window.api`, so a contract change touches this file and the stores,
// not the views.
import { type Api, ApiError, getApi } from '../src-shared/ipc/renderer-api'

export type {
  AppInfo,
  LedgerStatusView,
  LogEntry,
  LogLevelName,
  Notice,
  RelayHealth,
  RelayState,
  RelayStatusView,
  Settings,
  SettingsPatch,
  SetupStatusView,
} from '../src-shared/ipc/contract'
export { ApiError }

/** The typed client; throws `ApiError('unavailable')` if the page was opened without the preload. */
export function api(): Api {
  return getApi()
}

/** Turns whatever a call rejected with into an ApiError, so stores handle one error type. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e
  return new ApiError('internal', e instanceof Error ? e.message : String(e))
}

/**
 * The sentence to show under a form field for a validation error. The main side's message starts with the field
 * path (`args[0].relays[1]: expected a ws:// or wss:// relay URL (6–300 chars)`); under the field itself the path
 * is redundant, so it is dropped and the schema's wording is turned into a sentence for the operator
 * ("Must be a ws:// or wss:// relay URL (6–300 characters)."). Messages of another shape are shown as they are.
 */
export function fieldReason(e: ApiError): string {
  const path = e.field
  let reason = e.message
  if (path && reason.startsWith(`${path}: `)) reason = reason.slice(path.length + 2)
  if (reason.startsWith('expected ')) {
    reason = `Must be ${reason.slice('expected '.length).replace(/^string /, '')}`
      .replace(/\bchars\b/g, 'characters')
      .replace(/\.?$/, '.')
  }
  return reason.charAt(0).toUpperCase() + reason.slice(1)
}
