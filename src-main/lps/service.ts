// The LP lifecycle service: the `lps.*` IPC handlers (contract in src-shared/ipc/lps.ts) over the ledger procedures
// of this module (procedures.ts), plus the destination lookup the payout runner's resolver uses.
//
// What happens here and not in the procedures: ids and times are drawn (procedures must be deterministic), the npub
// is decoded, an NWC destination's URI is checked and sealed into the secret store (the ledger keeps only the slot
// name and the wallet pubkey), and ledger refusals become ApiErrors whose `field` names the IPC argument
// (`args[0].amountMinor`), with a log line giving the reason. The NWC URI is never logged, never returned.
// Before a destination is stored it is checked live (src-main/payouts/destinations/check.ts, the same check the
// platform and split recipients get): a Lightning address must answer LNURL-pay, an NWC wallet must announce
// make_invoice on its relays, a keysend node id must be a valid key. A failed check refuses the change with the
// reason in operator words, naming the field; a passed one is kept in the LP's history as the destination's health.
// `lps.statement.send` sends a statement for any period to the LP as a NIP-17 DM from the console key, through the
// notice service over the running fleet's relay pool.

import { randomBytes } from 'node:crypto'
import { decode as nip19decode } from 'nostr-tools/nip19'
import { ApiError, type ErrorCode, type Handlers } from '../../src-shared/ipc/contract'
import type {
  DepositChangeView,
  DepositView,
  DestinationInput,
  LpRegisterInput,
  LpView,
} from '../../src-shared/ipc/lps'
import type { StatementResult } from '../../src-shared/lp-service/rpc'
import { statementText } from '../../src-shared/lp-service/texts'
import { localDay } from '../../src-shared/money/local-day'
import type { FleetPartsSlot } from '../fleet/pairing-service'
import { LedgerProcedureError } from '../ledger/errors'
import type { LedgerStore } from '../ledger/types'
import type { NoticeContact } from '../notices/procedures'
import { createNoticeService, emitNoticeSink, NoticeSendError } from '../notices/service'
import { createDestinationChecker, type DestinationChecker } from '../payouts/destinations/check'
import { nwcWalletPubkey } from '../payouts/destinations/lp-nwc'
import type { DestinationLookup } from '../payouts/destinations/resolver'
import type { DestinationConfig } from '../payouts/destinations/types'
import { SecretBoxError } from '../secrets/secret-box'
import { SecretSlots, type SecretStore } from '../secrets/secret-store'
import type { ServiceContext } from '../service-context'
import type { LpRow, RecipientDestination, StoredDestination } from './procedures'

export interface LpsWiring {
  /**
   * Where NWC destination URIs are sealed. Absent: registering an NWC destination answers `unavailable` (the
   * other destination kinds still work); docs/architecture.md §3 forbids falling back to storing the URI in plain text.
   */
  secrets?: SecretStore | (() => Promise<SecretStore>)
  /** The live destination check (tests inject one; default: real LNURL / NWC / node-id checks). */
  checker?: DestinationChecker
  /** The running fleet's parts (relay pool, console key): statements are sent over them. */
  fleet?: FleetPartsSlot
}

type LpMethods =
  | 'lps.list'
  | 'lps.register'
  | 'lps.setDestination'
  | 'lps.deposit.record'
  | 'lps.deposit.confirm'
  | 'lps.deposit.reverse'
  | 'lps.statement'
  | 'lps.dustSettle'
  | 'lps.deactivate'
  | 'lps.history'
  | 'lps.statement.send'
  | 'lps.update'
  | 'lps.checkDestination'

const AUTHOR = 'operator'

const CODE_OF: Record<string, ErrorCode> = {
  E_INPUT: 'bad_args',
  E_NOT_FOUND: 'not_found',
  E_STATE: 'conflict',
  E_BALANCE: 'conflict',
  E_CONFLICT: 'conflict',
  E_PAID: 'conflict',
  E_CLAIM: 'conflict',
}

