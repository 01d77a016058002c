// The audit formats (types.ts, docs/audit.md): the canonical entry's test vector as printed in docs/audit.md,
// round trips and refusals, the head and attestation events and their parsers, UTC quarters.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { checkEvent } from '../nostr/event'
import {
  attestationTemplate,
  decodeEntry,
  differingColumns,
  EntryFormatError,
  encodeEntry,
  entryHash,
  headTemplate,
  nextQuarter,
  parseAttestationEvent,
  parseHeadEvent,
  type QuarterAttestation,
  quarterBounds,
  quarterOf,
} from './types'

const VECTOR = {
  entry: {
    table: 'acct_machine',
    rowid: '1',
    seq: '42',
    op: 'I' as const,
    columns: [
      { name: 'id', value: 'm1' },
      { name: 'name', value: 'Lobby' },
      { name: 'created_at_ms', value: 1_790_000_000_000n },
      { name: 'note', value: null },
    ],
  },
  hex:
    '534d414c010000000c616363745f6d616368696e650000000131000000023432490000000400000002696403000000026d31000000046e616d' +
    '6503000000054c6f6262790000000d637265617465645f61745f6d73010000000d31373930303030303030303030000000046e6f746500',
  leaf: '4d46dd63ab9a32e37143d5e7c6a91625fdf462c5b2f9b3c120ce8c1e10d5206e',
}

describe('canonical entry', () => {
  it('matches the test vector in docs/audit.md and round-trips', () => {
    const b = encodeEntry(VECTOR.entry)
    expect(bytesToHex(b)).toBe(VECTOR.hex)
    expect(bytesToHex(entryHash(b))).toBe(VECTOR.leaf)
    expect(decodeEntry(hexToBytes(VECTOR.hex))).toEqual(VECTOR.entry)
  })

  it('round-trips every type, and any edit of a value changes the bytes', () => {
    const e = {
      table: 't',
      rowid: '-3',
      seq: '0',
      op: 'U' as const,
      columns: [
        { name: 'i', value: -9_223_372_036_854_775_808n },
        { name: 'r', value: 0.1 },
        { name: 's', value: 'é\n\u0000' },
        { name: 'b', value: new Uint8Array([0, 255]) },
        { name: 'n', value: null },
      ],
    }
    const b = encodeEntry(e)
    expect(decodeEntry(b)).toEqual(e)
    const edited = {
      ...e,
      columns: e.columns.map((c) => (c.name === 'i' ? { ...c, value: -9_223_372_036_854_775_807n } : c)),
    }
    expect(bytesToHex(encodeEntry(edited))).not.toBe(bytesToHex(b))
    expect(differingColumns(e.columns, edited.columns)).toEqual(['i'])
  })

  it('refuses bytes that are not exactly one canonical entry, naming the part', () => {
    const b = hexToBytes(VECTOR.hex)
    expect(() => decodeEntry(b.subarray(0, b.length - 1))).toThrow(EntryFormatError)
    expect(() => decodeEntry(new Uint8Array([...b, 0]))).toThrow(/end: 1 bytes after the last column/)
    const bad = b.slice()
    bad[4] = 2
    expect(() => decodeEntry(bad)).toThrow(/version: unknown version 2/)
    expect(() => encodeEntry({ ...VECTOR.entry, rowid: '01' })).toThrow(/rowid/)
  })
})

describe('head and attestation events', () => {
  const signer = createSoftwareSigner(new Uint8Array(32).fill(3))
  const head = { treeSize: 12, root: 'ab'.repeat(32), ledgerSeq: 40, time: 1_790_000_000 }

  it('a head event parses back to the head; content and tags must agree', async () => {
    const ev = await signer.signEvent(headTemplate(head))
    expect(checkEvent(ev).ok).toBe(true)
    expect(ev.content).toBe(`{"v":1,"tree_size":12,"root":"${'ab'.repeat(32)}","ledger_seq":40}`)
    expect(parseHeadEvent(ev)).toEqual(head)
    expect(() =>
      parseHeadEvent({
        ...ev,
        tags: [
          ['d', 'satmachine:audit-head'],
          ['size', '13'],
          ['root', head.root],
        ],
      }),
    ).toThrow(/tags.size/)
    expect(() => parseHeadEvent({ ...ev, content: ev.content.replace('12', '12 ') })).toThrow(/content/)
  })

  it('an attestation event parses back; the bounds must be the period’s', async () => {
    const b = quarterBounds('2026Q3')
    const a: QuarterAttestation = {
      period: '2026Q3',
      ...b,
      treeSize: 12,
      root: head.root,
      ledgerSeq: 40,
      headEventId: 'cd'.repeat(32),
      consolePubkey: 'ef'.repeat(32),
      closedAtMs: b.endMs + 5,
      manifestSha256: '01'.repeat(32),
    }
    const ev = await signer.signEvent(attestationTemplate(a, 1_790_000_000))
    expect(ev.kind).toBe(3080)
    expect(parseAttestationEvent(ev)).toEqual(a)
    const noManifest = await signer.signEvent(attestationTemplate({ ...a, manifestSha256: null }, 1_790_000_000))
    expect(parseAttestationEvent(noManifest).manifestSha256).toBeNull()
    const wrong = await signer.signEvent(attestationTemplate({ ...a, startMs: a.startMs + 1 }, 1_790_000_000))
    expect(() => parseAttestationEvent(wrong)).toThrow(/start_ms/)
  })
})

describe('quarters (UTC)', () => {
  it('bounds, membership and the next quarter', () => {
    expect(quarterBounds('2026Q4')).toEqual({ startMs: Date.UTC(2026, 9, 1), endMs: Date.UTC(2027, 0, 1) })
    expect(quarterOf(Date.UTC(2026, 9, 1) - 1)).toBe('2026Q3')
    expect(quarterOf(Date.UTC(2026, 9, 1))).toBe('2026Q4')
    expect(nextQuarter('2026Q4')).toBe('2027Q1')
    expect(() => quarterBounds('2026Q5')).toThrow(/period/)
  })
})
