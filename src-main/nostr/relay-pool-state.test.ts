// The pool's option defaults and checks (each bad option named), and the fresh per-relay and
// per-subscription-on-a-relay state.
import { describe, expect, it } from 'vitest'
import { nobleVerifier } from './event-verifier'
import { DEFAULT_BACKOFF } from './relay-connection'
import { RelayPoolError } from './relay-errors'
import { newRelayConn, newSubRelayState, poolLimits } from './relay-pool-state'

const base = { relays: [], verifier: nobleVerifier() }

describe('pool options', () => {
  it('applies the documented defaults', () => {
    expect(poolLimits(base)).toEqual({
      maxEventBytes: 256 * 1024,
      publishTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      pingIntervalMs: 30_000,
      pingTimeoutMs: 10_000,
      maxQueuedEvents: 10_000,
      maxPendingPublishes: 1000,
      pageLimit: 500,
      maxSingleSecondLimit: 5000,
      maxRememberedIds: 100_000,
      backoff: DEFAULT_BACKOFF,
      dropExpired: true,
    })
    expect(poolLimits({ ...base, backoff: { maxMs: 5 } }).backoff).toEqual({ ...DEFAULT_BACKOFF, maxMs: 5 })
  })

  it('refuses a limit that is not a positive number, naming it', () => {
    for (const name of ['maxEventBytes', 'pageLimit', 'pingTimeoutMs'] as const) {
      for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        let err: unknown
        try {
          poolLimits({ ...base, [name]: bad })
        } catch (e) {
          err = e
        }
        expect(err).toBeInstanceOf(RelayPoolError)
        expect((err as RelayPoolError).field).toBe(name)
      }
    }
  })
})

describe('fresh state', () => {
  it('a relay starts without socket, timers or auth; a subscription on it without cursor or page', () => {
    const c = newRelayConn('ws://a')
    expect(c).toMatchObject({ url: 'ws://a', ws: null, authed: false, challenge: null, pingWireId: null })
    expect(c.health.state).toBe('disconnected')
    expect(newRelayConn('ws://a').health).not.toBe(c.health)
    const st = newSubRelayState()
    expect(st).toMatchObject({ cursor: undefined, caughtUp: false, dropped: false, held: false, sweep: null })
    expect(st.pageCount).toBe(0)
  })
})
