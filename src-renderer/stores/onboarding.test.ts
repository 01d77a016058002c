// The onboarding store against the real contract (fake-bridge.test-support.ts checks every call's arguments with the
// real schemas): finishing a step saves it done and moves to the next, a refusal lands under the field the main
// side named (without the `args[0].` path), and the wallet URI is only sent, never kept in the store.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import type { OnboardingStatusView } from '../../src-shared/ipc/onboarding'
import { installFakeBridge } from './fake-bridge.test-support'
import { useOnboardingStore } from './onboarding'

const bridge = installFakeBridge()

const status = (o: Partial<OnboardingStatusView> = {}): OnboardingStatusView => ({
  step: 'signer',
  done: [],
  dismissed: false,
  configured: false,
  missing: ['operator', 'operatorWallet', 'relays'],
  signer: { connected: false, pubkey: null, npub: null, description: 'no signer', matchesOperator: false },
  fees: null,
  ...o,
})

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.calls.length = 0
  bridge.handlers = {}
})

describe('onboarding store', () => {
  it('finishing a step saves it done and moves to the next one', async () => {
    bridge.handlers['onboarding.save'] = (a) => status({ step: (a as { step: 'wallet' }).step, done: ['relays'] })
    const ob = useOnboardingStore()
    await ob.finish('relays')
    expect(bridge.calls.at(-1)).toEqual({ method: 'onboarding.save', args: [{ done: 'relays', step: 'wallet' }] })
    expect(ob.status?.step).toBe('wallet')
    await ob.finish('machine')
    expect(bridge.calls.at(-1)?.args).toEqual([{ done: 'machine', step: 'machine' }])
  })

  it('puts a refusal under the field the main side named', async () => {
    bridge.handlers['onboarding.checkWallet'] = () => {
      throw new ApiError('unavailable', 'args[0].nwcUri: the wallet did not answer', 'args[0].nwcUri')
    }
    const ob = useOnboardingStore()
    expect(await ob.checkWallet('nostr+walletconnect://x')).toBeNull()
    expect(ob.error).toEqual({ field: 'nwcUri', message: 'The wallet did not answer' })
    // The schema itself refuses a relay URL longer than 300 characters, naming args[0].url.
    expect(await ob.checkRelay(`wss://${'a'.repeat(400)}`)).toBeNull()
    expect(ob.error?.field).toBe('url')
    expect(JSON.stringify(ob.$state)).not.toContain('walletconnect')
  })

  it('saving fees stores the status the main side answers', async () => {
    const fees = {
      cashOut: { platformPpm: 10_000, operatorPpm: 50_000 },
      cashIn: { platformPpm: 10_000, operatorPpm: 40_000 },
      splits: [{ id: 'owner', weightPpm: 1_000_000 }],
    }
    bridge.handlers['onboarding.setFees'] = () => status({ fees, done: ['fees'] })
    const ob = useOnboardingStore()
    expect((await ob.setFees(fees))?.fees).toEqual(fees)
    expect(ob.status?.done).toEqual(['fees'])
  })
})
