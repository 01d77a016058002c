// The operator-signer seam: without a device or bunker there is no signer, and pairing's sentence says what to
// connect. (The device-backed provider is tested in src-main/signer/device-manager.test.ts, the remote bunker in
// src-main/bunker/.)
import { describe, expect, it } from 'vitest'
import { NO_OPERATOR_SIGNER, noOperatorSigner } from './operator-signer'

describe('noOperatorSigner', () => {
  it('holds nothing and says what to connect', () => {
    const p = noOperatorSigner()
    expect(p.current()).toBeNull()
    expect(p.pubkey()).toBeNull()
    expect(p.describe()).toBe(NO_OPERATOR_SIGNER)
    expect(NO_OPERATOR_SIGNER).toMatch(/hardware signer or NIP-46 bunker/)
  })
})
