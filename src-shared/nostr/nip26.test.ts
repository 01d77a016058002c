import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { publicKeyHex, type SchnorrVerify, schnorrVerifyHex } from './event'
import {
  buildConditions,
  conditionsAllow,
  DelegationTokenMemo,
  delegationHashHex,
  delegationPolicyViolations,
  delegationString,
  describeDelegation,
  Nip26Error,
  parseConditions,
  parseDelegationTag,
  verifyDelegationToken,
} from './nip26'

// The example from the NIP-26 text (nostr-protocol/nips 26.md).
const SPEC = {
  delegatorSk: 'ee35e8bb71131c02c1d7e73231daa48e9953d329a4b701f7133c8f46dd21139c',
  delegatorPk: '8e0d3d3eb2881ec137a11debe736a9086715a8c8beeeda615780064d68bc25dd',
  delegateeSk: '777e4f60b4aa87937e13acc84f7abcc3c93cc035cb4c1e9f7a9086dd78fffce1',
  delegateePk: '477318cfb5427b9cfc66a9fa376150c1ddbc62115ae27cef72417eb959691396',
  conditions: 'kind=1&created_at>1674834236&created_at<1677426236',
  token:
    '6f44d7fe4f1c09f3954640fb58bd12bae8bb8ff4120853c4693106c82e920e2b898f1f9ba9bd65449a987c39c0423426ab7b53910c0c6abfb41b30bc16e5f524',
}

describe('NIP-26 spec example', () => {
  it('keys derive the published public keys', () => {
    expect(publicKeyHex(hexToBytes(SPEC.delegatorSk))).toBe(SPEC.delegatorPk)
    expect(publicKeyHex(hexToBytes(SPEC.delegateeSk))).toBe(SPEC.delegateePk)
  })
  it('the delegation string matches the spec text', () => {
    expect(delegationString(SPEC.delegateePk, SPEC.conditions)).toBe(
      'nostr:delegation:477318cfb5427b9cfc66a9fa376150c1ddbc62115ae27cef72417eb959691396:kind=1&created_at>1674834236&created_at<1677426236',
    )
  })
  it("the spec's own token verifies", () => {
    expect(verifyDelegationToken(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, SPEC.token)).toBe(true)
  })
  it('the token fails for another delegatee, other conditions, another delegator or a flipped bit', () => {
    expect(verifyDelegationToken(SPEC.delegatorPk, SPEC.delegatorPk, SPEC.conditions, SPEC.token)).toBe(false)
    expect(verifyDelegationToken(SPEC.delegatorPk, SPEC.delegateePk, 'kind=1&created_at>1674834236', SPEC.token)).toBe(
      false,
    )
    expect(verifyDelegationToken(SPEC.delegateePk, SPEC.delegateePk, SPEC.conditions, SPEC.token)).toBe(false)
    const flipped = (SPEC.token[0] === '6' ? '7' : '6') + SPEC.token.slice(1)
    expect(verifyDelegationToken(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, flipped)).toBe(false)
    expect(verifyDelegationToken(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, 'zz')).toBe(false)
  })
  it('a fresh token by the software signer verifies (tokens are checked, never compared)', async () => {
    const signer = createSoftwareSigner(hexToBytes(SPEC.delegatorSk))
    const token = await signer.signDelegation({ delegateePubkey: SPEC.delegateePk, conditions: SPEC.conditions })
    expect(token).not.toBe(SPEC.token)
    expect(verifyDelegationToken(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, token)).toBe(true)
  })
})

describe('conditions', () => {
  it('parses the three clause forms, kinds ORed and bounds ANDed', () => {
    const c = parseConditions('kind=0&kind=1&created_at>10&created_at<20')
    expect(c).toEqual({ kinds: [0, 1], createdAfter: [10], createdBefore: [20] })
    expect(conditionsAllow(c, { kind: 1, created_at: 15 })).toBe(true)
    expect(conditionsAllow(c, { kind: 0, created_at: 11 })).toBe(true)
    expect(conditionsAllow(c, { kind: 2, created_at: 15 })).toBe(false)
  })
  it('bounds are strict', () => {
    const c = parseConditions('kind=30079&created_at>100&created_at<200')
    expect(conditionsAllow(c, { kind: 30079, created_at: 100 })).toBe(false)
    expect(conditionsAllow(c, { kind: 30079, created_at: 101 })).toBe(true)
    expect(conditionsAllow(c, { kind: 30079, created_at: 199 })).toBe(true)
    expect(conditionsAllow(c, { kind: 30079, created_at: 200 })).toBe(false)
  })
  it.each([
    ['', 'conditions'],
    ['kind=1&', 'clause 2'],
    ['kind=01', 'clause 1'],
    ['kind=+1', 'clause 1'],
    ['kind=1 ', 'clause 1'],
    ['kind=70000', 'clause 1'],
    ['kind<1', 'clause 1'],
    ['created_at=5', 'clause 1'],
    ['kind=1&created_at>1e9', 'clause 2'],
    ['kind=1&author=abc', 'clause 2'],
    ['created_at>99999999999999999999', 'clause 1'],
  ])('rejects %j naming the %s', (cond, where) => {
    expect(() => parseConditions(cond)).toThrow(Nip26Error)
    expect(() => parseConditions(cond)).toThrow(where)
  })
  it('builds the canonical string the console issues', () => {
    expect(buildConditions({ kinds: [30079], createdAfter: 5, createdBefore: 9 })).toBe(
      'kind=30079&created_at>5&created_at<9',
    )
    expect(() => buildConditions({ kinds: [] })).toThrow('at least one clause')
  })
})

