// Who is asking the operator's signer (docs/signer-host.md): the device request log and the device's own
// "Requested by" line name the NIP-46 client or the console feature behind each request. The Signer interface
// carries only the fields to sign, so the caller's name travels beside the call in an AsyncLocalStorage scope:
// `withRequester('NIP-46 client "Notes app"', () => signer.signEvent(t))`. Outside any scope the requester is the
// console itself.
import { AsyncLocalStorage } from 'node:async_hooks'

export interface Requester {
  /** Shown in the request log and the confirm dialog. */
  label: string
  /** Sent to the device as the client label of SIGN_EVENT (only for outside clients). */
  clientLabel?: string
}

const scope = new AsyncLocalStorage<Requester>()

export const CONSOLE_REQUESTER: Requester = { label: 'This console' }

export function withRequester<T>(r: Requester, fn: () => Promise<T>): Promise<T> {
  return scope.run(r, fn)
}

export function currentRequester(): Requester {
  return scope.getStore() ?? CONSOLE_REQUESTER
}
