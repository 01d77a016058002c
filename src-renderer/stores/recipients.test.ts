// The recipients store over the fake bridge (the real contract schema, main-side handlers replaced): a saved change
// reloads the list, a refusal keeps the recipient it concerns and the main side's reason as a sentence without the
// field path, and an argument the contract refuses never reaches a handler.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import type { RecipientsView } from '../../src-shared/ipc/recipients'
import { installFakeBridge } from './fake-bridge.test-support'
import { useRecipientsStore } from './recipients'

const bridge = installFakeBridge()

const view = (address: string | null): RecipientsView => ({
  recipients: [
    {
      recipientKind: 'platform',
      recipientId: 'platform',
      label: 'Platform fee',
      destination: address ? { kind: 'lightning_address', address } : null,
      health: address ? { ok: true, text: `${address} answered`, checkedAtMs: 1 } : null,
      accruedMsat: '12345678',
      accruedSat: '12345',
      thresholdSat: '1000',
      active: true,
      weights: [],
      paidMsat: '0',
      waitingSat: address ? '0' : '12345',
    },
  ],
  changes: [],
})

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.handlers = {}
  bridge.calls = []
})

describe('recipients store', () => {
  it('saves a destination and reloads the list', async () => {
    let current = view(null)
    bridge.handlers['recipients.list'] = () => current
    bridge.handlers['recipients.setDestination'] = (a) => {
      const arg = a as { destination: { address: string } }
      current = view(arg.destination.address)
      return current.recipients[0]
    }
    const s = useRecipientsStore()
    await s.load()
    expect(s.view?.recipients[0]?.waitingSat).toBe('12345')
    const ok = await s.setDestination('platform', 'platform', { kind: 'lightning_address', address: 'p@example.com' })
    expect(ok).toBe(true)
    expect(s.view?.recipients[0]?.destination).toEqual({ kind: 'lightning_address', address: 'p@example.com' })
    expect(s.error).toBeNull()
  })

  it('keeps a refusal under the recipient it concerns, as a sentence', async () => {
    bridge.handlers['recipients.list'] = () => view(null)
    bridge.handlers['recipients.setDestination'] = () => {
      throw new ApiError(
        'bad_args',
        'args[0].destination: nobody@example.com did not answer as a Lightning address: HTTP 404',
        'args[0].destination',
      )
    }
    const s = useRecipientsStore()
    await s.load()
    expect(
      await s.setDestination('platform', 'platform', { kind: 'lightning_address', address: 'nobody@example.com' }),
    ).toBe(false)
    expect(s.error).toEqual({
      key: 'platform:platform',
      message: 'Nobody@example.com did not answer as a Lightning address: HTTP 404',
    })
  })

  it('a threshold the contract refuses never reaches the main side', async () => {
    bridge.handlers['recipients.list'] = () => view(null)
    bridge.handlers['recipients.setThreshold'] = () => {
      throw new Error('must not be called')
    }
    const s = useRecipientsStore()
    expect(await s.setThreshold('platform', 'platform', '12.5')).toBe(false)
    expect(s.error?.key).toBe('platform:platform')
    expect(s.error?.message).toMatch(/^Must be /)
    expect(bridge.calls.filter((c) => c.method === 'recipients.setThreshold')).toHaveLength(1)
  })
})