describe('delegation tag', () => {
  const tag = ['delegation', SPEC.delegatorPk, SPEC.conditions, SPEC.token]
  it('reads a well-formed tag', () => {
    expect(parseDelegationTag({ tags: [['p', 'x'], tag] })).toEqual({
      delegatorPubkey: SPEC.delegatorPk,
      conditions: SPEC.conditions,
      token: SPEC.token,
    })
  })
  it.each([
    [[], 'missing'],
    [[tag, tag], 'more than once'],
    [[tag.slice(0, 3)], 'expected 4'],
    [[['delegation', SPEC.delegatorPk.toUpperCase(), SPEC.conditions, SPEC.token]], 'delegator'],
    [[['delegation', SPEC.delegatorPk, SPEC.conditions, SPEC.token.slice(2)]], 'token'],
  ])('rejects %j (%s)', (tags, msg) => {
    expect(() => parseDelegationTag({ tags: tags as string[][] })).toThrow(msg)
  })
})

describe('signer-side policy and review text', () => {
  it('allows what the console issues and names every violation', () => {
    expect(delegationPolicyViolations('kind=30079&created_at>1000&created_at<7777000')).toEqual([])
    expect(delegationPolicyViolations('created_at>1000&created_at<2000')).toEqual(['no kind restriction (ALL KINDS)'])
    expect(delegationPolicyViolations('kind=1&created_at>1000')).toEqual(['exactly one created_at< bound is required'])
    expect(delegationPolicyViolations('kind=1&created_at>0&created_at<7776001')).toEqual([
      'the window is longer than 90 days',
    ])
    expect(delegationPolicyViolations('kind=1&kind=1&created_at>5&created_at<6')).toEqual(['a clause is repeated'])
    expect(delegationPolicyViolations('kind=1&created_at>6&created_at<5')).toEqual(['the window is empty'])
    expect(delegationPolicyViolations('kind=x')[0]).toContain('clause 1')
  })
  it('describes the delegation in plain words', () => {
    expect(describeDelegation('npub1xyz', 'kind=30079&created_at>1790032000&created_at<1797808000')).toEqual([
      'Delegate signing to: npub1xyz',
      'Allowed kinds: 30079',
      'Valid from 2026-09-21 23:06 UTC to 2026-12-20 23:06 UTC',
      'Conditions: kind=30079&created_at>1790032000&created_at<1797808000',
    ])
    expect(describeDelegation('npub1xyz', 'created_at<1790032000')[1]).toBe('Allowed kinds: ALL KINDS')
  })
})

describe('DelegationTokenMemo', () => {
  const tokenFor = (conditions: string) =>
    bytesToHex(
      schnorr.sign(
        hexToBytes(delegationHashHex(SPEC.delegateePk, conditions)),
        hexToBytes(SPEC.delegatorSk),
        new Uint8Array(32),
      ),
    )
  /** A verifier that counts its calls and answers as noble does. */
  const counting = () => {
    const calls = { n: 0 }
    const verify: SchnorrVerify = (s, m, p) => {
      calls.n++
      return schnorrVerifyHex(s, m, p)
    }
    return { calls, verify }
  }
  it('answers a token that verified from memory, with the injected verifier used once', () => {
    const memo = new DelegationTokenMemo(8)
    const { calls, verify } = counting()
    for (let i = 0; i < 3; i++)
      expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, SPEC.token, verify)).toBe(true)
    expect(calls.n).toBe(1)
    expect(memo.size).toBe(1)
  })
  it('remembers only successes, keyed by every input', () => {
    const memo = new DelegationTokenMemo(8)
    const { calls, verify } = counting()
    // The same token with other conditions, another delegatee or a refusing verifier is not a remembered success.
    expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, `${SPEC.conditions}&kind=2`, SPEC.token, verify)).toBe(false)
    expect(memo.verify(SPEC.delegatorPk, SPEC.delegatorPk, SPEC.conditions, SPEC.token, verify)).toBe(false)
    expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, SPEC.token, () => false)).toBe(false)
    expect(memo.size).toBe(0)
    expect(calls.n).toBe(2)
    expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, SPEC.token, verify)).toBe(true)
    expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, `${SPEC.conditions}&kind=2`, SPEC.token, verify)).toBe(false)
    expect(calls.n).toBe(4)
    // Malformed input never reaches the verifier.
    expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, 'zz', verify)).toBe(false)
    expect(calls.n).toBe(4)
  })
  it('is bounded: the oldest success is forgotten and checked again', () => {
    const memo = new DelegationTokenMemo(2)
    const { calls, verify } = counting()
    const conds = ['kind=1', 'kind=2', 'kind=3']
    for (const c of conds) expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, c, tokenFor(c), verify)).toBe(true)
    expect(memo.size).toBe(2)
    expect(calls.n).toBe(3)
    expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, 'kind=3', tokenFor('kind=3'), verify)).toBe(true)
    expect(calls.n).toBe(3)
    expect(memo.verify(SPEC.delegatorPk, SPEC.delegateePk, 'kind=1', tokenFor('kind=1'), verify)).toBe(true)
    expect(calls.n).toBe(4)
    expect(() => new DelegationTokenMemo(0)).toThrow(Nip26Error)
  })
  it('verifyDelegationToken uses the injected verifier', () => {
    expect(verifyDelegationToken(SPEC.delegatorPk, SPEC.delegateePk, SPEC.conditions, SPEC.token, () => false)).toBe(
      false,
    )
  })
})
