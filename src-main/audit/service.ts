// The audit feature in the running console (docs/audit.md): the start-up gate (the services only ever get a ledger
// that passed the audit check), the head writer (a console-signed head after each batch of ledger transactions and
// at least daily, published to the relays), and the quarter close with the operator's attestation (kind 3080) signed
// on the operator's signer. IPC: `audit.periods`, `audit.closeQuarter`, `audit.head`.
//
// The relay part of the check: at start, when the operator's relays are configured and the console key is known
// (sealed in the secret store, else from the local heads), the relays' newest head and the receipts this console
// published are fetched (a few seconds at most) and checked before the ledger is handed out. When that was not possible (no relays answered, or no local
// head to learn the key from), the same check runs as soon as the fleet feature is up with its relay pool, and a
// refusal then takes the ledger away from every service (state `failed` with the refusal as its reason).

import { hexToBytes } from '@noble/hashes/utils.js'
import {
  AUDIT_HEAD_D,
  AUDIT_HEAD_KIND,
  attestationTemplate,
  type PeriodView,
  parseHeadEvent,
  type QuarterAttestation,
  quarterBounds,
  type SignedHead,
} from '../../src-shared/audit/types'
import type { Clock } from '../../src-shared/clock'
import type { AuditCheckView, AuditHeadView } from '../../src-shared/ipc/audit'
import { ApiError, type Handlers } from '../../src-shared/ipc/contract'
import type { Logger } from '../../src-shared/log'
import { checkEvent, type NostrEvent } from '../../src-shared/nostr/event'
import { KIND_RECEIPT } from '../../src-shared/nostr/kinds'
import { type Signer, signEventChecked } from '../../src-shared/signer'
import type { FleetParts } from '../fleet/feature'
import type { OperatorSignerProvider } from '../fleet/operator-signer'
import type { FleetPartsSlot } from '../fleet/pairing-service'
import type { LedgerStore } from '../ledger/types'
import { createRelayPool, type PoolSubscription, type SubscriptionSpec } from '../nostr/relay-pool'
import { queryOnce } from '../receipts/query'
import { SecretSlots, type SecretStore } from '../secrets/secret-store'
import type { ServiceContext } from '../service-context'
import { createSoftwareSigner } from '../signer/software-signer'
import { checkpointKey } from './checkpoint'
import { AuditHeadWriter } from './heads'
import { readHeads, readPeriods } from './read'
import { readRollbacks } from './rollback'
import { AuditTamperError, checkAuditAtStart, type StartCheckReport } from './start-check'

export const HEAD_DEBOUNCE_MS = 2_000
export const HEAD_TICK_MS = 60 * 60 * 1000
export const RELAY_CHECK_TIMEOUT_MS = 5_000

/** What the gate and the feature share: the check's verdict and report. */
export interface AuditState {
  check: AuditCheckView
  report: StartCheckReport | null
}

export function createAuditState(): AuditState {
  return { check: { state: 'pending', checkedAtMs: null, relayChecked: false, message: null }, report: null }
}

/** The part of a relay pool the relay check needs. */
export interface AuditQueryPool {
  subscribe(spec: SubscriptionSpec): PoolSubscription
}

/** The relays' newest heads from this console and the receipts it published since `sinceSec`. */
export async function fetchRemoteAudit(
  pool: AuditQueryPool,
  relays: readonly string[],
  consolePubkey: string,
  sinceSec: number,
  timeoutMs = RELAY_CHECK_TIMEOUT_MS,
): Promise<{ heads: SignedHead[]; receipts: { eventId: string; paymentHash: string | null }[]; answered: number }> {
  const r = await queryOnce(
    pool,
    [
      { kinds: [AUDIT_HEAD_KIND], authors: [consolePubkey], '#d': [AUDIT_HEAD_D] },
      { kinds: [KIND_RECEIPT], authors: [consolePubkey], since: Math.max(0, sinceSec) },
    ],
    { relays, timeoutMs },
  )
  const heads: SignedHead[] = []
  const receipts: { eventId: string; paymentHash: string | null }[] = []
  for (const ev of r.events as unknown as NostrEvent[]) {
    if (ev.kind === AUDIT_HEAD_KIND) {
      try {
        heads.push({ head: parseHeadEvent(ev), event: ev })
      } catch {
        // Not a head in our format: ignored (only a signature by the console key on a valid head counts).
      }
    } else if (ev.kind === KIND_RECEIPT) {
      receipts.push({ eventId: ev.id, paymentHash: ev.tags.find((t) => t[0] === 'payment_hash')?.[1] ?? null })
    }
  }
  return { heads, receipts, answered: r.caughtUp.length }
}