/**
 * Turns a ledger refusal into an ApiError naming the IPC field. `fields` maps a procedure field to the argument
 * path when the names differ; otherwise `args[0].<field>` is used (the procedure fields match the IPC names).
 */
export function toApiError(e: unknown, fields: Record<string, string> = {}): unknown {
  if (!(e instanceof LedgerProcedureError)) return e
  const field = typeof e.details.field === 'string' ? e.details.field : undefined
  const raw = e.code
  const code: ErrorCode =
    raw !== undefined && CODE_OF[raw] ? CODE_OF[raw] : e.causeName === 'PayoutArgError' ? 'bad_args' : 'internal'
  if (code === 'internal') return e
  const path = field === undefined ? undefined : (fields[field] ?? `args[0].${field}`)
  return new ApiError(code, path ? `${path}: ${e.message.replace(/^[\w.[\]]+: /, '')}` : e.message, path)
}

function destinationView(d: StoredDestination | null): LpView['destination'] {
  if (d === null) return null
  if (d.kind === 'nwc') return { kind: 'nwc', walletPubkey: d.walletPubkey }
  return d
}

/** The IPC view of an LP row: everything but the secret slot and the hex pubkey (the npub says it). */
export function lpView(r: LpRow): LpView {
  return {
    id: r.id,
    name: r.name,
    npub: r.npub,
    currency: r.currency,
    machineId: r.machineId,
    mode: r.mode,
    dailyLimitMinor: r.dailyLimitMinor,
    active: r.active,
    registeredAtMs: r.registeredAtMs,
    deactivatedAtMs: r.deactivatedAtMs,
    deactivationReason: r.deactivationReason,
    balanceMinor: r.balanceMinor,
    pendingDepositsMinor: r.pendingDepositsMinor,
    accruedMsat: r.accruedMsat,
    destination: destinationView(r.destination),
    payout: r.payout,
    health: r.health,
    inUse: r.inUse,
    paidMsat: r.paidMsat,
    lastPayout: r.lastPayout,
  }
}

/** The field of a destination input a failed live check names. */
function destinationField(d: DestinationInput): string {
  if (d.kind === 'lightning_address') return 'args[0].destination.address'
  if (d.kind === 'nwc') return 'args[0].destination.uri'
  return 'args[0].destination.nodeId'
}

function decodeNpub(npub: string): string {
  try {
    const d = nip19decode(npub)
    if (d.type === 'npub') return d.data
  } catch {
    // fall through to the typed error
  }
  throw new ApiError('bad_args', 'args[0].npub: not a valid npub (bad checksum or prefix)', 'args[0].npub')
}

/** The LP id for an npub: stable, readable, and unique per key. */
export function lpIdFor(pubkeyHex: string): string {
  return `lp-${pubkeyHex.slice(0, 16)}`
}

/** The payout runner's destination lookup over the ledger (`lps.destinationFor`). */
export function ledgerDestinationLookup(ledger: () => LedgerStore): DestinationLookup {
  return async (r) => {
    const found = await ledger().call<RecipientDestination | null>('lps.destinationFor', {
      recipientKind: r.recipientKind,
      recipientId: r.recipientId,
    })
    return found ? (found.destination as DestinationConfig) : null
  }
}

/**
 * The secret store, opened once on first use. Without one an NWC destination cannot be stored: the refusal names
 * the destination field (storing the URI in plain text instead is never an option). Shared with the recipients.
 */
export function secretStoreOnce(source: LpsWiring['secrets']): () => Promise<SecretStore> {
  let opened: Promise<SecretStore> | undefined
  return () => {
    if (!source)
      return Promise.reject(
        new ApiError(
          'unavailable',
          'args[0].destination: secret storage is not configured, so an NWC connection cannot be stored encrypted',
          'args[0].destination',
        ),
      )
    opened ??= typeof source === 'function' ? source() : Promise.resolve(source)
    return opened
  }
}

