// Crash harness for payouts (issue 5, Done-when 2; src-main/payouts/README.md): a child process — the
// console, i.e. the worker-backed ledger and the payout runner — books 500 settlements and pays their legs over
// NIP-47 through a real relay process to the real @getalby/sdk wallet service, which lives in THIS process with
// the simulated Lightning ledger, so the wallet side survives every kill. 20 rounds: the child is SIGKILLed at a
// seeded random point (either by us after a random number of payment steps it reported, or by itself at the n-th
// pass of a named crash point such as "journaled but not yet published"), then restarted. A final run without
// kills drains everything. Then, counted on the WALLET side: zero double payments, zero lost legs, conservation,
// and every payout paid or on the worklist with its reason. Reproduce with PAYOUT_CRASH_SEED=<printed seed>.
// The platform fee recipient and the commission splits are set up as the operator does it, through the recipients
// module's procedures (destination + whole-sat threshold, src-main/recipients/), and are paid in the same rounds as
// the LPs: each of them must end with 0 double and 0 lost payments too, counted on its own wallet.
import { type ChildProcess, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import '../../src-main/ledger/registry'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { type BuiltLedgerWorker, buildLedgerWorker } from '../../src-main/ledger/test-support'
import type { PayoutWorklist } from '../../src-main/payouts/procedures'
import type { PayoutCrashPoint } from '../../src-main/payouts/runner'
import { LightningNetwork, type SimWallet } from '../support/lightning'
import { recipientKey, SEEDED_RECIPIENTS, seedAccounting, setPolicies } from '../support/payout-fixture'
import { type RelayHandle, startRelay } from '../support/relay'
import { startWalletService, type WalletConnection, type WalletServiceFixture } from '../support/wallet-service'

const ROUNDS = 20
const SETTLEMENTS = 500
const THRESHOLD_MSAT = 20_000n
const OPENING_MSAT = 100_000_000_000n
const seed = Number(process.env.PAYOUT_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const POINTS: PayoutCrashPoint[] = ['invoice_stored', 'sending_journaled', 'published', 'response_received']

function prng(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

let built: BuiltLedgerWorker
let dir: string
let relay: RelayHandle
let svc: WalletServiceFixture
let net: LightningNetwork
let op: WalletConnection
const wallets: Record<string, SimWallet> = {}
let configPath: string

beforeAll(async () => {
  built = await buildLedgerWorker({ extraEntries: { 'payout-child': 'test/crash/payout-child.ts' } })
  dir = fs.mkdtempSync(join(tmpdir(), 'payout-crash-'))
  relay = await startRelay()
  net = new LightningNetwork()
  svc = await startWalletService({ relayUrls: [relay.url], network: net })
  op = await svc.fundedConnection('operator', OPENING_MSAT)
  const recipientUris: Record<string, string> = {}
  const recipientPubkeys: Record<string, string> = {}
  for (const r of SEEDED_RECIPIENTS) {
    const w = net.createWallet(recipientKey(r), 0n)
    const c = await svc.addConnection({ wallet: w, methods: ['make_invoice', 'lookup_invoice'] })
    wallets[recipientKey(r)] = w
    recipientUris[recipientKey(r)] = c.uri
    recipientPubkeys[recipientKey(r)] = c.walletPubkey
  }
  const ledgerDir = join(dir, 'ledger')
  const atMs = Date.now()
  const s = await openLedgerInProcess({ dir: ledgerDir })
  await seedAccounting(s, atMs)
  await setPolicies(
    s,
    atMs,
    { thresholdMsat: THRESHOLD_MSAT },
    SEEDED_RECIPIENTS.filter((r) => r.kind === 'lp'),
  )
  for (const r of SEEDED_RECIPIENTS.filter((x) => x.kind !== 'lp')) {
    const who = { recipientKind: r.kind, recipientId: r.id, author: 'operator', atMs }
    await s.call('recipients.setDestination', {
      ...who,
      // The child pays through each recipient's own NWC connection (walletInvoiceResolver); the ledger names it.
      destination: {
        kind: 'nwc',
        secretSlot: `nwc:${r.kind}:${r.id}`,
        walletPubkey: recipientPubkeys[recipientKey(r)],
      },
      check: { ok: true, text: 'the wallet answered on its relays and can create invoices' },
    })
    await s.call('recipients.setThreshold', { ...who, thresholdMsat: THRESHOLD_MSAT.toString() })
  }
  await s.close()
  configPath = join(dir, 'child.json')
  fs.writeFileSync(
    configPath,
    JSON.stringify({
      dir: ledgerDir,
      operatorUri: op.uri,
      recipientUris,
      settlements: SETTLEMENTS,
      bookedAtMs: atMs,
      chunk: 10,
    }),
  )
}, 60_000)

afterAll(async () => {
  await svc?.close()
  await relay?.stop()
  built?.dispose()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

interface RoundResult {
  steps: number
  paid: number
  done: boolean
  killed: boolean
}

/**
 * Runs the child until: it has printed `killAfterSteps` STEP lines (then we SIGKILL it), it kills itself
 * (`selfKill`), or it prints DONE.
 */
function runRound(o: { killAfterSteps?: number; selfKill?: string; deadlineMs?: number }): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    const args = [built.entries['payout-child']!, configPath, built.workerUrl.href]
    if (o.selfKill) args.push(o.selfKill)
    const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let buf = ''
    let stderr = ''
    const res: RoundResult = { steps: 0, paid: 0, done: false, killed: false }
    const deadline = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child made no progress in time (steps=${res.steps} paid=${res.paid}) ${stderr.slice(-2000)}`))
    }, o.deadlineMs ?? 30_000)
    const kill = () => {
      if (res.killed) return
      res.killed = true
      child.kill('SIGKILL')
    }
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl = buf.indexOf('\n')
      while (nl >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        nl = buf.indexOf('\n')
        if (line.startsWith('STEP ')) {
          res.steps++
          if (o.killAfterSteps !== undefined && res.steps >= o.killAfterSteps) kill()
        } else if (line.startsWith('PAID ')) res.paid++
        else if (line === 'DONE') res.done = true
        else if (line.startsWith('FAIL')) {
          kill()
          reject(new Error(`child said: ${line} ${stderr.slice(-2000)}`))
        }
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(deadline)
      if (signal === 'SIGKILL') res.killed = true
      if (!res.killed && code !== 0) return reject(new Error(`child exited with ${code} ${stderr.slice(-2000)}`))
      resolve(res)
    })
  })
}

it(`pays ${SETTLEMENTS} settlements exactly once across ${ROUNDS} SIGKILLs (seed ${seed})`, async () => {
  console.log(`[payout-crash] seed=${seed} (set PAYOUT_CRASH_SEED to replay)`)
  const rand = prng(seed)
  const log: string[] = []
  let finishedEarly = false
  for (let round = 0; round < ROUNDS; round++) {
    const self = rand() < 0.5
    const plan = self
      ? { selfKill: `${POINTS[Math.floor(rand() * POINTS.length)]}:${1 + Math.floor(rand() * 6)}` }
      : { killAfterSteps: 1 + Math.floor(rand() * 40) }
    const r = await runRound(plan)
    log.push(`${round}:${plan.selfKill ?? `steps=${plan.killAfterSteps}`}→paid ${r.paid}${r.done ? ' DONE' : ''}`)
    // One line per round as it ends, so a run that runs out of time still shows how far it got.
    console.log(`[payout-crash] round ${round + 1}/${ROUNDS}: ${log.at(-1)}`)
    if (r.done) {
      finishedEarly = true
      break
    }
    expect(r.killed, `round ${round} ended without a kill`).toBe(true)
  }
  console.log(`[payout-crash] rounds: ${log.join(' | ')}`)
  if (!finishedEarly) {
    const last = await runRound({ deadlineMs: 120_000 })
    expect(last.done).toBe(true)
  }

  // ---- the wallet side ----------------------------------------------------------------------------------------
  const s = await openLedgerInProcess({ dir: join(dir, 'ledger') })
  try {
    const payouts = await s.query<{
      id: string
      state: string
      recipient_kind: string
      recipient_id: string
      amount_msat: bigint
      payment_hash: string | null
      fees_paid_msat: bigint | null
    }>('SELECT id, state, recipient_kind, recipient_id, amount_msat, payment_hash, fees_paid_msat FROM payout', [], {
      bigint: true,
    })
    const paid = payouts.filter((p) => p.state === 'paid')
    const outgoing = op.wallet.transactions.filter((x) => x.type === 'outgoing' && x.state === 'settled')
    // Zero double payments: one wallet payment per paid payout, each payment hash paid exactly once, and no
    // wallet payment the ledger does not know as paid.
    const byHash = new Map<string, number>()
    for (const x of outgoing) byHash.set(x.paymentHash, (byHash.get(x.paymentHash) ?? 0) + 1)
    expect([...byHash.values()].every((c) => c === 1)).toBe(true)
    expect(outgoing.length).toBe(paid.length)
    const paidHashes = new Set(paid.map((p) => p.payment_hash))
    expect(outgoing.every((x) => paidHashes.has(x.paymentHash))).toBe(true)
    // At most one paid payout per (recipient, payment) and every hash distinct across payouts.
    expect(new Set(payouts.map((p) => p.payment_hash).filter((h) => h !== null)).size).toBe(
      payouts.filter((p) => p.payment_hash !== null).length,
    )

    // Every payout paid, or on the worklist with its reason; nothing left in flight.
    const wl = await s.call<PayoutWorklist>('payouts.worklist', {})
    for (const p of payouts) {
      if (p.state === 'paid') continue
      expect(p.state, `payout ${p.id}`).toBe('failed_final')
      const item = wl.items.find((i) => i.id === p.id)
      expect(item?.worklistReason, `payout ${p.id} on the worklist`).toBeTruthy()
    }

    // Zero lost legs: per recipient, what its wallet received + what is still accrued = the legs booked for it,
    // and what is still accrued is below the payout threshold (everything payable was paid).
    const [{ n }] = (await s.query<{ n: number }>('SELECT count(*) AS n FROM acct_settlement')) as [{ n: number }]
    expect(Number(n)).toBe(SETTLEMENTS)
    let receivedTotal = 0n
    const perRecipient: string[] = []
    for (const r of SEEDED_RECIPIENTS) {
      const legKind = r.kind === 'platform' ? 'platform_fee' : r.kind
      const [legs] = await s.query<{ s: bigint }>(
        'SELECT COALESCE(SUM(msat), 0) AS s FROM acct_leg WHERE kind = ? AND recipient_id = ?',
        [legKind, r.id],
        { bigint: true },
      )
      const [acc] = await s.query<{ b: bigint }>(
        'SELECT balance_after_msat AS b FROM acct_accrual WHERE recipient_kind = ? AND recipient_id = ? ORDER BY id DESC LIMIT 1',
        [r.kind, r.id],
        { bigint: true },
      )
      const received = wallets[recipientKey(r)]!.balanceMsat
      const ledgerPaid = paid
        .filter((p) => p.recipient_kind === r.kind && p.recipient_id === r.id)
        .reduce((a, p) => a + BigInt(p.amount_msat), 0n)
      expect(received, `${recipientKey(r)} received = paid payouts`).toBe(ledgerPaid)
      expect(received + BigInt(acc!.b), `${recipientKey(r)} legs = received + accrued`).toBe(BigInt(legs!.s))
      expect(BigInt(acc!.b) < THRESHOLD_MSAT, `${recipientKey(r)} accrual below threshold`).toBe(true)
      // Legs are marked paid in booking order as payouts cover them: what is unmarked is the accrual plus at most
      // the already-paid part of the first unmarked leg.
      const unmarked = await s.query<{ msat: bigint }>(
        'SELECT msat FROM acct_leg WHERE kind = ? AND recipient_id = ? AND paid_ref IS NULL ORDER BY id',
        [legKind, r.id],
        { bigint: true },
      )
      const unmarkedSum = unmarked.reduce((a, l) => a + BigInt(l.msat), 0n)
      const slack = unmarkedSum - BigInt(acc!.b)
      expect(slack >= 0n, `${recipientKey(r)} marked legs never exceed what was paid`).toBe(true)
      expect(slack === 0n || slack < BigInt(unmarked[0]!.msat), `${recipientKey(r)} legs marked as paid`).toBe(true)
      receivedTotal += received
      // The platform and each split were paid in these rounds, not left accruing.
      const mine = paid.filter((p) => p.recipient_kind === r.kind && p.recipient_id === r.id)
      expect(mine.length, `${recipientKey(r)} paid across the kills`).toBeGreaterThan(1)
      const walletHashes = wallets[recipientKey(r)]!.transactions.filter(
        (x) => x.type === 'incoming' && x.state === 'settled',
      ).map((x) => x.paymentHash)
      expect(walletHashes.length, `${recipientKey(r)}: one wallet payment per paid payout`).toBe(mine.length)
      expect(new Set(walletHashes)).toEqual(new Set(mine.map((p) => p.payment_hash)))
      perRecipient.push(`${recipientKey(r)}=${mine.length}`)
    }
    console.log(`[payout-crash] paid payouts per recipient: ${perRecipient.join(' ')}`)
    // Conservation: the operator's wallet lost exactly what the recipients received plus the fees paid.
    const fees = outgoing.reduce((a, x) => a + x.feesPaidMsat, 0n)
    expect(OPENING_MSAT - op.wallet.balanceMsat).toBe(receivedTotal + fees)
    const ledgerFees = paid.reduce((a, p) => a + BigInt(p.fees_paid_msat ?? 0n), 0n)
    expect(ledgerFees).toBe(fees)
    // The audit log (issue 10) was appended in the same transactions: after every kill it still matches each row.
    const tA = performance.now()
    const audit = await s.call<{ problems: unknown[]; size: number }>('audit.checkLog', {})
    console.log(`[payout-crash] audit check: ${audit.size} entries in ${Math.round(performance.now() - tA)} ms`)
    expect(audit.problems, 'audit log vs rows after the SIGKILL rounds').toEqual([])
    expect(audit.size).toBeGreaterThan(payouts.length)
    console.log(
      `[payout-crash] payouts=${payouts.length} paid=${paid.length} wallet payments=${outgoing.length} received=${receivedTotal} msat`,
    )
  } finally {
    await s.close()
  }
}, 720_000)
