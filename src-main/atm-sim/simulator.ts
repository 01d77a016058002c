// ATM simulator: speaks the ATM side of the Satmachine fleet protocol (docs/protocol.md §5, §10) so tests and
// people can drive the console without a machine. It consumes a pairing payload (parsePairingPayload), asks the
// operator's wallet for an invoice over the receive-only NWC connection handed over at pairing (NIP-47
// make_invoice), has a customer pay it, and publishes the kind 30079 record (NIP-44 v2 to the console key, NIP-26
// delegation tag) to the payload's relays. Cash-in pays the customer's invoice through the ATM's own NWC
// connection. Scenario flags produce every defect the console must reject; each sale still pays for real, so a
// rejection is caused by the defect alone.
//
// Plain Node, usable as a library (`createAtmSimulator`) and from the CLI (`satmachine atm-sim`, ../cli/atm-sim.ts).

import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import WebSocket from 'ws'
import { type Clock, nowSec, systemClock } from '../../src-shared/clock'
import { FieldError } from '../../src-shared/field-error'
import { createLogger, type Logger } from '../../src-shared/log'
import { type AtmRecordV1, createAtmRecord, parseAtmRecordContent } from '../../src-shared/nostr/atm-record'
import { type NostrEvent, publicKeyHex } from '../../src-shared/nostr/event'
import { KIND_ATM_RECORD } from '../../src-shared/nostr/kinds'
import { type MachineConfig, parseMachineConfigEvent } from '../../src-shared/nostr/machine-config'
import { buildConditions, type DelegationTag, delegationTag, parseConditions } from '../../src-shared/nostr/nip26'
import { invoicePaymentHash, type Nip47Transaction } from '../../src-shared/nostr/nip47'
import { type PairingPayload, parsePairingPayload } from '../../src-shared/nostr/pairing'
import type { Signer } from '../../src-shared/signer'
import type { PublishResult, RelayPool } from '../nostr/relay-pool'
import { createRelayPool } from '../nostr/relay-pool'
import { createSoftwareSigner } from '../signer/software-signer'
import { NwcClient } from '../wallet/nwc-client'

export const SCENARIOS = [
  'normal',
  'partial-dispense',
  'cash-in',
  'forged-signature',
  'wrong-delegator',
  'expired-delegation',
  'not-yet-valid-delegation',
  'revoked-machine',
  'unknown-machine',
  'replayed-record',
  'duplicate',
  'malformed-content',
  'oversized-content',
  'future-created-at',
  'fee-mismatch',
  'direction-forged-cash-out',
  'direction-forged-cash-in',
] as const
export type Scenario = (typeof SCENARIOS)[number]

/** What the console should answer for each scenario (docs/protocol.md §9 reason codes). */
export const EXPECTED_OUTCOME: Record<Scenario, string> = {
  normal: 'booked',
  'partial-dispense': 'booked (refund due on the worklist)',
  'cash-in': 'booked',
  'direction-forged-cash-out': 'direction_mismatch (a cash-out naming an outgoing payment of the operator wallet)',
  'direction-forged-cash-in': 'direction_mismatch (a cash-in naming an incoming invoice of the operator wallet)',
  'forged-signature': 'bad_signature (a validating relay already refuses it)',
  'wrong-delegator': 'delegation_wrong_delegator',
  'expired-delegation': 'delegation_not_allowed',
  'not-yet-valid-delegation': 'delegation_not_allowed',
  'revoked-machine': 'revoked (after the operator dropped the ATM from the roster)',
  'unknown-machine': 'not_in_roster',
  'replayed-record': 'duplicate_payment',
  duplicate: 'duplicate (processed once)',
  'malformed-content': 'schema_invalid',
  'oversized-content': 'content_too_large',
  'future-created-at': 'future_timestamp',
  'fee-mismatch': 'booked with the fee mismatch flagged on the worklist',
}

export class AtmSimError extends FieldError {
  override readonly name = 'AtmSimError'
}