export interface AuditGateOptions {
  dataDir: string
  state: AuditState
  log: Logger
  clock: Clock
  /** The operator's relays (the settings' list); empty skips the relay part at start. */
  relays: () => readonly string[]
  /** The console key's pubkey from the secret store, without creating it (null when there is none yet). */
  consolePubkey?: () => Promise<string | null>
  /** The start-up checkpoint's MAC key, derived from the sealed console key (null when there is none yet). */
  checkpointKey?: () => Promise<Uint8Array | null>
  /** Test seam: the pool the start-up relay query uses (default: a short-lived pool over `relays`). */
  queryPool?: (
    relays: readonly string[],
  ) => Promise<AuditQueryPool & { close(): Promise<void>; unreachable?: Promise<void> }>
}

/** Runs the start-up check on an opened store; closes it and rethrows `AuditTamperError` when it is refused. */
export async function gateLedger(store: LedgerStore, o: AuditGateOptions): Promise<LedgerStore> {
  const log = o.log
  try {
    const local = readHeads(o.dataDir)
    // The sealed console key decides; without it, the local heads' author (a missing key is the setup's business).
    const sealed = await (o.consolePubkey?.() ?? Promise.resolve(null)).catch((e: Error) => {
      log.warn('audit: console key not readable for the start-up check', { reason: e.message })
      return null
    })
    const consolePubkey = sealed ?? local[local.length - 1]?.event.pubkey ?? null
    let remote: Awaited<ReturnType<typeof fetchRemoteAudit>> | null = null
    const relays = o.relays()
    if (consolePubkey && relays.length > 0) {
      const pool = await (o.queryPool ?? defaultQueryPool(log))(relays)
      try {
        const since = (local[local.length - 1]?.head.time ?? 0) - 86_400
        // Offline (every relay failed to connect): do not hold the start for the whole timeout.
        const gaveUp = pool.unreachable?.then(() => null) ?? new Promise<null>(() => {})
        remote = await Promise.race([fetchRemoteAudit(pool, relays, consolePubkey, since), gaveUp])
        if (remote === null)
          log.warn('audit: no relay reachable for the start-up check; it runs again once the fleet is up')
        else if (remote.answered === 0) remote = null
      } catch (e) {
        log.warn('audit: relays not reachable for the start-up check', { reason: (e as Error).message })
      } finally {
        await pool.close().catch(() => {})
      }
    }
    const checkpointKey = await (o.checkpointKey?.() ?? Promise.resolve(null)).catch((e: Error) => {
      log.warn('audit: checkpoint key not available; the full start-up check runs', { reason: e.message })
      return null
    })
    const report = await checkAuditAtStart({
      store,
      dataDir: o.dataDir,
      log,
      consolePubkey,
      checkpointKey,
      nowMs: () => o.clock.nowMs(),
      ...(remote ? { remoteHeads: remote.heads, publishedReceipts: remote.receipts } : {}),
    })
    o.state.report = report
    o.state.check = { state: 'ok', checkedAtMs: o.clock.nowMs(), relayChecked: remote !== null, message: null }
    void backfill(store, log)
    log.info('audit check passed', {
      mode: report.mode,
      ...(report.fullBecause ? { fullBecause: report.fullBecause } : {}),
      entries: report.size,
      signedSize: report.newest?.head.treeSize ?? 0,
      relays: remote !== null,
    })
    return store
  } catch (e) {
    if (e instanceof AuditTamperError) {
      o.state.check = { state: 'tampered', checkedAtMs: o.clock.nowMs(), relayChecked: false, message: e.message }
      log.error('audit check refused the ledger', { findings: e.findings.length, reason: e.message })
    }
    await store.close().catch(() => {})
    throw e
  }
}

/** The console key's pubkey from a secret store (or its opener), or null when no key was created yet. */
export async function consolePubkeyFromSecrets(
  secrets: SecretStore | (() => Promise<SecretStore>) | undefined,
): Promise<string | null> {
  if (!secrets) return null
  const store = typeof secrets === 'function' ? await secrets() : secrets
  const hex = await store.get(SecretSlots.consoleKey)
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) return null
  const sk = hexToBytes(hex)
  try {
    return await createSoftwareSigner(sk).getPublicKey()
  } finally {
    sk.fill(0)
  }
}

