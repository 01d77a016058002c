// The setup card's error mapping, fed with the errors the REAL main side produces: the contract's argument schemas
// for `setup.setOperator` / `setup.setOperatorWallet` and the setup module's own npub check. This ties the inline
// error placement (under the npub or the URI input) to the main side's field paths.
import { describe, expect, it } from 'vitest'
import { parseOperatorKey } from '../../src-main/setup/service'
import { ApiError, METHODS } from '../../src-shared/ipc/contract'
import { SchemaError } from '../../src-shared/ipc/schema'
import { fieldReason } from '../api'
import { setupError } from './setup'

function schemaRejection(method: 'setup.setOperator' | 'setup.setOperatorWallet', args: unknown[]): ApiError {
  try {
    METHODS[method].args.parse(args, 'args')
  } catch (e) {
    if (e instanceof SchemaError) return new ApiError('bad_args', e.message, e.path)
    throw e
  }
  throw new Error('the schema accepted the arguments')
}

const mapped = (e: ApiError) => setupError(e.field, e.message, fieldReason(e))

describe('setupError', () => {
  it('puts an empty npub or URI under its input, without the field path', () => {
    expect(mapped(schemaRejection('setup.setOperator', [{ operatorNpub: '' }]))).toEqual({
      field: 'operatorNpub',
      message: expect.stringMatching(/^Must be /),
    })
    expect(mapped(schemaRejection('setup.setOperatorWallet', [{ nwcUri: '' }])).field).toBe('nwcUri')
  })

  it("puts the setup module's npub refusal under the npub input", () => {
    let err: ApiError | undefined
    try {
      parseOperatorKey('npub1bad')
    } catch (e) {
      err = e as ApiError
    }
    expect(err).toBeInstanceOf(ApiError)
    const m = mapped(err!)
    expect(m.field).toBe('operatorNpub')
    expect(m.message).toMatch(/^Not a valid npub/)
  })

  it('keeps a failure that names no field (secret store unavailable) as a card-level message', () => {
    const e = new ApiError('unavailable', 'the secret store is unavailable: no key file')
    expect(mapped(e)).toEqual({ field: null, message: 'the secret store is unavailable: no key file' })
  })
})