/** Calls a ledger procedure; a refusal is logged (`<what> request refused`) and translated for the operator. */
export function ledgerCaller<M extends string>(
  ctx: ServiceContext,
  log: ReturnType<ServiceContext['log']['child']>,
  what: string,
) {
  return async function call<R>(
    method: M,
    procedure: string,
    args: Record<string, unknown>,
    fields?: Record<string, string>,
  ): Promise<R> {
    try {
      return await ctx.ledger().call<R>(procedure, args)
    } catch (e) {
      const api = toApiError(e, fields)
      if (api instanceof ApiError) {
        log.warn(`${what} request refused`, { method, code: api.code, field: api.field, reason: api.message })
      }
      throw api
    }
  }
}

export function lpsHandlers(ctx: ServiceContext, wiring: LpsWiring = {}): Pick<Handlers, LpMethods> {
  const log = ctx.log.child('lps')
  const checker = wiring.checker ?? createDestinationChecker({ logger: log.child('check') })
  const secrets = secretStoreOnce(wiring.secrets)
  const call = ledgerCaller<LpMethods>(ctx, log, 'lp')

  const now = () => ctx.clock.nowMs()

  // Registration and destination changes of one LP run one at a time: each may seal a secret first and undo it if
  // the ledger refuses, and two interleaved attempts must not undo each other's secret.
  const locks = new Map<string, Promise<unknown>>()
  function serialFor<T>(lpId: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(lpId) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const settled = next.catch(() => undefined)
    locks.set(lpId, settled)
    void settled.then(() => {
      if (locks.get(lpId) === settled) locks.delete(lpId)
    })
    return next
  }

  async function register(input: LpRegisterInput): Promise<LpView> {
    const pubkey = decodeNpub(input.npub)
    const id = lpIdFor(pubkey)
    return serialFor(id, () => registerSerial(input, pubkey, id))
  }

  async function registerSerial(input: LpRegisterInput, pubkey: string, id: string): Promise<LpView> {
    if (input.mode === 'fixed' && input.dailyLimitMinor === undefined) {
      throw new ApiError('bad_args', 'args[0].dailyLimitMinor: required in fixed mode', 'args[0].dailyLimitMinor')
    }
    if (input.mode === 'flow' && input.dailyLimitMinor !== undefined) {
      throw new ApiError('bad_args', 'args[0].dailyLimitMinor: only a fixed-mode LP has one', 'args[0].dailyLimitMinor')
    }
    // Refuse before touching a secret slot if the LP exists (the register procedure would refuse anyway).
    if (input.destination.kind === 'nwc') {
      const existing = await ctx
        .ledger()
        .call<LpRow>('lps.get', { lpId: id })
        .catch(() => null)
      if (existing) {
        throw new ApiError('conflict', `args[0].npub: this npub is already registered as LP ${id}`, 'args[0].npub')
      }
    }
    const check = await liveCheck('lps.register', id, input.destination)
    const { destination, undo } = await storeDestination('lps.register', id, input.destination)
    try {
      const row = await call<LpRow>(
        'lps.register',
        'lps.register',
        {
          id,
          npub: input.npub,
          pubkey,
          name: input.name,
          currency: input.currency,
          machineId: input.machineId ?? null,
          mode: input.mode,
          dailyLimitMinor: input.dailyLimitMinor,
          destination,
          payout: input.payout,
          check,
          atMs: now(),
          author: AUTHOR,
        },
        { id: 'args[0].npub', pubkey: 'args[0].npub', 'destination.secretSlot': 'args[0].destination.uri' },
      )
      log.info('lp registered', { lpId: id, mode: input.mode, destination: destination.kind })
      ctx.emit('notice', { level: 'info', text: `LP ${input.name} registered`, atMs: now() })
      return lpView(row)
    } catch (e) {
      // The ledger refused: the sealed URI must not outlive the registration it belonged to.
      await undo()
      throw e
    }
  }

  /** Asks the destination whether it would accept a payment; refuses in operator words when it would not. */
  async function liveCheck(method: LpMethods, lpId: string, d: DestinationInput): Promise<{ ok: true; text: string }> {
    const result = await checker.check(d)
    if (!result.ok) {
      const field = destinationField(d)
      log.warn('lp request refused', { method, lpId, code: 'bad_args', field, reason: 'destination check failed' })
      throw new ApiError('bad_args', `${field}: ${result.text}`, field)
    }
    return { ok: true, text: result.text }
  }

  /** The live check once more on the stored destination (an NWC URI is read back from the secret store). */
  async function checkAgain(lpId: string): Promise<LpView> {
    const lp = await call<LpRow>('lps.checkDestination', 'lps.get', { lpId })
    const d = lp.destination
    if (!d) throw new ApiError('conflict', 'args[0].lpId: this LP has no destination to check', 'args[0].lpId')
    let input: DestinationInput
    if (d.kind === 'nwc') {
      const store = await secrets()
      const uri = await store.get(d.secretSlot).catch(() => undefined)
      if (!uri) {
        throw new ApiError(
          'conflict',
          'args[0].lpId: the stored wallet connection cannot be read; set the destination again',
          'args[0].lpId',
        )
      }
      input = { kind: 'nwc', uri }
    } else input = d
    const result = await checker.check(input)
    log.info('lp destination checked again', { lpId, destination: d.kind, ok: result.ok })
    const row = await call<LpRow>('lps.checkDestination', 'lps.recordCheck', {
      lpId,
      check: { ok: result.ok, text: result.text },
      atMs: now(),
    })
    return lpView(row)
  }

  /** Sends the statement of [fromMs, toMs) to the LP by NIP-17 DM from the console key. */
  async function sendStatement(o: { lpId: string; fromMs: number; toMs: number }) {
    const parts = wiring.fleet?.current()
    if (!parts) {
      throw new ApiError(
        'unavailable',
        'The statement cannot be sent: the console is not connected to its relays yet (finish the operator setup)',
      )
    }
    await call<LpRow>('lps.statement.send', 'lps.get', { lpId: o.lpId })
    const contact = await call<NoticeContact | null>('lps.statement.send', 'notices.getContact', {
      recipientKind: 'lp',
      recipientId: o.lpId,
    })
    if (!contact?.pubkey) {
      throw new ApiError('conflict', 'args[0].lpId: messages to this LP are switched off', 'args[0].lpId')
    }
    const { timeZone, operatorName } = ctx.settings.get()
    const period = `${localDay(o.fromMs, timeZone)} to ${localDay(o.toMs - 1, timeZone)}`
    const notices = createNoticeService({
      pool: parts.pool,
      consoleSigner: parts.consoleSigner,
      clock: ctx.clock,
      log: log.child('statement'),
      ledger: parts.ledger,
      desktop: emitNoticeSink(ctx.emit, ctx.clock),
      lookupRelays: parts.relays,
      timeZone: () => timeZone,
    })
    try {
      // The same statement an LP gets when it asks by DM (src-main/lp-service/), over the operator's period.
      const statement = await call<StatementResult>(
        'lps.statement.send',
        'lpss.statement',
        { lpId: o.lpId, period: 'period', timeZone, fromMs: o.fromMs, untilMs: o.toMs },
        { untilMs: 'args[0].toMs' },
      )
      const hello = operatorName ? `Hello, this is ${operatorName}. ` : 'Hello. '
      const body = `${hello}Your statement:\n\n${statementText({ ...statement, period })}`
      const r = await notices.sendDirectMessage(
        { pubkey: contact.pubkey, relays: contact.relays },
        { subject: `Statement ${period}`, body },
        { kind: 'statement' },
      )
      log.info('lp statement sent', { lpId: o.lpId, period, relays: r.relays.length })
      return { period, relays: r.relays, rumorId: r.rumorId, sentAtMs: now() }
    } catch (e) {
      if (e instanceof NoticeSendError) {
        log.warn('lp statement not sent', { lpId: o.lpId, code: e.code })
        const why =
          e.code === 'no_dm_relays'
            ? 'this LP has not published the relays it reads messages on (a kind 10050 list), so nothing was sent'
            : e.code === 'all_relays_failed'
              ? "none of the LP's message relays accepted it; try again later"
              : "the LP's Nostr key cannot receive messages"
        throw new ApiError('conflict', `args[0].lpId: ${why}`, 'args[0].lpId')
      }
      throw e
    } finally {
      notices.close()
    }
  }

  /**
   * Turns a destination input into what the ledger stores. An NWC URI is checked and sealed into the LP's slot
   * first; `undo` puts the slot back as it was (for when the ledger then refuses), `commit` drops a slot that the
   * new destination no longer uses.
   */
  async function storeDestination(
    method: LpMethods,
    lpId: string,
    d: DestinationInput,
  ): Promise<{ destination: StoredDestination; undo: () => Promise<void> }> {
    if (d.kind !== 'nwc') return { destination: d, undo: async () => undefined }
    let walletPubkey: string
    try {
      walletPubkey = nwcWalletPubkey(d.uri, 'uri')
    } catch (e) {
      // The parser's message names the URI part and never quotes the secret.
      const msg = `args[0].destination.uri: ${(e as Error).message.replace(/^.*?: uri: /, '')}`
      log.warn('lp request refused', { method, code: 'bad_args', field: 'args[0].destination.uri' })
      throw new ApiError('bad_args', msg, 'args[0].destination.uri')
    }
    const store = await secrets()
    const slot = SecretSlots.lpNwc(lpId)
    const previous = store.has(slot) ? await store.get(slot).catch(() => undefined) : undefined
    try {
      await store.put(slot, d.uri)
    } catch (e) {
      log.error('nwc destination could not be sealed', {
        lpId,
        reason: e instanceof SecretBoxError ? e.code : (e as Error).message,
      })
      throw new ApiError('unavailable', 'the NWC connection could not be stored encrypted; see the log')
    }
    const undo = async () => {
      if (previous === undefined) await store.delete(slot).catch(() => false)
      else await store.put(slot, previous).catch(() => undefined)
    }
    return { destination: { kind: 'nwc', secretSlot: slot, walletPubkey }, undo }
  }

  type SetDestinationArgs = { lpId: string; destination: DestinationInput; payout: LpRegisterInput['payout'] }
  function setDestination(o: SetDestinationArgs): Promise<LpView> {
    return serialFor(o.lpId, () => setDestinationSerial(o))
  }

  async function setDestinationSerial(o: SetDestinationArgs): Promise<LpView> {
    const before = await call<LpRow>('lps.setDestination', 'lps.get', { lpId: o.lpId })
    const check = await liveCheck('lps.setDestination', o.lpId, o.destination)
    const { destination, undo } = await storeDestination('lps.setDestination', o.lpId, o.destination)
    try {
      await call(
        'lps.setDestination',
        'lps.setDestination',
        {
          recipientKind: 'lp',
          recipientId: o.lpId,
          destination,
          payout: o.payout,
          check,
          atMs: now(),
          author: AUTHOR,
        },
        { recipientId: 'args[0].lpId', 'destination.secretSlot': 'args[0].destination.uri' },
      )
    } catch (e) {
      await undo()
      throw e
    }
    // A previous NWC connection the LP no longer uses is discarded, so no stale wallet secret stays at rest.
    if (before.destination?.kind === 'nwc' && destination.kind !== 'nwc' && wiring.secrets) {
      await (await secrets()).delete(before.destination.secretSlot).catch(() => false)
    }
    log.info('lp destination changed', { lpId: o.lpId, destination: destination.kind })
    return lpView(await call<LpRow>('lps.setDestination', 'lps.get', { lpId: o.lpId }))
  }

  return {
    'lps.list': async (o) =>
      (await call<LpRow[]>('lps.list', 'lps.list', { includeInactive: o.includeInactive === true })).map(lpView),
    'lps.register': register,
    'lps.setDestination': setDestination,
    'lps.deposit.record': async (o) => {
      const depositId = `dep-${now()}-${randomBytes(4).toString('hex')}`
      const r = await call<DepositView>('lps.deposit.record', 'lps.recordDeposit', {
        id: depositId,
        lpId: o.lpId,
        amountMinor: o.amountMinor,
        note: o.note ?? null,
        atMs: now(),
      })
      log.info('deposit recorded', { lpId: o.lpId, depositId, amountMinor: o.amountMinor })
      return r
    },
    'lps.deposit.confirm': async (o) => {
      const r = await call<DepositChangeView>('lps.deposit.confirm', 'lps.confirmDeposit', {
        depositId: o.depositId,
        atMs: now(),
      })
      log.info('deposit confirmed', { lpId: r.lpId, depositId: r.depositId, balanceMinor: r.balanceMinor })
      return r
    },
    'lps.deposit.reverse': async (o) => {
      const r = await call<DepositChangeView>('lps.deposit.reverse', 'lps.reverseDeposit', {
        depositId: o.depositId,
        reason: o.reason,
        amountMinor: o.amountMinor,
        atMs: now(),
        author: AUTHOR,
      })
      log.info('deposit reversed', { lpId: r.lpId, depositId: r.depositId, status: r.status })
      return r
    },
    'lps.statement': (o) =>
      call('lps.statement', 'lps.statement', { lpId: o.lpId, fromMs: o.fromMs, toMs: o.toMs }).then((s) => {
        const st = s as Awaited<ReturnType<Handlers['lps.statement']>> & { lp: LpRow }
        return { ...st, lp: lpView(st.lp) }
      }),
    'lps.dustSettle': async (o) => {
      const r = await call<Awaited<ReturnType<Handlers['lps.dustSettle']>>>('lps.dustSettle', 'lps.dustSettle', {
        lpId: o.lpId,
        rateMsatPerMajor: o.rateMsatPerMajor,
        fiatMinor: o.fiatMinor,
        note: o.note ?? null,
        atMs: now(),
        author: AUTHOR,
      })
      log.info('lp dust settled', { lpId: o.lpId, fiatMinor: r.fiatMinor, msat: r.msat })
      return r
    },
    'lps.deactivate': async (o) => {
      const r = await call<LpRow & { settledMsat: string | null }>(
        'lps.deactivate',
        'lps.deactivate',
        {
          lpId: o.lpId,
          reason: o.reason,
          settleRemainder:
            o.settleRateMsatPerMajor === undefined ? null : { rateMsatPerMajor: o.settleRateMsatPerMajor },
          atMs: now(),
          author: AUTHOR,
        },
        {
          'settleRemainder.rateMsatPerMajor': 'args[0].settleRateMsatPerMajor',
          rateMsatPerMajor: 'args[0].settleRateMsatPerMajor',
        },
      )
      log.info('lp deactivated', { lpId: o.lpId, accruedMsat: r.accruedMsat, remainingMinor: r.balanceMinor })
      return { ...lpView(r), settledMsat: r.settledMsat }
    },
    'lps.history': (o) =>
      call('lps.history', 'lps.history', { lpId: o.lpId, limit: o.limit, before: o.before ?? null }),
    'lps.statement.send': sendStatement,
    'lps.checkDestination': (o) => serialFor(o.lpId, () => checkAgain(o.lpId)),
    'lps.update': async (o) => {
      const row = await call<LpRow>('lps.update', 'lps.update', { ...o, atMs: now(), author: AUTHOR })
      log.info('lp updated', { lpId: o.lpId, mode: row.mode })
      return lpView(row)
    },
  }
}
