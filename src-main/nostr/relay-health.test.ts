// Relay pool health: the starting value of a relay just added is JSON-safe and says nothing happened yet.
import { expect, it } from 'vitest'
import { initialHealth } from './relay-health'

it('a relay just added is disconnected with no errors, latency, events or auth', () => {
  const h = initialHealth('ws://127.0.0.1:7000')
  expect(h).toEqual({
    url: 'ws://127.0.0.1:7000',
    state: 'disconnected',
    latencyMs: null,
    lastEventAtMs: null,
    errorCount: 0,
    lastError: null,
    droppedEvents: 0,
    reconnectAttempt: 0,
    nextReconnectAtMs: null,
    authenticatedAs: null,
  })
  expect(JSON.parse(JSON.stringify(h))).toEqual(h)
  expect(initialHealth('ws://x')).not.toBe(initialHealth('ws://x'))
})
