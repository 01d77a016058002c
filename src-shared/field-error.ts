// The common shape of a boundary error (style: "bad input gets a clear typed error naming the field"): `field`
// names the offending input (a JSON path such as `lps[1].id` or `args.limit`) and the message starts with it.
// Each module subclasses it with its own `name`, so callers can still tell a notice error from a receipt error,
// and a boundary that only needs the field can catch `FieldError` once. Pure TypeScript: runs anywhere.

export class FieldError extends Error {
  override name = 'FieldError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
  }
}