/** The start-up checkpoint's MAC key from a secret store (or its opener), or null when no console key exists yet. */
export async function checkpointKeyFromSecrets(
  secrets: SecretStore | (() => Promise<SecretStore>) | undefined,
): Promise<Uint8Array | null> {
  if (!secrets) return null
  const store = typeof secrets === 'function' ? await secrets() : secrets
  const hex = await store.get(SecretSlots.consoleKey)
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) return null
  const sk = hexToBytes(hex)
  try {
    return checkpointKey(sk)
  } finally {
    sk.fill(0)
  }
}

/** A signer over the sealed console key (restore's rollback statement), or null when no key was created yet. */
export async function consoleSignerFromSecrets(
  secrets: SecretStore | (() => Promise<SecretStore>) | undefined,
): Promise<Signer | null> {
  if (!secrets) return null
  const store = typeof secrets === 'function' ? await secrets() : secrets
  const hex = await store.get(SecretSlots.consoleKey)
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) return null
  return createSoftwareSigner(hexToBytes(hex))
}

/**
 * Re-records, in batches of their own transactions, the rows of tables a migration changed (or that predate the
 * log) beyond what the migration could record itself. Runs in the background; stops when done or the store closes.
 */
export async function backfill(store: LedgerStore, log: Logger): Promise<number> {
  let total = 0
  try {
    for (;;) {
      const r = await store.call<{ recorded: number; pending: number }>('audit.backfill', { limit: 2000 })
      total += r.recorded
      if (r.pending === 0) break
    }
    if (total > 0) log.info('audit: rows re-recorded after a migration', { rows: total })
  } catch (e) {
    log.warn('audit: re-recording paused; it continues at the next start', {
      reason: (e as Error).message,
      rows: total,
    })
  }
  return total
}

function defaultQueryPool(log: Logger) {
  return async (relays: readonly string[]) => {
    const failed = new Set<string>()
    let allFailed = () => {}
    const unreachable = new Promise<void>((resolve) => {
      allFailed = resolve
    })
    const pool = await createRelayPool({
      relays,
      logger: log.child('audit-pool'),
      connectTimeoutMs: 3_000,
      onStatus: (h) => {
        if ((h.state === 'disconnected' || h.state === 'auth-failed') && h.errorCount > 0) failed.add(h.url)
        if (failed.size >= relays.length) allFailed()
      },
    })
    return Object.assign(pool, { unreachable })
  }
}

export interface AuditWiring {
  state: AuditState
  fleet: FleetPartsSlot
  operatorSigner: OperatorSignerProvider
  /** Takes the ledger away from every service with this reason (a refusal found after start). */
  failLedger: (reason: string) => void
  /**
   * The SHA-256 of the quarter's export manifest, computed at close (the export feature plugs in here); null or
   * absent: the attestation carries `manifest_sha256: null` unless the caller passed one.
   */
  manifestFor?: (
    period: string,
    quarterHead: SignedHead,
    store: LedgerStore,
    context: { dataDir: string; nowMs: number; operatorPubkey: string },
  ) => Promise<string | null>
  /** The start-up checkpoint's MAC key (the relay re-check is incremental with it, like the gate's). */
  checkpointKey?: () => Promise<Uint8Array | null>
  /** Test seam: timers. */
  debounceMs?: number
}

const accepted = (rs: readonly { outcome: string }[]) =>
  rs.filter((r) => r.outcome === 'accepted' || r.outcome === 'duplicate').length

