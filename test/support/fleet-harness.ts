// End-to-end fleet harness for the interop suites: REAL relay processes (./relay.ts), the REAL @getalby/sdk
// NWCWalletService over the simulated Lightning ledger (./wallet-service.ts, ./lightning.ts), the console side as
// the app runs it (ledger in a temp dir, relay pool with the ledger-backed cursor, fleet service, NWC client on the
// operator's wallet), and paired ATM simulators. The operator key is a software signer here (demo mode); the
// hardware signer has its own suites.
//
// Nothing here sleeps: `waitFor` polls ledger state with a deadline, `outcomes` resolves on the service's events.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBytes } from '@noble/hashes/utils.js'
import { type AtmSimulator, type Customer, createAtmSimulator } from '../../src-main/atm-sim/simulator'
import { createLedgerCursorStore, type LedgerCursorStore } from '../../src-main/fleet/cursor-store'
import { createFleetService, type FleetService, type RecordOutcome } from '../../src-main/fleet/service'
import '../../src-main/ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import { createRelayPool, type RelayPool } from '../../src-main/nostr/relay-pool'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { NwcClient } from '../../src-main/wallet/nwc-client'
import { type Clock, systemClock } from '../../src-shared/clock'
import { createLogger, type Logger, type LogRecord } from '../../src-shared/log'
import type { NostrEvent } from '../../src-shared/nostr/event'
import { createPairing, type Pairing } from '../../src-shared/nostr/pairing'
import type { Signer } from '../../src-shared/signer'
import { LightningNetwork, type SimWallet } from './lightning'
import { type RelayHandle, startRelay } from './relay'
import {
  RECEIVE_ONLY_METHODS,
  startWalletService,
  type WalletConnection,
  type WalletServiceFixture,
} from './wallet-service'

