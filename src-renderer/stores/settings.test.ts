// The settings form's error mapping, fed with the errors the REAL contract produces: the `settings.set` argument
// schema is run on bad input, and its SchemaError is turned into the ApiError the renderer would receive. This ties
// the inline-error placement to the main side's field paths, so a change of path format fails here first.
import { describe, expect, it } from 'vitest'
import { ApiError, METHODS } from '../../src-shared/ipc/contract'
import { SchemaError } from '../../src-shared/ipc/schema'
import { fieldReason } from '../api'
import { parseFieldError } from './settings'

/** What the dispatcher answers for these `settings.set` arguments, as the client throws it. */
function rejectionFor(args: unknown[]): ApiError {
  try {
    METHODS['settings.set'].args.parse(args, 'args')
  } catch (e) {
    if (e instanceof SchemaError) return new ApiError('bad_args', e.message, e.path)
    throw e
  }
  throw new Error('the schema accepted the arguments')
}

const mapped = (args: unknown[]) => {
  const e = rejectionFor(args)
  return parseFieldError(e.field, e.message, fieldReason(e))
}

describe('settings errors from the main side land on the right field', () => {
  it('a bad relay maps to that row, with the reason as a sentence and no path', () => {
    const r = mapped([{ relays: ['wss://ok.example', 'https://relay.example.org'] }])
    expect(r).toEqual({
      field: 'relays',
      index: 1,
      message: 'Not a relay address: a relay address starts with ws:// or wss://, not https://',
    })
  })

  it('an empty display name maps to operatorName', () => {
    const r = mapped([{ operatorName: '' }])
    expect(r.field).toBe('operatorName')
    expect(r.index).toBeNull()
    expect(r.message).toBe('Must be 1–100 characters.')
  })

  it('an unknown time zone maps to timeZone', () => {
    const r = mapped([{ timeZone: 'Mars/Olympus_Mons' }])
    expect(r.field).toBe('timeZone')
    expect(r.message).toMatch(/^Must be an IANA time zone name/)
  })

  it('too many relays maps to the list, not a row', () => {
    const r = mapped([{ relays: Array.from({ length: 21 }, (_, i) => `wss://r${i}.example`) }])
    expect(r.field).toBe('relays')
    expect(r.index).toBeNull()
  })

  it('a field the form does not know becomes a form-level error with the full message', () => {
    const e = rejectionFor([{ colour: 'blue' }])
    const r = parseFieldError(e.field, e.message, fieldReason(e))
    expect(r).toEqual({ field: null, index: null, message: 'args[0].colour: unexpected field' })
  })

  it('an error without a field keeps its message', () => {
    const e = new ApiError('unavailable', 'the console service is not reachable')
    expect(parseFieldError(e.field, e.message, fieldReason(e))).toEqual({
      field: null,
      index: null,
      message: 'the console service is not reachable',
    })
  })
})