export function auditHandlers(
  ctx: ServiceContext,
  w: AuditWiring,
): Pick<Handlers, 'audit.periods' | 'audit.closeQuarter' | 'audit.head'> {
  const log = ctx.log.child('audit')
  let writer: AuditHeadWriter | null = null
  let parts: FleetParts | null = null
  let generation = 0
  let stopTimers: (() => void) | null = null
  let closing = false

  async function start(p: FleetParts, gen: number): Promise<void> {
    const publish = async (ev: NostrEvent) => accepted(await p.pool.publish(ev, { relays: p.relays }))
    if (!w.state.check.relayChecked && p.relays.length > 0) {
      const pk = await p.consoleSigner.getPublicKey()
      const local = readHeads(ctx.dataDir)
      try {
        const remote = await fetchRemoteAudit(p.pool, p.relays, pk, (local[local.length - 1]?.head.time ?? 0) - 86_400)
        if (gen !== generation) return
        if (remote.answered > 0) {
          const checkpointKey = await (w.checkpointKey?.() ?? Promise.resolve(null)).catch(() => null)
          await checkAuditAtStart({
            store: p.ledger,
            dataDir: ctx.dataDir,
            log,
            consolePubkey: pk,
            checkpointKey,
            nowMs: () => ctx.clock.nowMs(),
            remoteHeads: remote.heads,
            publishedReceipts: remote.receipts,
          })
          w.state.check = { state: 'ok', checkedAtMs: ctx.clock.nowMs(), relayChecked: true, message: null }
        }
      } catch (e) {
        if (e instanceof AuditTamperError) {
          w.state.check = { state: 'tampered', checkedAtMs: ctx.clock.nowMs(), relayChecked: true, message: e.message }
          log.error('audit check against the relays refused the ledger', { reason: e.message })
          w.failLedger(e.message)
          return
        }
        log.warn('audit: relay check failed; it runs again at the next start', { reason: (e as Error).message })
      }
    }
    if (gen !== generation || w.state.check.state === 'tampered') return
    const consolePubkey = await p.consoleSigner.getPublicKey()
    const wr = await AuditHeadWriter.open({
      store: p.ledger,
      dataDir: ctx.dataDir,
      log,
      signer: p.consoleSigner,
      consolePubkey,
      nowMs: () => ctx.clock.nowMs(),
      publish,
    })
    if (gen !== generation) return
    writer = wr
    const sync = () => {
      if (closing || writer !== wr) return
      wr.sync().catch((e: Error) => log.warn('audit head not signed', { reason: e.message }))
    }
    sync()
    let lastSeq = -1
    let timer: ReturnType<typeof setTimeout> | null = null
    const off = p.ledger.onStatus((s) => {
      if (s.seq === lastSeq || timer) return
      lastSeq = s.seq
      timer = setTimeout(() => {
        timer = null
        sync()
      }, w.debounceMs ?? HEAD_DEBOUNCE_MS)
      timer.unref?.()
    })
    const tick = setInterval(sync, HEAD_TICK_MS)
    tick.unref?.()
    stopTimers = () => {
      off()
      if (timer) clearTimeout(timer)
      clearInterval(tick)
    }
    void republishAttestations(p, publish)
    // The newest rollback statement, published like the heads (relays keep the newest per d tag; the file keeps all).
    const rb = readRollbacks(ctx.dataDir).at(-1)
    if (rb)
      void publish(rb.event).then(
        (n) => log.info('audit: rollback statement published', { id: rb.event.id, relays: n }),
        (e: Error) => log.warn('audit: rollback statement not published', { id: rb.event.id, reason: e.message }),
      )
  }

  async function republishAttestations(p: FleetParts, publish: (ev: NostrEvent) => Promise<number>): Promise<void> {
    try {
      const rows = await p.ledger.query<{ attestation_json: string }>(
        `SELECT attestation_json FROM audit_period p WHERE NOT EXISTS
           (SELECT 1 FROM audit_publish a WHERE a.event_id = p.attestation_id AND a.relays_ok > 0)`,
      )
      for (const r of rows) {
        const ev = JSON.parse(r.attestation_json) as NostrEvent
        const n = await publish(ev).catch(() => 0)
        await p.ledger.call('audit.recordPublish', {
          eventId: ev.id,
          relaysOk: n,
          detail: null,
          atMs: ctx.clock.nowMs(),
        })
      }
    } catch (e) {
      log.warn('audit: attestation not republished', { reason: (e as Error).message })
    }
  }

  w.fleet.onSet((p) => {
    generation++
    stopTimers?.()
    stopTimers = null
    writer = null
    parts = p
    if (p) {
      const gen = generation
      start(p, gen).catch((e: Error) => log.error('audit feature did not start', { reason: e.message }))
    }
  })
  ctx.onClose(() => {
    closing = true
    stopTimers?.()
  })

  function need(): { p: FleetParts; wr: AuditHeadWriter } {
    if (w.state.check.state === 'tampered') throw new ApiError('unavailable', w.state.check.message ?? 'ledger refused')
    if (!parts || !writer)
      throw new ApiError(
        'unavailable',
        'the audit log signs heads once the operator setup is complete and the fleet runs',
      )
    return { p: parts, wr: writer }
  }

  return {
    'audit.periods': async (): Promise<PeriodView[]> => readPeriods(ctx.ledger(), ctx.clock.nowMs()),
    'audit.head': async (): Promise<AuditHeadView> => {
      const store = ctx.ledger()
      const n = await store.query<{ n: number }>('SELECT count(*) AS n FROM audit_leaf')
      const h = writer?.latest() ?? readHeads(ctx.dataDir).at(-1) ?? null
      return {
        entries: Number(n[0]?.n ?? 0),
        treeSize: h?.head.treeSize ?? null,
        root: h?.head.root ?? null,
        ledgerSeq: h?.head.ledgerSeq ?? null,
        signedAtMs: h ? h.head.time * 1000 : null,
        eventId: h?.event.id ?? null,
        consolePubkey: h?.event.pubkey ?? null,
        publishedTo: writer?.publishedTo ?? 0,
        check: { ...w.state.check },
        rollbacks: readRollbacks(ctx.dataDir).map((r) => ({
          eventId: r.event.id,
          toSize: r.statement.toSize,
          toRoot: r.statement.toRoot,
          fromSize: r.statement.fromSize,
          fromHeadEventId: r.statement.fromHeadEventId,
          atMs: r.statement.atMs,
          reason: r.statement.reason,
        })),
      }
    },
    'audit.closeQuarter': async ({ period, manifestSha256 }) => {
      const { p, wr } = need()
      const nowMs = ctx.clock.nowMs()
      const b = quarterBounds(period)
      if (nowMs < b.endMs)
        throw new ApiError(
          'bad_args',
          `period: ${period} has not ended yet; it can be closed from ${new Date(b.endMs).toISOString()}`,
          'period',
        )
      const already = await p.ledger.query('SELECT 1 AS x FROM audit_period WHERE period = ?', [period])
      if (already.length > 0) throw new ApiError('conflict', `period: ${period} is already closed`, 'period')
      const signer = w.operatorSigner.current()
      if (!signer) throw new ApiError('unavailable', `operatorSigner: ${w.operatorSigner.describe()}`, 'operatorSigner')
      if (w.operatorSigner.pubkey() !== p.operatorPubkey)
        throw new ApiError(
          'unavailable',
          'operatorSigner: the connected signer is not the pinned operator key',
          'operatorSigner',
        )
      const quarterHead = await wr.sync({ force: true })
      if (!quarterHead) throw new ApiError('internal', 'audit: no head was signed for the close')
      const manifest =
        manifestSha256 ??
        (w.manifestFor
          ? await w.manifestFor(period, quarterHead, p.ledger, {
              dataDir: ctx.dataDir,
              nowMs,
              operatorPubkey: p.operatorPubkey,
            })
          : null)
      const att: QuarterAttestation = {
        period,
        startMs: b.startMs,
        endMs: b.endMs,
        treeSize: quarterHead.head.treeSize,
        root: quarterHead.head.root,
        ledgerSeq: quarterHead.head.ledgerSeq,
        headEventId: quarterHead.event.id,
        consolePubkey: quarterHead.event.pubkey,
        closedAtMs: nowMs,
        manifestSha256: manifest,
      }
      // Shown on the operator's signer and confirmed there; the result is checked against the pinned key.
      const ev = await signEventChecked(signer, attestationTemplate(att, Math.floor(nowMs / 1000)), p.operatorPubkey)
      if (!checkEvent(ev).ok) throw new ApiError('internal', 'operatorSigner: the attestation does not verify')
      await p.ledger.call('audit.closePeriod', {
        period,
        closedAtMs: nowMs,
        closedBy: p.operatorPubkey,
        treeSize: att.treeSize,
        root: att.root,
        ledgerSeq: att.ledgerSeq,
        headEventId: att.headEventId,
        headJson: JSON.stringify(quarterHead.event),
        attestationId: ev.id,
        attestationJson: JSON.stringify(ev),
        manifestSha256: manifest,
      })
      let publishedTo = 0
      try {
        publishedTo = accepted(await p.pool.publish(ev, { relays: p.relays }))
      } catch (e) {
        log.warn('audit: attestation not published yet', { id: ev.id, reason: (e as Error).message })
      }
      await p.ledger.call('audit.recordPublish', {
        eventId: ev.id,
        relaysOk: publishedTo,
        detail: publishedTo === 0 ? 'no relay accepted it' : null,
        atMs: ctx.clock.nowMs(),
      })
      log.info('quarter closed', { period, treeSize: att.treeSize, attestation: ev.id, publishedTo })
      const periods = await readPeriods(p.ledger, ctx.clock.nowMs())
      const view = periods.find((x) => x.period === period)
      if (!view) throw new ApiError('internal', `audit: ${period} missing after the close`)
      return { period: view, publishedTo }
    },
  }
}
