// Fuzz/property test of the record acceptance pipeline (docs/protocol.md §9): malformed input never crashes
// verifyRecord (every result is typed), and no single-field mutation of a valid record is ever accepted, whether
// the mutated event keeps its old id or has its id recomputed. Runs FUZZ_RUNS cases per property (default
// PROPS_RUNS / 10, else 10,000) and prints its seed; replay with PROPS_SEED.
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { computeEventId, type NostrEvent } from '../../src-shared/nostr/event'
import { REJECT_REASON_CODES, type VerifyRecordContext, verifyRecord } from '../../src-shared/nostr/verify-record'
import { type Scenario, scenario } from '../support/fleet-fixture'

// FUZZ_RUNS wins; else a tenth of PROPS_RUNS (npm test's 100,000 gives the usual 10,000); else 10,000.
const RUNS = Number(
  process.env.FUZZ_RUNS ??
    (process.env.PROPS_RUNS ? Math.max(100, Math.floor(Number(process.env.PROPS_RUNS) / 10)) : 10_000),
)
const SEED = process.env.PROPS_SEED ? Number(process.env.PROPS_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0
console.log(`[props] record fuzz: runs=${RUNS} seed=${SEED} (replay with PROPS_SEED=${SEED})`)

let sc: Scenario
let ctx: VerifyRecordContext
let valid: NostrEvent

beforeAll(async () => {
  sc = await scenario()
  ctx = sc.ctx()
  valid = sc.event
  const r = await verifyRecord(valid, ctx)
  if (!r.ok) throw new Error(`fixture record must be valid: ${r.reason} ${r.detail}`)
})

const hexChar = fc.constantFrom(...'0123456789abcdef'.split(''))
const junk = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
  fc.object({ maxDepth: 1 }),
)

/** Replaces the character at `pos` of a hex string with another hex character. */
const flipHex = (s: string, pos: number, c: string): string => {
  const i = pos % s.length
  const next = s[i] === c ? (c === '0' ? '1' : '0') : c
  return s.slice(0, i) + next + s.slice(i + 1)
}

type Mutation = { field: keyof NostrEvent; apply: (ev: Record<string, unknown>) => void; label: string }

const hexMutation = (field: 'id' | 'pubkey' | 'sig'): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.tuple(fc.nat(), hexChar).map(([pos, c]) => ({
      field,
      label: `${field} flip ${pos}`,
      apply: (ev: Record<string, unknown>) => {
        ev[field] = flipHex(ev[field] as string, pos, c)
      },
    })),
    junk.map((v) => ({
      field,
      label: `${field} = ${show(v)}`,
      apply: (ev: Record<string, unknown>) => {
        ev[field] = v
      },
    })),
  )

const createdAtMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .integer({ min: -1_000_000, max: 1_000_000 })
    .filter((d) => d !== 0)
    .map((d) => ({
      field: 'created_at' as const,
      label: `created_at + ${d}`,
      apply: (ev: Record<string, unknown>) => {
        ev.created_at = (ev.created_at as number) + d
      },
    })),
  junk.map((v) => ({
    field: 'created_at' as const,
    label: `created_at = ${show(v)}`,
    apply: (ev: Record<string, unknown>) => {
      ev.created_at = v
    },
  })),
)

const kindMutation: fc.Arbitrary<Mutation> = fc.oneof(fc.integer({ min: -5, max: 70_000 }), junk).map((v) => ({
  field: 'kind' as const,
  label: `kind = ${show(v)}`,
  apply: (ev: Record<string, unknown>) => {
    ev.kind = v
  },
}))

const contentMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([pos, s]) => ({
    field: 'content' as const,
    label: `content splice ${pos} ${JSON.stringify(s)}`,
    apply: (ev: Record<string, unknown>) => {
      const c = ev.content as string
      const i = pos % (c.length + 1)
      ev.content = c.slice(0, i) + s + c.slice(i + 1)
    },
  })),
  junk.map((v) => ({
    field: 'content' as const,
    label: `content = ${show(v)}`,
    apply: (ev: Record<string, unknown>) => {
      ev.content = v
    },
  })),
)

const tagsMutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Change one element of one tag.
  fc.tuple(fc.nat(), fc.nat(), fc.oneof(fc.string({ maxLength: 70 }), junk)).map(([ti, ei, v]) => ({
    field: 'tags' as const,
    label: `tags[${ti}][${ei}] = ${show(v)}`,
    apply: (ev: Record<string, unknown>) => {
      const tags = ev.tags as unknown[][]
      const t = tags[ti % tags.length]!
      t[ei % (t.length + 1)] = v
    },
  })),
  // Flip one character of one tag element (keeps the shape, e.g. a hex key one char off).
  fc.tuple(fc.nat(), fc.nat(), fc.nat(), hexChar).map(([ti, ei, pos, c]) => ({
    field: 'tags' as const,
    label: `tags[${ti}][${ei}] flip ${pos}`,
    apply: (ev: Record<string, unknown>) => {
      const tags = ev.tags as string[][]
      const t = tags[ti % tags.length]!
      const j = ei % t.length
      t[j] = t[j]!.length === 0 ? c : flipHex(t[j]!, pos, c)
    },
  })),
  fc.nat().map((ti) => ({
    field: 'tags' as const,
    label: `drop tags[${ti}]`,
    apply: (ev: Record<string, unknown>) => {
      const tags = ev.tags as unknown[]
      tags.splice(ti % tags.length, 1)
    },
  })),
  fc.tuple(fc.nat(), fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 3 })).map(([ti, t]) => ({
    field: 'tags' as const,
    label: `insert tag ${JSON.stringify(t)} at ${ti}`,
    apply: (ev: Record<string, unknown>) => {
      const tags = ev.tags as unknown[]
      tags.splice(ti % (tags.length + 1), 0, t)
    },
  })),
  fc.nat().map((ti) => ({
    field: 'tags' as const,
    label: `duplicate tags[${ti}]`,
    apply: (ev: Record<string, unknown>) => {
      const tags = ev.tags as string[][]
      const t = tags[ti % tags.length]!
      tags.push([...t])
    },
  })),
  junk.map((v) => ({
    field: 'tags' as const,
    label: `tags = ${show(v)}`,
    apply: (ev: Record<string, unknown>) => {
      ev.tags = v
    },
  })),
)

const mutation = fc.oneof(
  hexMutation('id'),
  hexMutation('pubkey'),
  hexMutation('sig'),
  createdAtMutation,
  kindMutation,
  contentMutation,
  tagsMutation,
)

function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? typeof v
  } catch {
    return typeof v
  }
}

function clone(ev: NostrEvent): Record<string, unknown> {
  return { ...ev, tags: ev.tags.map((t) => [...t]) }
}

function expectTypedRejection(r: Awaited<ReturnType<typeof verifyRecord>>, label: () => string): void {
  if (r.ok) throw new Error(`mutation accepted: ${label()}`)
  expect(REJECT_REASON_CODES).toContain(r.reason)
  expect(typeof r.detail).toBe('string')
  expect(typeof r.retryable).toBe('boolean')
}

describe('record fuzz', () => {
  it(`rejects every single-field mutation of a valid record (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(mutation, fc.boolean(), async (m, rehash) => {
        const ev = clone(valid)
        m.apply(ev)
        // A "mutation" that happens to reproduce the original value is not a mutation.
        fc.pre(
          JSON.stringify(ev[m.field]) !== JSON.stringify(valid[m.field]) || !(m.field in ev) !== !(m.field in valid),
        )
        if (rehash && m.field !== 'id') {
          try {
            ev.id = computeEventId(ev as unknown as NostrEvent)
          } catch {
            // The mutated fields cannot even be serialized; verify the event as it is.
          }
        }
        expectTypedRejection(await verifyRecord(ev, ctx), () => m.label)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it(`returns a typed rejection for arbitrary input, never throws (${RUNS} runs)`, async () => {
    const hex = (n: number) => fc.string({ unit: hexChar, minLength: n, maxLength: n })
    const eventLike = fc.record(
      {
        id: fc.oneof(hex(64), junk),
        pubkey: fc.oneof(fc.constant(valid.pubkey), hex(64), junk),
        created_at: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), junk),
        kind: fc.oneof(fc.constant(30079), fc.integer(), junk),
        tags: fc.oneof(
          fc.constant(valid.tags),
          fc.array(fc.array(fc.string({ maxLength: 70 }), { maxLength: 5 })),
          junk,
        ),
        content: fc.oneof(fc.constant(valid.content), fc.string(), junk),
        sig: fc.oneof(fc.constant(valid.sig), hex(128), junk),
      },
      { requiredKeys: [] },
    )
    await fc.assert(
      fc.asyncProperty(fc.oneof(eventLike, fc.anything()), async (input) => {
        expectTypedRejection(await verifyRecord(input, ctx), () => show(input))
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })
})
