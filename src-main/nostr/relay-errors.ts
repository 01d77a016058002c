// Typed errors of the relay pool (src-main/nostr/relay-pool.ts and its parts): a code, a message, and the field
// that was wrong when the caller passed bad input.

export type RelayPoolErrorCode =
  | 'invalid-relay-url'
  | 'invalid-filter'
  | 'invalid-event'
  | 'invalid-option'
  | 'duplicate-subscription-key'
  | 'queue-full'
  | 'closed'

export class RelayPoolError extends Error {
  override readonly name = 'RelayPoolError'
  constructor(
    readonly code: RelayPoolErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}