/** The operator wallet's receive-only side: make_invoice. */
export interface InvoiceWallet {
  makeInvoice(params: { amountMsat: bigint; description?: string; expirySec?: number }): Promise<Nip47Transaction>
  /** Optional: lets a fresh run find its earlier paid sales (the replayed-record scenario). */
  lookupInvoice?(params: { paymentHash: string }): Promise<Nip47Transaction>
}

/** The customer: pays a cash-out invoice, or issues the invoice a cash-in pays. */
export interface Customer {
  payInvoice(invoice: string): Promise<void>
  makeInvoice(amountMsat: bigint): Promise<string>
}

/** The ATM's own pay connection for cash-in (budget set by the operator in the wallet). */
export interface CashInWallet {
  payInvoice(invoice: string): Promise<unknown>
}

export interface AtmSimulatorOptions {
  /** The `satmachine-pair:?…` URI the console showed. */
  pairingUri: string
  /** The ATM key (32 bytes); see loadOrCreateAtmKey. */
  atmSecretKey: Uint8Array
  customer: Customer
  clock?: Clock
  log?: Logger
  /** Publishing/fetching pool; default a new pool on the payload's relays (closed by close()). */
  pool?: RelayPool
  /** Default: an NWC client on the payload's receive-only URI (closed by close()). */
  invoiceWallet?: InvoiceWallet
  cashInWallet?: CashInWallet
  /** The machine config; default fetched from the relays by the payload's config event id and verified. */
  config?: MachineConfig
  /** Exchange rate in fiat minor units per BTC. Default 5,000,000 (50,000.00 per BTC). */
  rateMinorPerBtc?: bigint
  /** How long publish keeps retrying until a relay accepts. Default 30 s. */
  publishDeadlineMs?: number
}

export interface SaleOptions {
  scenario?: Scenario
  fiatMinor?: bigint
  /** For partial-dispense: what came out (default half of fiatMinor). */
  dispensedMinor?: bigint
  /** Record time; default the clock's now (scenarios shift it). */
  createdAt?: number
  /** A delegation to use instead of the pairing one (tests sign expired or not-yet-valid windows with it). */
  delegation?: DelegationTag
  /** Skip publishing (the caller inspects or delivers the event itself). */
  publish?: boolean
}

export interface Sale {
  scenario: Scenario
  event: NostrEvent
  record: AtmRecordV1 | null
  paymentHash: string | null
  /** Per-relay publish results (empty when publish: false). */
  published: PublishResult[]
  accepted: boolean
}

export interface AtmSimulator {
  readonly atmPubkey: string
  readonly payload: PairingPayload
  config(): Promise<MachineConfig>
  sell(opts?: SaleOptions): Promise<Sale>
  /** Publishes an event until a relay accepts it (or the deadline). */
  publish(event: NostrEvent): Promise<PublishResult[]>
  close(): Promise<void>
}

