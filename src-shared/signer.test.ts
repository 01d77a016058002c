import { describe, expect, it } from 'vitest'
import { keys, signers, T0 } from '../test/support/fleet-fixture'
import { type Signer, SignerOutputError, signDelegationChecked, signEventChecked } from './signer'

const s = signers(false)
const template = { kind: 30078, created_at: T0, tags: [['d', 'x']], content: 'hello "world"\n' }

describe('checked signing (the app verifies every signature it gets back)', () => {
  it('passes an honest signer', async () => {
    const ev = await signEventChecked(s.operator, template, keys.operatorPk)
    expect(ev.pubkey).toBe(keys.operatorPk)
    const token = await signDelegationChecked(
      s.operator,
      { delegateePubkey: keys.atmPk, conditions: 'kind=30079' },
      keys.operatorPk,
    )
    expect(token).toMatch(/^[0-9a-f]{128}$/)
  })
  it('catches a signer with another key, altered fields, a corrupt signature, a bad token', async () => {
    await expect(signEventChecked(s.other, template, keys.operatorPk)).rejects.toThrow(SignerOutputError)
    const altering: Signer = { ...s.operator, signEvent: (t) => s.operator.signEvent({ ...t, content: 'other' }) }
    await expect(signEventChecked(altering, template, keys.operatorPk)).rejects.toThrow('differ')
    const corrupt: Signer = {
      ...s.operator,
      signEvent: async (t) => {
        const ev = await s.operator.signEvent(t)
        return { ...ev, sig: (ev.sig[0] === 'a' ? 'b' : 'a') + ev.sig.slice(1) }
      },
    }
    await expect(signEventChecked(corrupt, template, keys.operatorPk)).rejects.toThrow('invalid event')
    await expect(
      signDelegationChecked(s.other, { delegateePubkey: keys.atmPk, conditions: 'kind=30079' }, keys.operatorPk),
    ).rejects.toThrow(SignerOutputError)
  })
  it('software signer: NIP-44 between two keys round-trips, and refuses a tampered payload', async () => {
    const payload = await s.atm.nip44Encrypt(keys.consolePk, 'secret')
    expect(await s.console.nip44Decrypt(keys.atmPk, payload)).toBe('secret')
    await expect(s.other.nip44Decrypt(keys.atmPk, payload)).rejects.toThrow()
  })
})