export const FEES = {
  cash_out: { platformPpm: 10_000, operatorPpm: 50_000 },
  cash_in: { platformPpm: 10_000, operatorPpm: 40_000 },
}
export const LIMITS = {
  cash_out: { minFiatMinor: 100n, maxFiatMinor: 500_000n },
  cash_in: { minFiatMinor: 100n, maxFiatMinor: 500_000n },
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export interface Console {
  ledger: InProcessLedger
  pool: RelayPool
  nwc: NwcClient
  fleet: FleetService
  cursorStore: LedgerCursorStore
  /** Every outcome the service emitted, by event id (several for a record retried). */
  outcomes: Map<string, RecordOutcome[]>
  /** Resolves with the first final outcome for this event id (rejections that will be retried do not count). */
  outcomeOf(eventId: string, timeoutMs?: number): Promise<RecordOutcome>
  close(): Promise<void>
  /**
   * A crash as far as the ledger can tell: deliveries stop and the ledger closes with records still in flight, so
   * nothing more reaches it; only then are the wallet client and the service's timers stopped.
   */
  crash(): Promise<void>
}

export interface FleetHarness {
  recordRelays: RelayHandle[]
  walletRelay: RelayHandle
  net: LightningNetwork
  svc: WalletServiceFixture
  operator: Signer
  operatorPubkey: string
  consoleSecret: Uint8Array
  consolePubkey: string
  /** The operator's wallet: the console's full connection. */
  op: WalletConnection
  customerWallet: SimWallet
  customer: Customer
  ledgerDir: string
  logs: LogRecord[]
  log: Logger
  console: Console | null
  startConsole(opts?: { concurrency?: number; retryIntervalMs?: number; overlapSec?: number }): Promise<Console>
  /** Pairs a new ATM (config + roster published), returns its simulator. */
  pairAtm(opts: {
    machineId: string
    members: string[]
    clock?: Clock
    /** The ATM key (default: a fresh one). */
    secret?: Uint8Array
  }): Promise<{
    sim: AtmSimulator
    pairing: Pairing
    secret: Uint8Array
    cashIn: WalletConnection
  }>
  publishOperatorEvent(ev: NostrEvent): Promise<void>
  close(): Promise<void>
}

export async function startFleetHarness(
  opts: { recordRelays?: number; persist?: boolean } = {},
): Promise<FleetHarness> {
  const logs: LogRecord[] = []
  const log = createLogger((r) => {
    logs.push(r)
    if (logs.length > 20_000) logs.splice(0, 10_000)
  }, 'fleet-test')
  const tmp = mkdtempSync(join(tmpdir(), 'fleet-interop-'))
  const recordRelays: RelayHandle[] = []
  for (let i = 0; i < (opts.recordRelays ?? 1); i++)
    recordRelays.push(await startRelay(opts.persist ? { persistFile: join(tmp, `relay-${i}.jsonl`) } : {}))
  const walletRelay = await startRelay()
  const net = new LightningNetwork()
  const svc = await startWalletService({ relayUrls: [walletRelay.url], network: net })
  const op = await svc.fundedConnection('operator', 100_000_000_000n)
  const customerWallet = net.createWallet('customer', 1_000_000_000_000n)
  const customer: Customer = {
    payInvoice: async (invoice) => {
      customerWallet.payInvoice(invoice)
    },
    makeInvoice: async (amountMsat) => customerWallet.makeInvoice(amountMsat).invoice!,
  }
  const operatorSecret = hexToBytes('5a'.repeat(32))
  const operator = createSoftwareSigner(operatorSecret)
  const operatorPubkey = await operator.getPublicKey()
  const consoleSecret = hexToBytes('6b'.repeat(32))
  const consolePubkey = await createSoftwareSigner(consoleSecret).getPublicKey()
  const ledgerDir = join(tmp, 'ledger')
  const sims: AtmSimulator[] = []
  const atmClients: NwcClient[] = []
  const recordUrls = () => recordRelays.map((r) => r.url)
  // A publisher for operator events (the console publishes what the device signed).
  const publisher = await createRelayPool({ relays: recordUrls(), logger: log.child('publisher') })

  let lastRosterCreatedAt: number | null = null
  const h: FleetHarness = {
    recordRelays,
    walletRelay,
    net,
    svc,
    operator,
    operatorPubkey,
    consoleSecret,
    consolePubkey,
    op,
    customerWallet,
    customer,
    ledgerDir,
    logs,
    log,
    console: null,
    async startConsole(o = {}) {
      const ledger = await openLedgerInProcess({ dir: ledgerDir, logger: log.child('ledger') })
      const cursorStore = createLedgerCursorStore(() => ledger, { clock: systemClock })
      const pool = await createRelayPool({
        relays: recordUrls(),
        logger: log.child('pool'),
        cursorStore,
        backoff: { initialMs: 50, maxMs: 500 },
        connectTimeoutMs: 2000,
      })
      const nwc = new NwcClient({ connection: op.uri, logger: log.child('nwc'), replyTimeoutMs: 10_000 })
      const fleet = await createFleetService({
        ledger,
        pool,
        nwc,
        consoleSigner: createSoftwareSigner(consoleSecret),
        operatorPubkey,
        clock: systemClock,
        log: log.child('fleet'),
        cursorStore,
        concurrency: o.concurrency ?? 8,
        retryIntervalMs: o.retryIntervalMs ?? 1000,
        operatorCatchUpMs: 3000,
        relays: recordUrls(),
        ...(o.overlapSec !== undefined ? { overlapSec: o.overlapSec } : {}),
      })
      const outcomes = new Map<string, RecordOutcome[]>()
      const waiters = new Map<string, ((o: RecordOutcome) => void)[]>()
      const isFinal = (o: RecordOutcome) => o.outcome !== 'rejected' || !o.retryable
      fleet.onOutcome((o) => {
        outcomes.set(o.eventId, [...(outcomes.get(o.eventId) ?? []), o])
        if (!isFinal(o)) return
        for (const w of waiters.get(o.eventId) ?? []) w(o)
        waiters.delete(o.eventId)
      })
      await fleet.start()
      const c: Console = {
        ledger,
        pool,
        nwc,
        fleet,
        cursorStore,
        outcomes,
        outcomeOf(eventId, timeoutMs = 30_000) {
          const seen = (outcomes.get(eventId) ?? []).find(isFinal)
          if (seen) return Promise.resolve(seen)
          return new Promise((resolve, reject) => {
            const t = setTimeout(
              () => reject(new Error(`no final outcome for ${eventId} within ${timeoutMs} ms`)),
              timeoutMs,
            )
            waiters.set(eventId, [
              ...(waiters.get(eventId) ?? []),
              (o) => {
                clearTimeout(t)
                resolve(o)
              },
            ])
          })
        },
        async close() {
          await fleet.close()
          await pool.close()
          nwc.close()
          await ledger.close()
          if (h.console === c) h.console = null
        },
        async crash() {
          await pool.close()
          await ledger.close()
          nwc.close()
          await fleet.close()
          if (h.console === c) h.console = null
        },
      }
      h.console = c
      return c
    },
    async publishOperatorEvent(ev) {
      const results = await publisher.publish(ev, { timeoutMs: 5000 })
      if (!results.some((r) => r.ok)) throw new Error(`no relay accepted ${ev.id}: ${JSON.stringify(results)}`)
    },
    async pairAtm(p) {
      const secret = p.secret ?? createSecret()
      const atmPubkey = await createSoftwareSigner(secret).getPublicKey()
      const receive = await svc.addConnection({ wallet: op.wallet, methods: RECEIVE_ONLY_METHODS })
      const cashIn = await svc.addConnection({
        wallet: op.wallet,
        methods: ['pay_invoice', 'lookup_invoice'],
        budgetMsat: 10_000_000_000n,
      })
      const pairing = await createPairing(
        {
          atmNpubOrHex: atmPubkey,
          operatorPubkey,
          consolePubkey,
          relays: recordUrls(),
          machineId: p.machineId,
          name: `Simulated ${p.machineId}`,
          currency: 'EUR',
          fees: FEES,
          discountPpm: 0,
          limits: LIMITS,
          currentMembers: p.members,
          // Two ATMs paired in the same second must not produce two rosters with one created_at (protocol §7).
          currentRosterCreatedAt: lastRosterCreatedAt,
          nwcReceiveOnlyUri: receive.uri,
        },
        operator,
        p.clock ?? systemClock,
      )
      await h.publishOperatorEvent(pairing.configEvent)
      if (pairing.rosterEvent) {
        await h.publishOperatorEvent(pairing.rosterEvent)
        lastRosterCreatedAt = pairing.rosterEvent.created_at
      }
      const cashInClient = new NwcClient({
        connection: cashIn.uri,
        logger: log.child('atm-cash-in'),
        replyTimeoutMs: 10_000,
      })
      const sim = await createAtmSimulator({
        pairingUri: pairing.uri,
        atmSecretKey: secret,
        customer,
        cashInWallet: { payInvoice: (invoice) => cashInClient.payInvoice(invoice) },
        log: log.child(`atm-${p.machineId}`),
        publishDeadlineMs: 60_000,
      })
      sims.push(sim)
      atmClients.push(cashInClient)
      return { sim, pairing, secret, cashIn }
    },
    async close() {
      await h.console?.close()
      for (const s of sims) await s.close()
      for (const c of atmClients) c.close()
      await publisher.close()
      await svc.close()
      for (const r of recordRelays) await r.stop()
      await walletRelay.stop()
      rmSync(tmp, { recursive: true, force: true })
    },
  }
  return h
}

function createSecret(): Uint8Array {
  const b = new Uint8Array(32)
  crypto.getRandomValues(b)
  return b
}