/** Reads a hex ATM key from `path`, or creates one (file mode 0600). The key is never logged. */
export async function loadOrCreateAtmKey(path: string): Promise<{ secretKey: Uint8Array; created: boolean }> {
  try {
    const text = (await readFile(path, 'utf8')).trim()
    if (!/^[0-9a-f]{64}$/.test(text)) throw new AtmSimError('key file', `${path} must hold 64 lowercase hex characters`)
    return { secretKey: hexToBytes(text), created: false }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const secretKey = schnorr.utils.randomSecretKey()
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${bytesToHex(secretKey)}\n`, { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
  return { secretKey, created: true }
}

const MSAT_PER_BTC = 100_000_000_000n
const TEN_12 = 1_000_000_000_000n

/** Wire and claimed split for a sale, computed exactly as the console will (docs/settlement.md step 1 / cash-in). */
export function quote(
  direction: 'cash_out' | 'cash_in',
  fiatMinor: bigint,
  rateMinorPerBtc: bigint,
  fees: { platformPpm: number; operatorPpm: number },
  discountPpm: number,
): { wireMsat: bigint; principalMsat: bigint; feeMsat: bigint } {
  const eff = BigInt(fees.platformPpm + fees.operatorPpm) * (1_000_000n - BigInt(discountPpm))
  const value = (fiatMinor * MSAT_PER_BTC) / rateMinorPerBtc
  if (direction === 'cash_out') {
    // The customer pays the value plus the commission; round up so the principal covers the fiat.
    const wireMsat = (value * (TEN_12 + eff) + TEN_12 - 1n) / TEN_12
    const principalMsat = (wireMsat * TEN_12) / (TEN_12 + eff)
    return { wireMsat, principalMsat, feeMsat: wireMsat - principalMsat }
  }
  const wireMsat = (value * (TEN_12 - eff)) / TEN_12
  const principalMsat = (wireMsat * TEN_12) / (TEN_12 - eff)
  return { wireMsat, principalMsat, feeMsat: principalMsat - wireMsat }
}

export async function createAtmSimulator(opts: AtmSimulatorOptions): Promise<AtmSimulator> {
  const clock = opts.clock ?? systemClock
  const log = opts.log ?? createLogger(() => {}, 'atm-sim')
  const atmPubkey = publicKeyHex(opts.atmSecretKey)
  const payload = parsePairingPayload(opts.pairingUri, { nowSec: nowSec(clock), expectAtmPubkey: atmPubkey })
  const atm = createSoftwareSigner(opts.atmSecretKey)
  const ownsPool = opts.pool === undefined
  const pool = opts.pool ?? (await createRelayPool({ relays: payload.relays, logger: log.child('pool'), clock }))
  let nwc: NwcClient | undefined
  const invoiceWallet: InvoiceWallet = opts.invoiceWallet ?? {
    makeInvoice: (p) => {
      if (payload.nwcUri === null) throw new AtmSimError('pairing', 'the payload carries no receive-only NWC URI')
      nwc ??= new NwcClient({ connection: payload.nwcUri, clock, logger: log.child('nwc'), replyTimeoutMs: 30_000 })
      return nwc.makeInvoice(p)
    },
    lookupInvoice: (p) => {
      if (payload.nwcUri === null) throw new AtmSimError('pairing', 'the payload carries no receive-only NWC URI')
      nwc ??= new NwcClient({ connection: payload.nwcUri, clock, logger: log.child('nwc'), replyTimeoutMs: 30_000 })
      return nwc.lookupInvoice(p)
    },
  }
  // Cash-in pays through the pay-capable, budget-limited connection the pairing payload handed over (§10.2),
  // unless the caller brings its own.
  let cashInNwc: NwcClient | undefined
  const cashInWallet: CashInWallet | undefined =
    opts.cashInWallet ??
    (payload.nwcCashInUri === null
      ? undefined
      : {
          payInvoice: (invoice) => {
            cashInNwc ??= new NwcClient({
              connection: payload.nwcCashInUri as string,
              clock,
              logger: log.child('nwc-cash-in'),
              replyTimeoutMs: 30_000,
            })
            return cashInNwc.payInvoice(invoice)
          },
        })
  const delegation: DelegationTag = {
    delegatorPubkey: payload.operatorPubkey,
    conditions: payload.conditions,
    token: payload.token,
  }
  const window = parseConditions(payload.conditions)
  const rate = opts.rateMinorPerBtc ?? 5_000_000n
  let config: MachineConfig | undefined = opts.config
  let seq = 0
  let last: { event: NostrEvent; record: AtmRecordV1 } | undefined
  const txPrefix = `sim-${atmPubkey.slice(0, 8)}-${bytesToHex(randomBytes(4))}`

  async function fetchConfig(): Promise<MachineConfig> {
    if (config) return config
    const id = payload.configEventId
    if (id === null) throw new AtmSimError('pairing', 'the payload names no config event; pass `config`')
    const ev = await new Promise<NostrEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.close()
        reject(new AtmSimError('config', `config event ${id} not found on ${payload.relays.join(', ')}`))
      }, 15_000)
      const sub = pool.subscribe({
        filters: [{ ids: [id] }],
        onEvent: (e) => {
          clearTimeout(timer)
          sub.close()
          resolve(e as unknown as NostrEvent)
        },
      })
    })
    config = parseMachineConfigEvent(ev, payload.operatorPubkey)
    if (config.atmPubkey !== atmPubkey) throw new AtmSimError('config', 'the config is for another ATM key')
    return config
  }

  /** This ATM's newest record on the relays, decrypted with its own key, or undefined when there is none. */
  async function newestOwnSale(): Promise<{ event: NostrEvent; record: AtmRecordV1 } | undefined> {
    const events = await new Promise<NostrEvent[]>((resolve) => {
      const got: NostrEvent[] = []
      const timer = setTimeout(() => {
        sub.close()
        resolve(got)
      }, 15_000)
      const sub = pool.subscribe({
        filters: [{ kinds: [KIND_ATM_RECORD], authors: [atmPubkey], limit: 20 }],
        onEvent: (e) => {
          got.push(e as unknown as NostrEvent)
        },
        onCaughtUp: () => {
          clearTimeout(timer)
          sub.close()
          resolve(got)
        },
      })
    })
    events.sort((a, b) => b.created_at - a.created_at)
    for (const event of events) {
      let record: AtmRecordV1
      try {
        record = parseAtmRecordContent(await atm.nip44Decrypt(payload.consolePubkey, event.content))
      } catch {
        continue // not one of ours that decrypts and parses (a malformed-content scenario): look further back
      }
      // A real earlier sale: a cash-out under this pairing's delegation, not dated ahead of the clock, whose invoice
      // the operator's wallet shows as paid to it (asked through the ATM's own receive-only connection). The
      // records the negative scenarios made (another delegation, a future created_at, forged directions) are
      // passed over: they were refused, so their payments are not booked and would not be a replay.
      if (record.direction !== 'cash_out') continue
      if (event.created_at > nowSec(clock)) continue
      const tag = event.tags.find((t) => t[0] === 'delegation')
      if (tag?.[3] !== payload.token) continue
      try {
        if (!invoiceWallet.lookupInvoice) return { event, record }
        const tx = await invoiceWallet.lookupInvoice({ paymentHash: record.paymentHash })
        if (tx.type === 'incoming' && tx.state === 'settled' && tx.amountMsat === record.wireMsat)
          return { event, record }
      } catch {
        // Not known to the wallet: not a sale that was paid.
      }
    }
    return undefined
  }

  async function publish(event: NostrEvent): Promise<PublishResult[]> {
    const deadline = clock.nowMs() + (opts.publishDeadlineMs ?? 30_000)
    let delayMs = 100
    for (;;) {
      const results = await pool.publish(event, { timeoutMs: 5000 })
      const accepted = results.some((r) => r.ok)
      // A relay that refuses the event (invalid:, blocked:) will not change its mind: only retry transport trouble.
      const transient = results.some((r) => r.outcome === 'timeout' || r.outcome === 'closed')
      if (accepted || !transient || clock.nowMs() > deadline) return results
      log.info('publish not accepted yet; retrying', { eventId: event.id, delayMs })
      await new Promise((r) => setTimeout(r, delayMs))
      delayMs = Math.min(delayMs * 2, 2000)
    }
  }

  async function publishRaw(event: NostrEvent): Promise<PublishResult[]> {
    return Promise.all(payload.relays.map((url) => sendOverSocket(url, event)))
  }

  async function signRaw(signer: Signer, content: string, createdAt: number, txId: string, d: DelegationTag) {
    return signer.signEvent({
      kind: KIND_ATM_RECORD,
      created_at: createdAt,
      tags: [['d', txId], ['p', payload.consolePubkey], delegationTag(d)],
      content,
    })
  }

  async function sell(o: SaleOptions = {}): Promise<Sale> {
    const scenario = o.scenario ?? 'normal'
    if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new AtmSimError('scenario', `unknown ${scenario}`)
    const cfg = await fetchConfig()
    const now = nowSec(clock)
    let createdAt = o.createdAt ?? now
    let signer: Signer = atm
    let deleg = o.delegation ?? delegation

    if (scenario === 'duplicate') {
      if (!last) throw new AtmSimError('scenario', 'duplicate needs an earlier sale')
      const published = o.publish === false ? [] : await publish(last.event)
      return {
        scenario,
        event: last.event,
        record: last.record,
        paymentHash: last.record.paymentHash,
        published,
        accepted: published.some((r) => r.ok),
      }
    }

    const direction = scenario === 'cash-in' || scenario === 'direction-forged-cash-in' ? 'cash_in' : 'cash_out'
    const fiatMinor = o.fiatMinor ?? 2_000n
    const fees = cfg.fees[direction]
    const q = quote(direction, fiatMinor, rate, fees, cfg.discountPpm)
    const txId = `${txPrefix}-${++seq}`
    let paymentHash: string
    let bolt11: string
    let wireMsat = q.wireMsat
    const startedAt = now - 2

    if (scenario === 'replayed-record') {
      // A fresh simulator (another `atm-sim` run) remembers no sale: read this ATM's newest record back from the
      // relays (the ATM can decrypt its own records: NIP-44 keys are shared between the ATM and the console).
      last ??= await newestOwnSale()
      if (!last) throw new AtmSimError('scenario', 'replayed-record needs an earlier sale of this ATM on the relays')
      // A new record (new txId) that claims the payment of an earlier, already booked sale.
      paymentHash = last.record.paymentHash
      bolt11 = last.record.bolt11
      wireMsat = last.record.wireMsat
    } else if ((direction === 'cash_out') !== scenario.startsWith('direction-forged-')) {
      // Money INTO the operator's wallet: a cash-out, or the forged cash-in that names such a payment.
      const inv = await invoiceWallet.makeInvoice({
        amountMsat: q.wireMsat,
        description: `ATM ${cfg.machineId} ${txId}`,
      })
      if (inv.invoice === null) throw new AtmSimError('make_invoice', 'the wallet returned no invoice')
      await opts.customer.payInvoice(inv.invoice)
      paymentHash = inv.paymentHash
      bolt11 = inv.invoice
    } else {
      // Money OUT of the operator's wallet (the ATM's pay connection): a cash-in, or the forged cash-out.
      if (!cashInWallet) throw new AtmSimError('cashInWallet', 'cash-in needs the ATM pay connection')
      bolt11 = await opts.customer.makeInvoice(q.wireMsat)
      paymentHash = invoicePaymentHash(bolt11)
      await cashInWallet.payInvoice(bolt11)
    }

    const partial = scenario === 'partial-dispense'
    const dispensed = direction === 'cash_in' ? 0n : partial ? (o.dispensedMinor ?? fiatMinor / 2n) : fiatMinor
    const claimedFee =
      scenario === 'fee-mismatch'
        ? q.feeMsat + wireMsat / 20n + 2_000n
        : scenario === 'replayed-record'
          ? 0n
          : q.feeMsat
    const record: AtmRecordV1 = {
      v: 1,
      txId,
      machineId: cfg.machineId,
      direction,
      status: direction === 'cash_in' ? 'completed' : partial ? 'partial' : 'completed',
      fiatMinor,
      fiatDispensedMinor: dispensed,
      currency: cfg.currency,
      wireMsat,
      principalMsat: scenario === 'replayed-record' ? wireMsat : q.principalMsat,
      feeMsat: claimedFee,
      paymentHash,
      bolt11,
      feePpm: fees.platformPpm + fees.operatorPpm,
      discountPpm: cfg.discountPpm,
      rateMinorPerBtc: rate,
      startedAt,
      paidAt: startedAt + 1,
      finishedAt: startedAt + 2,
    }

    switch (scenario) {
      case 'wrong-delegator': {
        const stranger = schnorr.utils.randomSecretKey()
        const conditions = buildConditions({
          kinds: [KIND_ATM_RECORD],
          createdAfter: now - 600,
          createdBefore: now + 86_400,
        })
        deleg = {
          delegatorPubkey: publicKeyHex(stranger),
          conditions,
          token: await createSoftwareSigner(stranger).signDelegation({ delegateePubkey: atmPubkey, conditions }),
        }
        break
      }
      case 'expired-delegation':
        // Without an operator-signed expired token, date the record at the end of the pairing window.
        if (!o.delegation) createdAt = window.createdBefore[0] ?? createdAt
        break
      case 'not-yet-valid-delegation':
        if (!o.delegation)
          throw new AtmSimError('delegation', 'not-yet-valid-delegation needs a delegation whose window starts later')
        break
      case 'unknown-machine':
        signer = createSoftwareSigner(schnorr.utils.randomSecretKey())
        break
      case 'future-created-at':
        createdAt = now + 3600
        break
      default:
        break
    }

    let event: NostrEvent
    if (scenario === 'malformed-content') {
      const content = await signer.nip44Encrypt(
        payload.consolePubkey,
        JSON.stringify({ v: 1, txId, note: 'no schema' }),
      )
      event = await signRaw(signer, content, createdAt, txId, deleg)
    } else if (scenario === 'oversized-content') {
      const padded = JSON.stringify({ v: 1, txId, padding: 'x'.repeat(7000) })
      const content = await signer.nip44Encrypt(payload.consolePubkey, padded)
      event = await signRaw(signer, content, createdAt, txId, deleg)
    } else {
      event = await createAtmRecord(
        { record, consolePubkey: payload.consolePubkey, delegation: deleg, createdAt },
        signer,
      )
    }
    if (scenario === 'forged-signature') {
      // Same id, a signature that is not the author's: flip the last hex digit.
      const lastHex = event.sig.at(-1) === '0' ? '1' : '0'
      event = { ...event, sig: event.sig.slice(0, -1) + lastHex }
    }
    if (
      scenario === 'normal' ||
      scenario === 'partial-dispense' ||
      scenario === 'cash-in' ||
      scenario === 'fee-mismatch'
    )
      last = { event, record }
    // The pool refuses to send a badly signed event, so the forged one goes over a bare socket: the point is to
    // see what the relay itself answers.
    const published =
      o.publish === false ? [] : scenario === 'forged-signature' ? await publishRaw(event) : await publish(event)
    const accepted = published.some((r) => r.ok)
    log.info('sale', { scenario, txId, eventId: event.id, wireMsat, accepted })
    return { scenario, event, record, paymentHash, published, accepted }
  }

  return {
    atmPubkey,
    payload,
    config: fetchConfig,
    sell,
    publish,
    async close() {
      nwc?.close()
      cashInNwc?.close()
      if (ownsPool) await pool.close()
    },
  }
}

/** Sends one EVENT over a bare WebSocket and reports the relay's OK answer (or the failure). */
export function sendOverSocket(url: string, event: NostrEvent, timeoutMs = 5000): Promise<PublishResult> {
  const started = Date.now()
  return new Promise((resolve) => {
    const ws = new WebSocket(url)
    const done = (ok: boolean, outcome: PublishResult['outcome'], message: string) => {
      clearTimeout(timer)
      ws.removeAllListeners()
      ws.on('error', () => {})
      ws.terminate()
      resolve({ relay: url, ok, outcome, message, latencyMs: Date.now() - started })
    }
    const timer = setTimeout(() => done(false, 'timeout', `no OK within ${timeoutMs} ms`), timeoutMs)
    ws.on('open', () => ws.send(JSON.stringify(['EVENT', event])))
    ws.on('error', (e) => done(false, 'closed', e.message))
    ws.on('message', (data) => {
      let msg: unknown
      try {
        msg = JSON.parse(String(data))
      } catch {
        return
      }
      if (Array.isArray(msg) && msg[0] === 'OK' && msg[1] === event.id)
        done(msg[2] === true, msg[2] === true ? 'accepted' : 'rejected', String(msg[3] ?? ''))
    })
  })
}
