// The renderer's typed client over the raw bridge: values out, typed ApiError (code, message, field) thrown,
// transport failures as `unavailable`, malformed replies as `internal`.
import { describe, expect, it } from 'vitest'
import { METHOD_NAMES, type Result } from './contract'
import { ApiError, createApi, unwrap, type WindowApi } from './renderer-api'

function rawApi(reply: (method: string, args: unknown[]) => Promise<Result<unknown>>): WindowApi {
  const raw: Record<string, unknown> = { on: () => () => {} }
  for (const m of METHOD_NAMES) raw[m] = (...args: unknown[]) => reply(m, args)
  return raw as unknown as WindowApi
}

describe('renderer api client', () => {
  it('resolves to the value and passes the arguments through', async () => {
    const seen: unknown[] = []
    const api = createApi(
      rawApi(async (m, args) => {
        seen.push([m, args])
        return { ok: true, value: { operatorName: 'A', timeZone: 'UTC', relays: [] } }
      }),
    )
    expect(await api['settings.set']({ operatorName: 'A' })).toEqual({ operatorName: 'A', timeZone: 'UTC', relays: [] })
    expect(seen).toEqual([['settings.set', [{ operatorName: 'A' }]]])
    expect(Object.keys(api).sort()).toEqual([...METHOD_NAMES, 'on'].sort())
  })

  it('throws ApiError with code, message and field', async () => {
    const api = createApi(
      rawApi(async () => ({
        ok: false,
        error: { code: 'bad_args', message: 'args[0].timeZone: expected …', field: 'args[0].timeZone' },
      })),
    )
    const e = await api['settings.set']({ timeZone: 'x' }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ code: 'bad_args', field: 'args[0].timeZone', message: 'args[0].timeZone: expected …' })
  })

  it('maps a broken transport to unavailable and a malformed reply to internal', async () => {
    const down = createApi(rawApi(() => Promise.reject(new Error('the connection closed'))))
    await expect(down['app.info']()).rejects.toMatchObject({ code: 'unavailable', message: 'the connection closed' })
    expect(() => unwrap({ ok: false, error: { code: 'nope', message: 'x' } } as never)).toThrow(
      'malformed reply from the main side',
    )
    expect(() => unwrap(undefined as never)).toThrow(ApiError)
    expect(() => unwrap({ ok: true } as never)).toThrow('malformed reply')
  })
})
