// Interop: LP self-service (docs/lp-rpc.md) over a REAL relay process (test/support/relay.ts). Each LP is a plain
// nostr-tools client — SimplePool over `ws`, nostr-tools' own nip17 to send and open DMs, its nip44 for the RPC —
// talking to the console's relay pool, notice service and self-service on a real ledger. Expected figures are
// read from the ledger through the LP module's own procedures (lps.get, lps.statement, lps.history), never typed
// in. Covered: balance / history / statement by DM and by RPC equal to the msat and the minor unit; another LP
// never learns the first's figures; an unknown pubkey gets nothing (checked after its requests were handled and a
// later positive control reply arrived); replayed and expired requests refused, also across a console restart;
// one pubkey's flood rate-limited while the others are still answered.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js'
import * as toolsNip17 from 'nostr-tools/nip17'
import { npubEncode } from 'nostr-tools/nip19'
import * as toolsNip44 from 'nostr-tools/nip44'
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { readmeConfigArgs } from '../../src-main/accounting/test-support'
import '../../src-main/ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import { createLpSelfService, type HandledRequest, type LpSelfService } from '../../src-main/lp-service/service'
import type { LpRow, LpStatement } from '../../src-main/lps/procedures'
import { createRelayPool, type RelayPool } from '../../src-main/nostr/relay-pool'
import { createNoticeService } from '../../src-main/notices/service'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import type { Clock } from '../../src-shared/clock'
import type { LpHistoryView } from '../../src-shared/ipc/lps'
import { memoryLogger } from '../../src-shared/log'
import { periodLabel, periodRange } from '../../src-shared/lp-service/commands'
import {
  type BalanceResult,
  type ConfigResult,
  KIND_LP_RPC_REQUEST,
  KIND_LP_RPC_RESPONSE,
  type RpcResponse,
  type StatementResult,
  type TransactionsResult,
} from '../../src-shared/lp-service/rpc'
import { signTemplateWithKey } from '../../src-shared/nostr/event'
import { buildReceiptTemplate } from '../../src-shared/nostr/receipt'
import { formatFiat, formatSats } from '../../src-shared/notices/format'
import { monthOf } from '../../src-shared/notices/period'
import { type RelayHandle, startRelay } from '../support/relay'

useWebSocketImplementation(WebSocket)

const TZ = 'America/Guatemala'
const WAIT_MS = 30_000
const FLOOD_CAPACITY = 30
let relay: RelayHandle
let store: InProcessLedger
let consolePool: RelayPool
let service: LpSelfService
const dir = mkdtempSync(join(tmpdir(), 'lp-self-service-'))
const consoleSk = generateSecretKey()
const consolePk = getPublicKey(consoleSk)
const consoleSigner = createSoftwareSigner(consoleSk)
const NOW = Date.now()
let skewMs = 0
const clock: Clock = { nowMs: () => Date.now() + skewMs }
let receiptId = ''
let paidHash = ''

// ---- the console's handled-request stream (waits are on events, bounded) --------------------------------------

const handled: HandledRequest[] = []
const handledWaiters: Array<() => void> = []
function onHandled(h: HandledRequest) {
  handled.push(h)
  for (const w of handledWaiters.splice(0)) w()
}
async function waitHandled(pred: (h: HandledRequest) => boolean, count = 1): Promise<HandledRequest[]> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const got = handled.filter(pred)
    if (got.length >= count) return got
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`only ${got.length}/${count} matching requests handled`)
    await new Promise<void>((res) => {
      const t = setTimeout(res, left)
      handledWaiters.push(() => {
        clearTimeout(t)
        res()
      })
    })
  }
}

// ---- an LP's nostr-tools client -------------------------------------------------------------------------------

