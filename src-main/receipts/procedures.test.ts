// Receipt ledger procedures: what is due, store-before-publish idempotency (the first stored receipt wins),
// integrity checks against the settlement, the attempt log, and append-only enforcement.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signTemplateWithKey } from '../../src-shared/nostr/event'
import { buildReceiptTemplate } from '../../src-shared/nostr/receipt'
import { seedReadme, T0_MS } from '../accounting/test-support'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { DueReceipt, ReceiptStatus, UnverifiedReceipt } from './procedures'
import { receiptRetryDelayMs } from './service'

const dir = mkdtempSync(join(tmpdir(), 'receipts-proc-'))
let ledger: InProcessLedger
const sk = generateSecretKey()
const atm = getPublicKey(generateSecretKey())
const operator = getPublicKey(generateSecretKey())
const preimage = '9a'.repeat(32)
const paymentHash = bytesToHex(sha256(hexToBytes(preimage)))
const recordId = 'e5'.repeat(32)
let settlementId = 0

const receiptJson = (over: { amountMsat?: bigint; createdAt?: number } = {}) =>
  JSON.stringify(
    signTemplateWithKey(
      buildReceiptTemplate(
        {
          recordEventId: recordId,
          operatorPubkey: operator,
          atmPubkey: atm,
          paymentHash,
          preimage,
          amountMsat: over.amountMsat ?? 266_800_000n,
        },
        over.createdAt ?? 1_800_000_000,
      ),
      sk,
    ),
  )

beforeAll(async () => {
  ledger = await openLedgerInProcess({ dir, autoSnapshot: false })
  await seedReadme(ledger)
  const r = await ledger.call<{ settlementId: number }>('accounting.bookSettlement', {
    machineId: 'atm-1',
    direction: 'cash_out',
    paymentHash,
    wireMsat: '266800000',
    fiatMinor: '200000',
    currency: 'GTQ',
    atmEventId: recordId,
    createdAt: Math.floor(T0_MS / 1000),
    bookedAtMs: T0_MS,
  })
  settlementId = r.settlementId
  await ledger.transaction([
    {
      sql: `INSERT INTO fleet_record_outcome (event_id, atm_pubkey, tx_id, payment_hash, created_at, outcome, retryable,
              raw_json, received_at_ms) VALUES (?, ?, 'tx-1', ?, ?, 'booked', 0, '{}', ?)`,
      params: [recordId, atm, paymentHash, Math.floor(T0_MS / 1000), T0_MS],
    },
  ])
})

afterAll(async () => {
  await ledger?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('receipts procedures', () => {
  it('lists a settlement only once it is processed, and refuses to store a receipt before', async () => {
    expect(await ledger.call('receipts.due', {})).toEqual([])
    await expect(
      ledger.call('receipts.store', { settlementId, eventJson: receiptJson(), atMs: T0_MS }),
    ).rejects.toMatchObject({ details: { field: 'settlementId' } })
    await ledger.call('accounting.claimSettlement', { settlementId, token: 't', atMs: T0_MS })
    await ledger.call('accounting.completeSettlement', { settlementId, token: 't', atMs: T0_MS })
    expect(await ledger.call<DueReceipt[]>('receipts.due', {})).toEqual([
      {
        settlementId,
        paymentHash,
        recordEventId: recordId,
        atmPubkey: atm,
        amountMsat: '266800000',
        direction: 'cash_out',
      },
    ])
  })

  it('refuses a receipt whose amount disagrees with the settlement; the first stored receipt wins', async () => {
    await expect(
      ledger.call('receipts.store', { settlementId, eventJson: receiptJson({ amountMsat: 1n }), atMs: T0_MS }),
    ).rejects.toMatchObject({ details: { field: 'eventJson' } })
    const first = receiptJson({ createdAt: 1_800_000_000 })
    const second = receiptJson({ createdAt: 1_800_000_999 })
    const a = await ledger.call<{ created: boolean; eventJson: string }>('receipts.store', {
      settlementId,
      eventJson: first,
      atMs: T0_MS,
    })
    const b = await ledger.call<{ created: boolean; eventJson: string }>('receipts.store', {
      settlementId,
      eventJson: second,
      atMs: T0_MS + 1,
    })
    expect(a.created).toBe(true)
    expect(b).toEqual({ created: false, eventJson: first, eventId: JSON.parse(first).id })
    expect(await ledger.call('receipts.due', {})).toEqual([])
    expect(await ledger.call('receipts.summary')).toEqual({ due: 0, unverified: 1, verified: 0 })
  })

  it('logs attempts append-only; verified once ends the retries', async () => {
    const [u] = await ledger.call<UnverifiedReceipt[]>('receipts.unverified', {})
    expect(u).toMatchObject({ settlementId, attempts: 0, lastAttemptAtMs: null })
    const at = (kind: string, atMs: number) =>
      ledger.call<{ recorded: boolean }>('receipts.recordAttempt', { eventId: u!.eventId, kind, relaysOk: 1, atMs })
    await at('publish_failed', 10)
    await at('published', 20)
    expect(await at('verified', 30)).toEqual({ recorded: true })
    expect(await at('verified', 40)).toEqual({ recorded: false })
    const st = await ledger.call<ReceiptStatus>('receipts.status', { settlementId })
    expect(st.verified).toBe(true)
    expect(st.attempts.map((t) => t.kind)).toEqual(['publish_failed', 'published', 'verified'])
    expect(await ledger.call('receipts.unverified', {})).toEqual([])
    await expect(
      ledger.call('receipts.recordAttempt', { eventId: u!.eventId, kind: 'nope', relaysOk: 0, atMs: 1 }),
    ).rejects.toMatchObject({ details: { field: 'kind' } })
    await expect(ledger.transaction([{ sql: 'DELETE FROM rcpt_receipt' }])).rejects.toThrow(/append-only/)
    await expect(ledger.transaction([{ sql: "UPDATE rcpt_attempt SET kind = 'verified'" }])).rejects.toThrow(
      /append-only/,
    )
  })

  it('backs off exponentially with a cap', () => {
    expect(receiptRetryDelayMs(0, 1000, 60_000)).toBe(0)
    expect(receiptRetryDelayMs(1, 1000, 60_000)).toBe(1000)
    expect(receiptRetryDelayMs(3, 1000, 60_000)).toBe(4000)
    expect(receiptRetryDelayMs(40, 1000, 60_000)).toBe(60_000)
  })
})
