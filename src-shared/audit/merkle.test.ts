// RFC 6962 Merkle hashing and proofs against the Certificate Transparency reference vectors (the eight leaves
// and roots of the CT test suite), plus a property check that every proof over random sizes verifies and a
// changed leaf or root does not.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle'

const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  (h) => hexToBytes(h),
)
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
const hashes = LEAVES.map(leafHash)

describe('RFC 6962 vectors', () => {
  it('empty root is sha256("")', () => {
    expect(bytesToHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(bytesToHex(rootOf([]))).toBe(bytesToHex(EMPTY_ROOT))
  })
  it('roots for sizes 1…8', () => {
    for (let n = 1; n <= 8; n++) expect(bytesToHex(rootOf(hashes, n)), `size ${n}`).toBe(ROOTS[n - 1])
    const f = new MerkleFrontier()
    LEAVES.forEach((l, i) => {
      f.push(l)
      expect(bytesToHex(f.root())).toBe(ROOTS[i])
    })
  })
  it('inclusion paths', () => {
    expect(inclusionProof(hashes, 0, 8).map(bytesToHex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ])
    expect(inclusionProof(hashes, 5, 8).map(bytesToHex)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ])
    expect(inclusionProof(hashes, 0, 1)).toEqual([])
  })
  it('consistency proofs', () => {
    expect(consistencyProof(hashes, 1, 1)).toEqual([])
    expect(consistencyProof(hashes, 1, 8).map(bytesToHex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ])
    expect(consistencyProof(hashes, 6, 8).map(bytesToHex)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ])
    expect(consistencyProof(hashes, 2, 5).map(bytesToHex)).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ])
  })
})

describe('proofs verify, and tampering is caught', () => {
  const many = Array.from({ length: 70 }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)))
  it('every inclusion proof verifies; a wrong leaf or root does not', () => {
    for (const size of [1, 2, 3, 7, 8, 9, 31, 64, 70]) {
      const root = rootOf(many, size)
      for (let i = 0; i < size; i++) {
        const p = inclusionProof(many, i, size)
        expect(verifyInclusion(many[i] as Uint8Array, i, size, p, root)).toBe(true)
        if (size > 1) expect(verifyInclusion(many[(i + 1) % size] as Uint8Array, i, size, p, root)).toBe(false)
      }
      expect(verifyInclusion(many[0] as Uint8Array, 0, size, inclusionProof(many, 0, size), EMPTY_ROOT)).toBe(false)
    }
  })
  it('every consistency proof verifies; a different old tree does not', () => {
    for (const n of [1, 2, 5, 8, 13, 70]) {
      for (let m = 1; m <= n; m++) {
        const p = consistencyProof(many, m, n)
        expect(verifyConsistency(m, n, p, rootOf(many, m), rootOf(many, n)), `${m}→${n}`).toBe(true)
        if (m < n) {
          const other = [...many.slice(0, m - 1), leafHash(new Uint8Array([9])), ...many.slice(m)]
          expect(verifyConsistency(m, n, p, rootOf(other, m), rootOf(many, n))).toBe(false)
        }
      }
    }
  })

  it('a frontier restored from its subtree roots continues to the same roots as one built leaf by leaf', () => {
    const leaves = Array.from({ length: 45 }, (_, i) => new Uint8Array([i, i >> 8, 7]))
    const whole = new MerkleFrontier()
    for (let cut = 0; cut <= leaves.length; cut++) {
      const part = new MerkleFrontier()
      for (const l of leaves.slice(0, cut)) part.push(l)
      const restored = MerkleFrontier.restore(cut, part.subtreeRoots())
      for (const l of leaves.slice(cut)) restored.push(l)
      if (cut === 0) for (const l of leaves) whole.push(l)
      expect(restored.size).toBe(leaves.length)
      expect(Buffer.from(restored.root()).toString('hex')).toBe(Buffer.from(whole.root()).toString('hex'))
    }
    expect(() => MerkleFrontier.restore(5, [new Uint8Array(32)])).toThrow(/has 2 subtree roots/)
  })
})