interface Client {
  sk: Uint8Array
  pk: string
  received: Event[]
  /** Next event addressed to this key matching `pred` (already received or arriving within WAIT_MS). */
  next(pred: (e: Event) => boolean): Promise<Event>
  dm(text: string): Promise<string>
  dmAnswer(): Promise<string>
  rpc(
    method: string,
    params?: Record<string, unknown>,
    o?: { id?: string; expiresInSec?: number },
  ): Promise<RpcResponse>
  sendRpc(method: string, params?: Record<string, unknown>, o?: { id?: string; expiresInSec?: number }): Promise<Event>
  answerTo(requestId: string): Promise<RpcResponse>
  close(): void
}

const clientPools: SimplePool[] = []

async function client(): Promise<Client> {
  const sk = generateSecretKey()
  const pk = getPublicKey(sk)
  const pool = new SimplePool()
  clientPools.push(pool)
  const received: Event[] = []
  const waiters: Array<() => void> = []
  const used = new Set<string>()
  await new Promise<void>((resolve) => {
    pool.subscribe(
      [relay.url],
      { kinds: [KIND_GIFT_WRAP_KIND, KIND_LP_RPC_RESPONSE], '#p': [pk] },
      {
        onevent(e) {
          received.push(e)
          for (const w of waiters.splice(0)) w()
        },
        oneose: () => resolve(),
      },
    )
  })
  async function next(pred: (e: Event) => boolean): Promise<Event> {
    const deadline = Date.now() + WAIT_MS
    for (;;) {
      const hit = received.find((e) => !used.has(e.id) && pred(e))
      if (hit) {
        used.add(hit.id)
        return hit
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('no answer arrived')
      await new Promise<void>((res) => {
        const t = setTimeout(res, left)
        waiters.push(() => {
          clearTimeout(t)
          res()
        })
      })
    }
  }
  const conv = () => toolsNip44.getConversationKey(sk, consolePk)
  const open = (e: Event) => JSON.parse(toolsNip44.decrypt(e.content, conv())) as RpcResponse
  async function sendRpc(
    method: string,
    params: Record<string, unknown> = {},
    o: { id?: string; expiresInSec?: number } = {},
  ): Promise<Event> {
    const id = o.id ?? bytesToHex(randomBytes(8))
    const now = Math.floor(Date.now() / 1000)
    const ev = finalizeEvent(
      {
        kind: KIND_LP_RPC_REQUEST,
        created_at: now,
        tags: [
          ['p', consolePk],
          ['expiration', String(now + (o.expiresInSec ?? 60))],
        ],
        content: toolsNip44.encrypt(JSON.stringify({ id, method, params }), conv()),
      },
      sk,
    )
    await Promise.any(pool.publish([relay.url], ev))
    return ev
  }
  async function answerTo(requestId: string): Promise<RpcResponse> {
    return open(
      await next((e) => e.kind === KIND_LP_RPC_RESPONSE && e.tags.some((t) => t[0] === 'e' && t[1] === requestId)),
    )
  }
  return {
    sk,
    pk,
    received,
    next,
    async dm(text) {
      const wrap = toolsNip17.wrapEvent(sk, { publicKey: consolePk, relayUrl: relay.url }, text)
      await Promise.any(pool.publish([relay.url], wrap))
      return wrap.id
    },
    async dmAnswer() {
      const wrap = await next((e) => e.kind === KIND_GIFT_WRAP_KIND)
      const rumor = toolsNip17.unwrapEvent(wrap, sk)
      expect(rumor.pubkey).toBe(consolePk)
      return rumor.content
    },
    sendRpc,
    answerTo,
    async rpc(method, params, o) {
      const ev = await sendRpc(method, params, o)
      const ans = await answerTo(ev.id)
      const e = received.find((x) => x.tags.some((t) => t[0] === 'e' && t[1] === ev.id))!
      // Every answer carries its own NIP-40 expiration, in the future.
      const exp = Number(e.tags.find((t) => t[0] === 'expiration')?.[1])
      expect(exp).toBeGreaterThan(Math.floor(Date.now() / 1000))
      expect(e.pubkey).toBe(consolePk)
      return ans
    },
    close: () => pool.close([relay.url]),
  }
}
const KIND_GIFT_WRAP_KIND = 1059

// ---- fixture --------------------------------------------------------------------------------------------------

let ana: Client
let beto: Client
let carla: Client
let stranger: Client
const POLICY = { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 10_000, maxFeeBaseMsat: '10000' }

async function startService(): Promise<void> {
  consolePool = await createRelayPool({ relays: [relay.url], backoff: { initialMs: 20, maxMs: 200 } })
  const log = memoryLogger('lp-service')
  const notices = createNoticeService({
    pool: consolePool,
    consoleSigner,
    clock,
    log,
    ledger: store,
    desktop: { show: () => undefined },
  })
  service = createLpSelfService({
    pool: consolePool,
    consoleSigner,
    ledger: store,
    clock,
    log,
    sendDm: (to, text) => notices.sendDirectMessage(to, text),
    timeZone: () => TZ,
    rateLimit: { capacity: FLOOD_CAPACITY, refillTokens: 1, perMs: 3_600_000 },
    onHandled,
  })
  await service.start()
}

beforeAll(async () => {
  relay = await startRelay()
  store = await openLedgerInProcess({ dir: join(dir, 'ledger'), logger: memoryLogger('ledger'), autoSnapshot: false })
  ;[ana, beto, carla, stranger] = await Promise.all([client(), client(), client(), client()])
  const at = NOW - 60_000
  await store.call('accounting.upsertMachine', { id: 'atm-1', name: 'Lobby', currency: 'GTQ', atMs: at })
  await store.call('accounting.setConfig', readmeConfigArgs(at))
  let n = 0
  for (const [id, name, c, amountMinor] of [
    ['ana', 'Ana', ana, '500000'],
    ['beto', 'Beto', beto, '300000'],
    ['carla', 'Carla', carla, '200000'],
  ] as const) {
    await store.call<LpRow>('lps.register', {
      id,
      npub: npubEncode(c.pk),
      pubkey: c.pk,
      name,
      currency: 'GTQ',
      mode: 'flow',
      destination: { kind: 'keysend', nodeId: `02${String(++n).repeat(64)}` },
      payout: POLICY,
      atMs: at,
    })
    await store.call('lps.recordDeposit', { id: `d-${id}`, lpId: id, amountMinor, atMs: at })
    await store.call('lps.confirmDeposit', { depositId: `d-${id}`, atMs: at })
  }
  // Two cash-outs with sub-sat remainders, so exactness to the msat is visible in the answers.
  const preimages = ['a1'.repeat(32), 'a2'.repeat(32)]
  const settlementIds: number[] = []
  for (const [i, pre] of preimages.entries()) {
    const r = await store.call<{ settlementId: number }>('accounting.bookSettlement', {
      machineId: 'atm-1',
      direction: 'cash_out',
      paymentHash: bytesToHex(sha256(hexToBytes(pre))),
      wireMsat: i === 0 ? '266800123' : '133400777',
      fiatMinor: i === 0 ? '200000' : '100000',
      currency: 'GTQ',
      atmEventId: `${String(i + 1).repeat(2)}`.repeat(32),
      createdAt: Math.floor(at / 1000),
      bookedAtMs: at + 1000 * (i + 1),
    })
    settlementIds.push(r.settlementId)
  }
  // The first settlement is processed and has its kind 3079 receipt (what `history` shows as receipt id).
  await store.call('accounting.claimSettlement', { settlementId: settlementIds[0], token: 't', atMs: at + 5000 })
  await store.call('accounting.completeSettlement', { settlementId: settlementIds[0], token: 't', atMs: at + 5000 })
  const receipt = signTemplateWithKey(
    buildReceiptTemplate(
      {
        recordEventId: '11'.repeat(32),
        operatorPubkey: getPublicKey(generateSecretKey()),
        atmPubkey: getPublicKey(generateSecretKey()),
        paymentHash: bytesToHex(sha256(hexToBytes(preimages[0]!))),
        preimage: preimages[0]!,
        amountMsat: 266_800_123n,
      },
      Math.floor(at / 1000),
    ),
    consoleSk,
  )
  receiptId = (
    await store.call<{ eventId: string }>('receipts.store', {
      settlementId: settlementIds[0],
      eventJson: JSON.stringify(receipt),
      atMs: at + 6000,
    })
  ).eventId
  // Ana's accrual is paid out once through the payout module's own transitions.
  const planned = await store.call<Array<{ id: string; recipientId: string; amountMsat: string }>>('payouts.plan', {
    nowMs: at + 10_000,
    connectionId: 'operator-wallet',
  })
  const p = planned.find((x) => x.recipientId === 'ana')!
  const pre = 'b7'.repeat(32)
  paidHash = bytesToHex(sha256(hexToBytes(pre)))
  await store.call('payouts.attachInvoice', {
    payoutId: p.id,
    bolt11: `keysend:02${'1'.repeat(64)}:${pre}`,
    paymentHash: paidHash,
    amountMsat: p.amountMsat,
    nowMs: at + 11_000,
  })
  await store.call('payouts.markSending', {
    payoutId: p.id,
    requestId: 'c3'.repeat(32),
    requestJson: '{}',
    requestExpiresAtSec: Math.floor(at / 1000) + 60,
    nowMs: at + 12_000,
  })
  await store.call('payouts.markPaid', {
    payoutId: p.id,
    preimage: pre,
    feesPaidMsat: '0',
    nowMs: at + 13_000,
    via: 'response',
  })
  await startService()
}, 120_000)

afterAll(async () => {
  service?.close()
  for (const c of clientPools) c.destroy()
  await consolePool?.close()
  await store?.close()
  await relay?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const lpGet = (lpId: string) => store.call<LpRow>('lps.get', { lpId })
const lpAllTime = (lpId: string) => store.call<LpStatement>('lps.statement', { lpId, fromMs: 0, toMs: Date.now() + 1 })
const month = () => monthOf(NOW, TZ)
const quarterLabel = () => {
  const m = Number(month().period.slice(5))
  return `${month().period.slice(0, 4)}-Q${Math.ceil(m / 3)}`
}

describe('LP self-service over a real relay process', () => {
  it('balance by DM and by RPC equals the ledger to the msat and the minor unit', async () => {
    const lp = await lpGet('ana')
    const all = await lpAllTime('ana')
    expect(BigInt(all.paidOutMsat)).toBeGreaterThan(0n)
    expect(BigInt(lp.accruedMsat) % 1000n).not.toBe(0n) // a sub-sat remainder is part of the answer

    await ana.dm('balance')
    const text = await ana.dmAnswer()
    expect(text).toContain(`Remaining fiat: ${formatFiat(BigInt(lp.balanceMinor), 'GTQ')}`)
    expect(text).toContain(`Sats accrued, not yet paid: ${formatSats(BigInt(lp.accruedMsat))}`)
    expect(text).toContain(`Sats earned in total: ${formatSats(BigInt(all.earnedMsat))}`)
    expect(text).toContain(`Sats paid out in total: ${formatSats(BigInt(all.paidOutMsat))}`)
    expect(text).toContain(paidHash.slice(0, 16))

    const r = await ana.rpc('getBalance')
    expect('result' in r).toBe(true)
    const b = (r as { result: BalanceResult }).result
    expect([
      b.lpId,
      b.currency,
      b.balanceMinor,
      b.accruedMsat,
      b.earnedMsat,
      b.paidMsat,
      b.pendingDepositsMinor,
    ]).toEqual([
      'ana',
      'GTQ',
      lp.balanceMinor,
      lp.accruedMsat,
      all.earnedMsat,
      all.paidOutMsat,
      lp.pendingDepositsMinor,
    ])
    expect(b.lastPayouts.map((p) => [p.paymentHash, p.amountMsat])).toEqual([[paidHash, all.paidOutMsat]])
  })

  it('history and statement by DM and by RPC equal the ledger', async () => {
    const hist = await store.call<LpHistoryView>('lps.history', { lpId: 'ana' })
    const settled = hist.lines.filter((l) => l.kind === 'allocation')
    expect(settled.length).toBe(2)

    await ana.dm('history')
    const text = await ana.dmAnswer()
    for (const l of settled) {
      expect(text).toContain(
        `settlement #${l.settlementId}: ${formatFiat(-BigInt(l.deltaMinor), 'GTQ')} → ${formatSats(BigInt(l.msat))}`,
      )
    }
    expect(text).toContain(`receipt ${receiptId}`)
    await ana.dm(`history ${month().period}`)
    expect(await ana.dmAnswer()).toContain(`settlement #${settled[0]!.settlementId}:`)

    const t = (await ana.rpc('getTransactions', { limit: 2 })) as { result: TransactionsResult }
    expect(t.result.lines.map((l) => [l.entryId, l.kind, l.deltaMinor, l.msat, l.balanceAfterMinor])).toEqual(
      hist.lines.slice(0, 2).map((l) => [l.entryId, l.kind, l.deltaMinor, l.msat, l.balanceAfterMinor]),
    )
    expect(t.result.next).not.toBeNull()
    const t2 = (await ana.rpc('getTransactions', { limit: 100, before: t.result.next })) as {
      result: TransactionsResult
    }
    expect([...t.result.lines, ...t2.result.lines].map((l) => l.entryId)).toEqual(hist.lines.map((l) => l.entryId))
    expect(t2.result.next).toBeNull()
    const withReceipt = [...t.result.lines, ...t2.result.lines].filter((l) => l.receiptId !== null)
    expect(withReceipt.map((l) => l.receiptId)).toEqual([receiptId])

    for (const label of [month().period, quarterLabel()]) {
      const spec = label.includes('Q')
        ? { kind: 'quarter' as const, year: Number(label.slice(0, 4)), quarter: Number(label.slice(6)) }
        : { kind: 'month' as const, year: Number(label.slice(0, 4)), month: Number(label.slice(5)) }
      expect(periodLabel(spec)).toBe(label)
      const range = periodRange(spec, TZ)
      const want = await store.call<LpStatement>('lps.statement', {
        lpId: 'ana',
        fromMs: range.fromMs,
        toMs: range.untilMs,
      })
      await ana.dm(`statement ${label}`)
      const st = await ana.dmAnswer()
      expect(st).toContain(`Statement ${label} (${TZ})`)
      expect(st).toContain(`Opening balance: ${formatFiat(BigInt(want.openingBalanceMinor), 'GTQ')}`)
      expect(st).toContain(`Deposits: ${formatFiat(BigInt(want.depositedMinor), 'GTQ')}`)
      expect(st).toContain(`Used by 2 settlement(s): ${formatFiat(BigInt(want.allocatedMinor), 'GTQ')}`)
      expect(st).toContain(`Closing balance: ${formatFiat(BigInt(want.closingBalanceMinor), 'GTQ')}`)
      expect(st).toContain(`Sats earned: ${formatSats(BigInt(want.earnedMsat))}`)
      expect(st).toContain(`Sats paid out: ${formatSats(BigInt(want.paidOutMsat))}`)
      const r = (await ana.rpc('getStatement', { period: label })) as { result: StatementResult }
      const s = r.result
      expect([
        s.period,
        s.fromMs,
        s.untilMs,
        s.openingBalanceMinor,
        s.depositedMinor,
        s.allocatedMinor,
        s.closingBalanceMinor,
        s.earnedMsat,
        s.paidOutMsat,
        s.openingAccruedMsat,
        s.closingAccruedMsat,
      ]).toEqual([
        label,
        range.fromMs,
        range.untilMs,
        want.openingBalanceMinor,
        want.depositedMinor,
        want.allocatedMinor,
        want.closingBalanceMinor,
        want.earnedMsat,
        want.paidOutMsat,
        want.openingAccruedMsat,
        want.closingAccruedMsat,
      ])
      expect(s.payouts.map((p) => p.paymentHash)).toEqual([paidHash])
    }

    const c = (await ana.rpc('getConfig')) as { result: ConfigResult }
    const lp = await lpGet('ana')
    expect(c.result).toEqual({
      mode: 'flow',
      dailyLimitMinor: null,
      currency: 'GTQ',
      payout: { thresholdMsat: lp.payout!.thresholdMsat, schedule: lp.payout!.schedule },
      destination: lp.destination,
    })
  })

  it('another LP only ever learns its own figures', async () => {
    const a = await lpGet('ana')
    const b = await lpGet('beto')
    expect(a.balanceMinor).not.toBe(b.balanceMinor)
    await beto.dm('balance')
    const text = await beto.dmAnswer()
    expect(text).toContain('Balance of Beto')
    expect(text).toContain(`Remaining fiat: ${formatFiat(BigInt(b.balanceMinor), 'GTQ')}`)
    expect(text).not.toContain('Ana')
    expect(text).not.toContain(formatFiat(BigInt(a.balanceMinor), 'GTQ'))
    expect(text).not.toContain(formatSats(BigInt(a.accruedMsat)))
    const r = (await beto.rpc('getBalance')) as { result: BalanceResult }
    expect([r.result.lpId, r.result.balanceMinor]).toEqual(['beto', b.balanceMinor])
    // There is no way to name another LP: an lpId parameter is refused, not honoured.
    const e = (await beto.rpc('getBalance', { lpId: 'ana' })) as { error: { code: string; message: string } }
    expect(e.error.code).toBe('bad_request')
    expect(JSON.stringify(e)).not.toContain(a.balanceMinor)
    // Beto cannot open what was sent to Ana.
    for (const ev of ana.received) expect(() => toolsNip17.unwrapEvent(ev, beto.sk)).toThrow()
  })

  it('an unknown pubkey gets no reply at all', async () => {
    const dmWrap = await stranger.dm('balance')
    const rpcEv = await stranger.sendRpc('getBalance')
    // Both were received and fully handled by the console (logged as refused, nothing built to send back) …
    const refused = await waitHandled((h) => h.pubkey === stranger.pk, 2)
    expect(refused.map((h) => [h.eventId, h.outcome, h.reason, h.replied]).sort()).toEqual(
      [
        [dmWrap, 'refused', 'unknown_pubkey', false],
        [rpcEv.id, 'refused', 'unknown_pubkey', false],
      ].sort(),
    )
    // … and a positive control asked after them is answered: had anything been sent to the stranger, it would have
    // been published before this answer.
    const control = (await ana.rpc('getConfig')) as { result: ConfigResult }
    expect(control.result.mode).toBe('flow')
    expect(stranger.received).toEqual([])
    const log = await store.call<{ unknown: Array<{ pubkey: string; reason: string }> }>('lpss.status', {})
    expect(log.unknown.filter((l) => l.pubkey === stranger.pk).map((l) => l.reason)).toEqual([
      'unknown_pubkey',
      'unknown_pubkey',
    ])
  })

  it('refuses a replayed RPC id and an expired or too long-lived request', async () => {
    const first = await ana.rpc('getBalance', {}, { id: 'same-id-1' })
    expect('result' in first).toBe(true)
    const again = await ana.rpc('getBalance', {}, { id: 'same-id-1' })
    expect(again).toEqual({ id: 'same-id-1', error: { code: 'replayed', message: 'replayed' } })
    const long = await ana.rpc('getBalance', {}, { expiresInSec: 3600 })
    expect('error' in long && long.error.code).toBe('expired')
    // The console's clock runs 11 minutes ahead: a request valid for 60 s is already expired when it arrives.
    skewMs = 660_000
    try {
      const late = await ana.rpc('getBalance', {}, { expiresInSec: 60 })
      expect('error' in late && late.error.code).toBe('expired')
    } finally {
      skewMs = 0
    }
  })

  it('rate-limits a flood from one pubkey while the others are still answered', async () => {
    const before = handled.filter((h) => h.pubkey === carla.pk).length
    expect(before).toBe(0)
    const flood = Array.from({ length: FLOOD_CAPACITY + 10 }, (_, i) =>
      carla.sendRpc('getBalance', {}, { id: `flood-${i}` }),
    )
    const [b, a] = await Promise.all([beto.rpc('getBalance'), ana.rpc('getBalance'), ...flood])
    expect((b as { result: BalanceResult }).result.lpId).toBe('beto')
    expect((a as { result: BalanceResult }).result.lpId).toBe('ana')
    const done = await waitHandled((h) => h.pubkey === carla.pk, FLOOD_CAPACITY + 10)
    expect(done.filter((h) => h.outcome === 'answered').length).toBe(FLOOD_CAPACITY)
    expect(done.filter((h) => h.reason === 'rate_limited').length).toBe(10)
    // Carla gets exactly the answered ones: wait for all of them, then a positive control to Ana after.
    for (let i = 0; i < FLOOD_CAPACITY; i++) await carla.next((e) => e.kind === KIND_LP_RPC_RESPONSE)
    await ana.rpc('getConfig')
    expect(carla.received.filter((e) => e.kind === KIND_LP_RPC_RESPONSE).length).toBe(FLOOD_CAPACITY)
    const st = await store.call<{ lps: Array<{ lpId: string; answered: number; refused: number }> }>('lpss.status', {})
    expect(st.lps.find((l) => l.lpId === 'carla')).toMatchObject({ answered: FLOOD_CAPACITY, refused: 10 })
  })

  it('after a console restart, stored DMs and re-sent requests are refused as replays, not answered again', async () => {
    const ev = await ana.sendRpc('getConfig', {}, { id: 'before-restart' })
    await ana.answerTo(ev.id)
    const wrapsBefore = ana.received.filter((e) => e.kind === KIND_GIFT_WRAP_KIND).length
    const dmWraps = handled.filter((h) => h.channel === 'dm' && h.pubkey === ana.pk).map((h) => h.eventId)
    service.close()
    await consolePool.close()
    await startService()
    // The relay stores gift wraps: the new subscription gets Ana's old DMs back; each is a logged replay.
    const replays = await waitHandled(
      (h) => h.channel === 'dm' && h.pubkey === ana.pk && h.reason === 'replayed',
      dmWraps.length,
    )
    expect(replays.map((h) => h.eventId).sort()).toEqual([...dmWraps].sort())
    expect(replays.every((h) => !h.replied)).toBe(true)
    // The very same signed RPC event sent again (ephemeral, so a replay needs a re-send) is refused.
    await clientPools[0]!.publish([relay.url], ev as Event)[0]
    const again = await ana.answerTo(ev.id)
    expect(again).toEqual({ id: 'before-restart', error: { code: 'replayed', message: 'replayed' } })
    // A positive control after: a fresh DM is answered, and no old DM was answered twice.
    await ana.dm('help')
    expect(await ana.dmAnswer()).toContain('Commands you can send me')
    expect(ana.received.filter((e) => e.kind === KIND_GIFT_WRAP_KIND).length).toBe(wrapsBefore + 1)
  })

  it('the operator can switch the service off per LP and globally', async () => {
    await store.call('lpss.setEnabled', { lpId: 'beto', enabled: false, author: 'operator', atMs: Date.now() })
    const off = await beto.rpc('getBalance')
    expect('error' in off && off.error.code).toBe('disabled')
    expect('result' in (await ana.rpc('getConfig'))).toBe(true)
    await store.call('lpss.setEnabled', { lpId: null, enabled: false, author: 'operator', atMs: Date.now() })
    const offAll = await ana.rpc('getConfig')
    expect('error' in offAll && offAll.error.code).toBe('disabled')
    await store.call('lpss.setEnabled', { lpId: null, enabled: true, author: 'operator', atMs: Date.now() })
    await store.call('lpss.setEnabled', { lpId: 'beto', enabled: true, author: 'operator', atMs: Date.now() })
    expect('result' in (await beto.rpc('getBalance'))).toBe(true)
    const st = await store.call<{ enabled: boolean; lps: Array<{ lpId: string; enabled: boolean }> }>('lpss.status', {})
    expect(st.enabled).toBe(true)
    expect(st.lps.every((l) => l.enabled)).toBe(true)
  })
})
