// `satmachine audit-proof` (docs/audit.md §8): the inclusion proof of an entry and the consistency proof between two
// signed sizes verify against the console-signed heads' roots (with `--check` and with `verifyProofDoc`), and fail,
// naming the field, when the entry, a path hash, the root or the head is changed.
import * as fs from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type ProofDoc, verifyProofDoc } from '../../src-shared/audit/proof'
import { decodeEntry } from '../../src-shared/audit/types'
import { createLogger } from '../../src-shared/log'
import { AuditHeadWriter } from '../audit/heads'
import { main } from '../cli'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import { createSoftwareSigner } from '../signer/software-signer'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const signer = createSoftwareSigner(new Uint8Array(32).fill(7))
const T0 = Date.UTC(2026, 10, 2, 12)

function settlementSql(id: number) {
  return {
    sql: `INSERT INTO acct_settlement (id, payment_hash, machine_id, direction, record_created_at, booked_at_ms, wire_msat,
      fiat_minor, fiat_requested_minor, currency, status, status_changed_at_ms) VALUES (?, ?, 'm1', 'cash_out', ?, ?, ?, 2000, 2000, 'EUR', 'pending', ?)`,
    params: [id, id.toString(16).padStart(64, '0'), 1_790_000_000, T0 + id, 21_000_000n * BigInt(id), T0 + id],
  }
}

/** A stopped console's data directory with two signed heads: after three settlements, then after three more. */
async function seeded() {
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-proof-'))
  dirs.push(dataDir)
  const store = await openLedgerInProcess({ dir: join(dataDir, 'ledger'), autoSnapshot: false })
  await store.transaction([
    {
      sql: "INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES ('m1', 'Lobby machine', 'EUR', ?)",
      params: [T0],
    },
  ])
  let now = T0
  const w = await AuditHeadWriter.open({
    store,
    dataDir,
    log: createLogger(() => {}, 'test'),
    signer,
    consolePubkey: await signer.getPublicKey(),
    nowMs: () => now,
  })
  for (let i = 1; i <= 3; i++) await store.transaction([settlementSql(i)])
  const first = (await w.sync())!
  for (let i = 4; i <= 6; i++) await store.transaction([settlementSql(i)])
  now += 60_000
  const second = (await w.sync())!
  await store.close()
  return { dataDir, first, second, pk: await signer.getPublicKey() }
}

async function cli(args: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(['audit-proof', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out, err }
}

const flip = (hex: string) => `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`

describe('satmachine audit-proof', () => {
  it('proves an entry is in the log under the newest signed head, and a changed proof fails naming the field', async () => {
    const { dataDir, second, pk } = await seeded()
    const r = await cli(['--data-dir', dataDir, '--entry', 'acct_settlement:2'])
    expect(r.err).toEqual([])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.out.join('\n')) as ProofDoc & { type: 'inclusion' }
    expect(doc).toMatchObject({ type: 'inclusion', tree_size: second.head.treeSize, root: second.head.root })
    expect(doc.head?.id).toBe(second.event.id)
    const e = decodeEntry(Buffer.from(doc.entry, 'hex'))
    expect(e).toMatchObject({ table: 'acct_settlement', rowid: '2' })
    expect(verifyProofDoc(doc, { consolePubkey: pk, requireHead: true }).statement).toMatch(
      /acct_settlement rowid 2 .* is in the log of \d+ entries .* signed by the console/,
    )

    // Through the command line, as a third party would.
    const file = join(dataDir, 'proof.json')
    fs.writeFileSync(file, JSON.stringify(doc))
    const ok = await cli(['--check', file, '--console-pubkey', pk])
    expect(ok.code).toBe(0)
    expect(ok.out[0]).toMatch(/^OK: audit entry #\d+, acct_settlement rowid 2/)

    // The entry edited (its wire amount), a path hash changed, the root changed, the head of another size.
    const edited = Buffer.from(doc.entry, 'hex')
    const at = edited.indexOf(Buffer.from(String(42_000_000n)))
    expect(at).toBeGreaterThan(0)
    edited.write('9', at, 'latin1')
    expect(() => verifyProofDoc({ ...doc, entry: edited.toString('hex') })).toThrow(/^leaf_hash: is not the hash/)
    const p = [...doc.path]
    p[0] = flip(p[0]!)
    expect(() => verifyProofDoc({ ...doc, path: p })).toThrow(/^path: does not lead from entry/)
    expect(() => verifyProofDoc({ ...doc, root: flip(doc.root) })).toThrow(/^path: does not lead/)
    fs.writeFileSync(file, JSON.stringify({ ...doc, path: p }))
    const bad = await cli(['--check', file])
    expect(bad.code).toBe(1)
    expect(bad.err[0]).toMatch(/the proof does not hold: path:/)
    // A bare root (no head) is refused when the verifier asks for a signed one.
    expect(() => verifyProofDoc({ ...doc, head: null }, { consolePubkey: pk, requireHead: true })).toThrow(/^head:/)
    expect(() => verifyProofDoc(doc, { consolePubkey: 'ab'.repeat(32) })).toThrow(/^head: is not a valid signed head/)
  })

  it('proves the older signed log is a prefix of the newer one, and a changed proof fails', async () => {
    const { dataDir, first, second, pk } = await seeded()
    const r = await cli([
      '--data-dir',
      dataDir,
      '--consistency',
      String(first.head.treeSize),
      String(second.head.treeSize),
    ])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.out.join('\n')) as ProofDoc & { type: 'consistency' }
    expect(doc).toMatchObject({ old_root: first.head.root, new_root: second.head.root })
    expect(doc.old_head?.id).toBe(first.event.id)
    expect(doc.new_head?.id).toBe(second.event.id)
    expect(verifyProofDoc(doc, { consolePubkey: pk, requireHead: true }).heads).toEqual([
      first.event.id,
      second.event.id,
    ])
    const p = [...doc.path]
    p[p.length - 1] = flip(p[p.length - 1]!)
    expect(() => verifyProofDoc({ ...doc, path: p })).toThrow(/^path: does not prove/)
    expect(() => verifyProofDoc({ ...doc, old_root: flip(doc.old_root), old_head: null })).toThrow(/^path:/)
    // A head over another size than the one claimed.
    expect(() => verifyProofDoc({ ...doc, old_head: doc.new_head })).toThrow(/^old_head: is signed over \d+ entries/)
  })

  it('refuses usage errors with exit 2 and an entry that is not in the log with exit 1', async () => {
    const { dataDir } = await seeded()
    expect((await cli(['--data-dir', dataDir])).code).toBe(2)
    expect((await cli(['--data-dir', dataDir, '--entry', '1', '--consistency', '1', '2'])).code).toBe(2)
    const missing = await cli(['--data-dir', dataDir, '--entry', 'acct_settlement:99'])
    expect(missing.code).toBe(1)
    expect(missing.err[0]).toMatch(/acct_settlement rowid 99 has no entry in the audit log/)
  })
})
