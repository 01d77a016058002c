// The pairing service (docs/protocol.md §10, §7; docs/architecture.md §3): the `fleet.pair`, `fleet.renew`, `fleet.revoke` and
// `fleet.delegations` IPC handlers (shapes in src-shared/ipc/fleet-pairing.ts) over the pure pairing library
// (src-shared/nostr/pairing.ts), the operator's signer (./operator-signer.ts) and the running fleet feature.
//
// Order of work for a pairing: validate everything at the boundary; refuse with `unavailable` BEFORE anything is
// signed when the fleet feature is not running or no operator signer is connected (or it holds another key than
// the pinned one); sign delegation, config, roster (each checked against the pinned key by the library); store
// the delegation and hand the config and roster to the fleet service, which stores them through the existing
// ledger procedures and updates its in-memory history; then publish config, then roster. Roster changes run one
// at a time, each reading the newest stored roster, so two pairings in the same second both stay listed.
//
// The receive-only NWC URI goes only into the one-shot payload: it is never stored, never logged, and appears in
// the answer only inside `uri` / `qrSvg`, which the renderer shows once.
//
// Also here: the delegation expiry warnings for the worklist and the once-a-day notice (a pure function over the
// warnings, the last notice day per ATM and the clock; the shell only runs it on a timer).
import { nowSec } from '../../src-shared/clock'
import { ConfigWordsError, checkConfigFields } from '../../src-shared/fleet/config-words'
import { walletConnectionProblem } from '../../src-shared/fleet/wallet-connection'
import { ApiError, type Handlers, type Notice } from '../../src-shared/ipc/contract'
import type { MachineDetailView, MachineRelayView, WalletRevocationView } from '../../src-shared/ipc/fleet-machine'
import type {
  DelegationStatus,
  DelegationView,
  DelegationWarningView,
  DelegationWindowView,
} from '../../src-shared/ipc/fleet-pairing'
import { DELEGATION_WARN_DAYS } from '../../src-shared/nostr/kinds'
import {
  buildMachineConfigTemplate,
  configHistory,
  delegationTokenSha256,
  latestConfig,
  type MachineConfig,
  MachineConfigError,
  type MachineConfigV1,
} from '../../src-shared/nostr/machine-config'
import {
  createPairing,
  type IssuedDelegation,
  normalizePubkey,
  PairingError,
  renewDelegation,
  revokeAtm,
} from '../../src-shared/nostr/pairing'
import { nextRosterCreatedAt, type Roster, rosterAt } from '../../src-shared/nostr/roster'
import { type Signer, SignerOutputError, signEventChecked } from '../../src-shared/signer'
import type { LedgerStore } from '../ledger/types'
import type { ServiceContext } from '../service-context'
import { type FleetParts, relayHealthView } from './feature'
import { NO_OPERATOR_SIGNER, type OperatorSignerProvider } from './operator-signer'
import { loadConfigs, loadDelegations, loadRosters } from './store'
import { loadWalletRevokeAcks, pendingWalletRevocations } from './wallet-revocations'

type PairingMethods =
  | 'fleet.pair'
  | 'fleet.renew'
  | 'fleet.revoke'
  | 'fleet.delegations'
  | 'fleet.machine'
  | 'fleet.setConfig'
  | 'fleet.walletRevocations'
  | 'fleet.confirmWalletRevoked'

const DAY_SEC = 86_400
const NOTICE_CHECK_INTERVAL_MS = 3_600_000

/** Where the running fleet feature's parts are found (set by the setup when the feature starts and stops). */
export interface FleetPartsSlot {
  current(): FleetParts | null
  set(parts: FleetParts | null): void
  /** Called with the parts each time the feature starts (the expiry notice check runs then). */
  onSet(cb: (parts: FleetParts | null) => void): void
}

export function createFleetPartsSlot(): FleetPartsSlot {
  let parts: FleetParts | null = null
  const listeners: ((p: FleetParts | null) => void)[] = []
  return {
    current: () => parts,
    set(p) {
      parts = p
      for (const cb of listeners) cb(p)
    },
    onSet(cb) {
      listeners.push(cb)
    },
  }
}

export interface PairingWiring {
  signer: OperatorSignerProvider
  fleet: FleetPartsSlot
}

// ---- pure parts ------------------------------------------------------------------------------------------------

/** The roster in force now (newest version) and the created_at the next version must exceed. */
export function rosterState(rosters: readonly Roster[]): { members: string[]; createdAt: number | null } {
  const latest = rosterAt(rosters, Number.MAX_SAFE_INTEGER)
  const createdAt = rosters.length === 0 ? null : Math.max(...rosters.map((r) => r.createdAt))
  return { members: latest ? [...latest.members] : [], createdAt }
}

function statusOf(untilSec: number, now: number, revoked: boolean): DelegationStatus {
  if (revoked) return 'revoked'
  if (untilSec <= now) return 'expired'
  return untilSec - now <= DELEGATION_WARN_DAYS * DAY_SEC ? 'expiring' : 'active'
}

const daysLeft = (untilSec: number, now: number): number => Math.max(0, Math.floor((untilSec - now) / DAY_SEC))

/**
 * Every delegation, newest issue first, with its status. An ATM counts as revoked when a roster exists and its
 * newest version does not list the ATM.
 */
export function delegationViews(
  delegations: readonly IssuedDelegation[],
  roster: { members: readonly string[]; createdAt: number | null },
  machineIds: ReadonlyMap<string, string>,
  now: number,
): DelegationView[] {
  const newestUntil = new Map<string, number>()
  for (const d of delegations)
    newestUntil.set(d.atmPubkey, Math.max(newestUntil.get(d.atmPubkey) ?? 0, d.createdBefore))
  const seenNewest = new Set<string>()
  return [...delegations]
    .map((d, i) => ({ d, i }))
    .sort((a, b) => b.d.issuedAt - a.d.issuedAt || b.i - a.i)
    .map(({ d }) => {
      const revoked = roster.createdAt !== null && !roster.members.includes(d.atmPubkey)
      const newest = !seenNewest.has(d.atmPubkey) && newestUntil.get(d.atmPubkey) === d.createdBefore
      if (newest) seenNewest.add(d.atmPubkey)
      return {
        atmPubkey: d.atmPubkey,
        machineId: machineIds.get(d.atmPubkey) ?? null,
        conditions: d.conditions,
        fromSec: d.createdAfter,
        untilSec: d.createdBefore,
        issuedAtSec: d.issuedAt,
        status: statusOf(d.createdBefore, now, revoked),
        daysLeft: daysLeft(d.createdBefore, now),
        newest,
      }
    })
}

/** The worklist's warnings: the newest delegation of each non-revoked ATM, when expiring or expired. */
export function delegationWarnings(views: readonly DelegationView[]): DelegationWarningView[] {
  return views
    .filter(
      (v): v is DelegationView & { status: 'expiring' | 'expired' } =>
        v.newest && (v.status === 'expiring' || v.status === 'expired'),
    )
    .map((v) => ({
      atmPubkey: v.atmPubkey,
      machineId: v.machineId,
      untilSec: v.untilSec,
      daysLeft: v.daysLeft,
      state: v.status,
    }))
    .sort((a, b) => a.untilSec - b.untilSec || (a.atmPubkey < b.atmPubkey ? -1 : 1))
}

/**
 * Which expiry notices are due: at most one per ATM per UTC day, for ATMs with a warning. Pure: takes the day each
 * ATM was last noticed and answers the notices plus the updated map (the caller keeps it).
 */
export function dueExpiryNotices(
  warnings: readonly DelegationWarningView[],
  lastNoticeDay: ReadonlyMap<string, number>,
  nowMs: number,
): { notices: Notice[]; lastNoticeDay: Map<string, number> } {
  const day = Math.floor(nowMs / (DAY_SEC * 1000))
  const next = new Map(lastNoticeDay)
  const notices: Notice[] = []
  for (const w of warnings) {
    if (next.get(w.atmPubkey) === day) continue
    next.set(w.atmPubkey, day)
    const who = w.machineId ?? `${w.atmPubkey.slice(0, 12)}…`
    notices.push({
      level: 'warn',
      text:
        w.state === 'expired'
          ? `The delegation of ATM ${who} has expired: renew it so its records are accepted again`
          : `The delegation of ATM ${who} expires in ${w.daysLeft} day(s): renew it`,
      atMs: nowMs,
    })
  }
  return { notices, lastNoticeDay: next }
}

/** Delegation views read from the ledger (used by `fleet.delegations` and the worklist). */
export async function loadDelegationViews(
  ledger: LedgerStore,
  operatorPubkey: string | undefined,
  now: number,
): Promise<DelegationView[]> {
  const delegations = await loadDelegations(ledger)
  if (delegations.length === 0) return []
  const rosters = operatorPubkey ? await loadRosters(ledger, operatorPubkey) : []
  const configs = operatorPubkey ? await loadConfigs(ledger, operatorPubkey) : []
  const machineIds = new Map<string, string>()
  for (const c of configs) machineIds.set(c.atmPubkey, c.machineId)
  return delegationViews(delegations, rosterState(rosters), machineIds, now)
}

// ---- shell -----------------------------------------------------------------------------------------------------

/** Library refusals become bad_args naming the IPC argument; signer mismatches become `unavailable`. */
function toApi(e: unknown, fieldMap: Record<string, string>): unknown {
  if (e instanceof PairingError || e instanceof MachineConfigError) {
    const top = e.field.split(/[.[]/)[0]!
    const mapped = fieldMap[top]
    const path = mapped ? `args[0].${mapped}${e.field.slice(top.length)}` : `args[0].${e.field}`
    return new ApiError('bad_args', `${path}: ${e.message.slice(e.field.length + 2)}`, path)
  }
  if (e instanceof SignerOutputError) return new ApiError('unavailable', `the operator's signer: ${e.message}`)
  return e
}

const windowView = (d: IssuedDelegation): DelegationWindowView => ({
  conditions: d.conditions,
  fromSec: d.createdAfter,
  untilSec: d.createdBefore,
})

export function pairingHandlers(ctx: ServiceContext, wiring: PairingWiring): Pick<Handlers, PairingMethods> {
  const log = ctx.log.child('pairing')
  // Roster changes one at a time: each reads the roster the previous one stored.
  let chain: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn)
    chain = run.catch(() => {})
    return run
  }

  /** The running fleet feature and a signer holding the pinned operator key, or `unavailable` (nothing signed). */
  async function ready(): Promise<{ parts: FleetParts; signer: Signer; consolePubkey: string }> {
    const parts = wiring.fleet.current()
    if (!parts)
      throw new ApiError('unavailable', 'the fleet feature is not running: finish the setup (operator, wallet, relays)')
    const signer = wiring.signer.current()
    if (!signer) throw new ApiError('unavailable', NO_OPERATOR_SIGNER)
    const pk = wiring.signer.pubkey() ?? (await signer.getPublicKey())
    if (pk !== parts.operatorPubkey) {
      log.warn('operator signer refused', { reason: 'key differs from the pinned operator key', signerPubkey: pk })
      throw new ApiError('unavailable', 'the connected signer does not hold the pinned operator key')
    }
    return { parts, signer, consolePubkey: await parts.consoleSigner.getPublicKey() }
  }

  async function publish(parts: FleetParts, what: string, ev: { id: string }): Promise<string[]> {
    const results = await parts.pool.publish(ev as never)
    const ok = results.filter((r) => r.ok).map((r) => r.relay)
    if (ok.length === 0) {
      log.warn('publish failed on every relay', { what, eventId: ev.id, relays: results.length })
      ctx.emit('notice', {
        level: 'warn',
        text: `The ${what} was signed and stored but no relay accepted it yet`,
        atMs: ctx.clock.nowMs(),
      })
    } else log.info('published', { what, eventId: ev.id, relays: ok.length })
    return ok
  }

  // Expiry notices: checked when the fleet feature starts and hourly while it runs.
  let lastNoticeDay = new Map<string, number>()
  const checkExpiry = async () => {
    const parts = wiring.fleet.current()
    if (!parts) return
    try {
      const views = await loadDelegationViews(parts.ledger, parts.operatorPubkey, nowSec(ctx.clock))
      const due = dueExpiryNotices(delegationWarnings(views), lastNoticeDay, ctx.clock.nowMs())
      lastNoticeDay = due.lastNoticeDay
      for (const n of due.notices) ctx.emit('notice', n)
    } catch (e) {
      log.warn('delegation expiry check failed', { reason: (e as Error).message })
    }
  }
  wiring.fleet.onSet((p) => {
    if (p) void checkExpiry()
  })
  const timer = setInterval(() => void checkExpiry(), NOTICE_CHECK_INTERVAL_MS)
  timer.unref?.()
  ctx.onClose(() => clearInterval(timer))

  return {
    'fleet.pair': async (a) => {
      // The ATM's wallet connections are checked whole before anything else (like the operator's own connection).
      for (const f of ['nwcReceiveOnlyUri', 'nwcCashInUri'] as const) {
        const uri = a[f]
        const why = uri === undefined ? null : walletConnectionProblem(f, uri)
        if (why) throw new ApiError('bad_args', `args[0].${f}: ${why}`, `args[0].${f}`)
      }
      const { parts, signer, consolePubkey } = await ready()
      return serial(async () => {
        const rosters = await loadRosters(parts.ledger, parts.operatorPubkey)
        const current = rosterState(rosters)
        // A key already paired is not silently re-configured: the operator sees the machine it is paired as (and,
        // on the screen, the difference) and confirms the replacement with `replace: true`. Nothing is signed here.
        let atmHex: string
        try {
          atmHex = normalizePubkey('atmNpubOrHex', extractAtmKey(a.atm))
        } catch (e) {
          throw toApi(e, { atmNpubOrHex: 'atm' })
        }
        const existingVersions = await loadConfigs(parts.ledger, parts.operatorPubkey, atmHex)
        const existing = latestConfig(existingVersions)
        if (existing && a.replace !== true) {
          const state = current.members.includes(atmHex) ? 'is already paired' : 'was paired before (now revoked)'
          log.info('pairing refused: key already paired', { atmPubkey: atmHex, machineId: existing.machineId })
          throw new ApiError(
            'conflict',
            `args[0].atm: this ATM ${state} as machine ${existing.machineId} (${existing.name}); pairing it again replaces that machine's configuration, so confirm the replacement first`,
            'args[0].atm',
          )
        }
        let pairing: Awaited<ReturnType<typeof createPairing>>
        try {
          pairing = await createPairing(
            {
              atmNpubOrHex: extractAtmKey(a.atm),
              operatorPubkey: parts.operatorPubkey,
              consolePubkey,
              relays: [...parts.relays],
              machineId: a.machineId,
              name: a.name,
              currency: a.currency,
              fees: a.fees,
              discountPpm: a.discountPpm,
              limits: {
                cash_out: limitsOf(a.limits.cash_out, 'limits.cash_out'),
                cash_in: limitsOf(a.limits.cash_in, 'limits.cash_in'),
              },
              currentMembers: current.members,
              currentRosterCreatedAt: current.createdAt,
              currentConfigCreatedAt: existing ? Math.max(...existingVersions.map((c) => c.createdAt)) : null,
              ...(a.windowDays !== undefined ? { windowDays: a.windowDays } : {}),
              ...(a.nwcReceiveOnlyUri !== undefined ? { nwcReceiveOnlyUri: a.nwcReceiveOnlyUri } : {}),
              ...(a.nwcCashInUri !== undefined ? { nwcCashInUri: a.nwcCashInUri } : {}),
            },
            signer,
            ctx.clock,
          )
        } catch (e) {
          throw toApi(e, { atmNpubOrHex: 'atm' })
        }
        await parts.ledger.call('fleet.recordDelegation', pairing.delegation)
        await parts.fleet.ingestOperatorEvent(pairing.configEvent)
        if (pairing.rosterEvent) await parts.fleet.ingestOperatorEvent(pairing.rosterEvent)
        await publish(parts, 'machine config', pairing.configEvent)
        if (pairing.rosterEvent) await publish(parts, 'roster', pairing.rosterEvent)
        log.info(existing ? 'ATM paired again, replacing its configuration' : 'ATM paired', {
          atmPubkey: pairing.atmPubkey,
          machineId: a.machineId,
          ...(existing ? { replacedMachineId: existing.machineId } : {}),
          untilSec: pairing.delegation.createdBefore,
          withWallet: a.nwcReceiveOnlyUri !== undefined,
          withCashInWallet: a.nwcCashInUri !== undefined,
        })
        ctx.emit('notice', { level: 'info', text: `ATM ${a.machineId} paired`, atMs: ctx.clock.nowMs() })
        await checkExpiry()
        return {
          machineId: a.machineId,
          atmPubkey: pairing.atmPubkey,
          uri: pairing.uri,
          qrSvg: pairing.svg,
          delegation: windowView(pairing.delegation),
          rosterEventId: pairing.rosterEvent?.id ?? null,
          configEventId: pairing.configEvent.id,
        }
      })
    },
    'fleet.renew': async ({ atmPubkey, windowDays }) => {
      const { parts, signer, consolePubkey } = await ready()
      const rosters = await loadRosters(parts.ledger, parts.operatorPubkey)
      const current = rosterState(rosters)
      if (!current.members.includes(atmPubkey))
        throw new ApiError(
          'not_found',
          'args[0].atmPubkey: this ATM is not in the roster (pair it first)',
          'args[0].atmPubkey',
        )
      const configs = await loadConfigs(parts.ledger, parts.operatorPubkey, atmPubkey)
      const latest = configs.at(-1)
      const machineId = latest?.machineId
      if (latest === undefined || machineId === undefined)
        throw new ApiError('not_found', 'args[0].atmPubkey: no machine config for this ATM', 'args[0].atmPubkey')
      let r: Awaited<ReturnType<typeof renewDelegation>>
      try {
        r = await renewDelegation(
          {
            atmPubkey,
            operatorPubkey: parts.operatorPubkey,
            consolePubkey,
            machineId,
            relays: [...parts.relays],
            currency: latest.currency,
            configCreatedAt: Math.max(...configs.map((c) => c.createdAt)),
            ...(windowDays !== undefined ? { windowDays } : {}),
            // The same config, re-signed naming the new token: records under the old one stop counting (§6).
            config: {
              v: 1,
              atmPubkey: latest.atmPubkey,
              machineId: latest.machineId,
              name: latest.name,
              currency: latest.currency,
              consolePubkey: latest.consolePubkey,
              relays: [...latest.relays],
              fees: latest.fees,
              discountPpm: latest.discountPpm,
              limits: latest.limits,
            },
          },
          signer,
          ctx.clock,
        )
      } catch (e) {
        throw toApi(e, {})
      }
      await parts.ledger.call('fleet.recordDelegation', r.delegation)
      if (r.configEvent) {
        await parts.fleet.ingestOperatorEvent(r.configEvent)
        await publish(parts, 'machine config', r.configEvent)
      }
      await checkExpiry()
      log.info('delegation renewed', { atmPubkey, machineId, untilSec: r.delegation.createdBefore })
      return { atmPubkey, machineId, uri: r.uri, qrSvg: r.svg, delegation: windowView(r.delegation) }
    },
    'fleet.revoke': async ({ atmPubkey, reason }) => {
      const { parts, signer } = await ready()
      return serial(async () => {
        const current = rosterState(await loadRosters(parts.ledger, parts.operatorPubkey))
        if (!current.members.includes(atmPubkey))
          throw new ApiError('not_found', 'args[0].atmPubkey: this ATM is not in the roster', 'args[0].atmPubkey')
        let ev: Awaited<ReturnType<typeof revokeAtm>>
        try {
          ev = await revokeAtm(
            {
              atmPubkey,
              operatorPubkey: parts.operatorPubkey,
              currentMembers: current.members,
              currentRosterCreatedAt: current.createdAt,
            },
            signer,
            ctx.clock,
          )
        } catch (e) {
          throw toApi(e, {})
        }
        await parts.fleet.ingestOperatorEvent(ev)
        await publish(parts, 'roster', ev)
        log.info('ATM revoked', { atmPubkey, rosterEventId: ev.id, reason })
        ctx.emit('notice', { level: 'info', text: 'ATM revoked', atMs: ctx.clock.nowMs() })
        return {
          atmPubkey,
          rosterEventId: ev.id,
          members: current.members.filter((m) => m !== atmPubkey),
        }
      })
    },
    'fleet.delegations': async () =>
      loadDelegationViews(ctx.ledger(), ctx.settings.get().operatorPubkey, nowSec(ctx.clock)),

    'fleet.machine': async ({ atm }) => {
      let atmPubkey: string
      try {
        atmPubkey = normalizePubkey('atm', extractAtmKey(atm))
      } catch (e) {
        throw toApi(e, {})
      }
      const parts = wiring.fleet.current()
      const ledger = parts?.ledger ?? ctx.ledger()
      const operatorPubkey = parts?.operatorPubkey ?? ctx.settings.get().operatorPubkey
      const machines = parts ? await parts.fleet.machines() : []
      const machine = machines.find((m) => m.atmPubkey === atmPubkey)
      if (!machine || !operatorPubkey)
        throw new ApiError('not_found', 'args[0].atm: the console knows no machine with this key', 'args[0].atm')
      const configs = await loadConfigs(ledger, operatorPubkey, atmPubkey)
      const views = await loadDelegationViews(ledger, operatorPubkey, nowSec(ctx.clock))
      const last = await ledger.query<{
        event_id: string
        created_at: number
        received_at_ms: number
        outcome: 'booked' | 'history' | 'rejected'
        reason: string | null
      }>(
        `SELECT event_id, created_at, received_at_ms, outcome, reason FROM fleet_record_outcome
         WHERE atm_pubkey = ? ORDER BY received_at_ms DESC, id DESC LIMIT 1`,
        [atmPubkey],
      )
      const pending = await walletRevocations(ledger, operatorPubkey)
      return machineDetail({
        machine,
        configs,
        delegation: views.find((v) => v.atmPubkey === atmPubkey && v.newest) ?? null,
        last: last[0] ?? null,
        poolHealth: parts ? parts.pool.health().map(relayHealthView) : [],
        walletRevocation: pending.find((p) => p.atmPubkey === atmPubkey) ?? null,
      })
    },

    'fleet.setConfig': async (a) => {
      // Checked in the operator's units before the signer is asked anything.
      try {
        checkConfigFields({ ...a, machineId: 'x' })
      } catch (e) {
        if (e instanceof ConfigWordsError)
          throw new ApiError('bad_args', `args[0].${e.field}: ${e.message}`, `args[0].${e.field}`)
        throw e
      }
      const { parts, signer } = await ready()
      return serial(async () => {
        const configs = await loadConfigs(parts.ledger, parts.operatorPubkey, a.atmPubkey)
        const latest = latestConfig(configs)
        const current = rosterState(await loadRosters(parts.ledger, parts.operatorPubkey))
        if (!latest || !current.members.includes(a.atmPubkey))
          throw new ApiError(
            'not_found',
            'args[0].atmPubkey: this machine is not paired (pair it before changing its configuration)',
            'args[0].atmPubkey',
          )
        if (a.baseEventId !== undefined && a.baseEventId !== latest.eventId)
          throw new ApiError(
            'conflict',
            'args[0].baseEventId: the configuration changed since you opened it; reopen the machine and edit again',
            'args[0].baseEventId',
          )
        // The new version keeps the delegation in force: it names the same token as the version it replaces.
        const token = latest.delegationSha256
          ? (await loadDelegations(parts.ledger)).find(
              (d) => d.atmPubkey === a.atmPubkey && delegationTokenSha256(d.token) === latest.delegationSha256,
            )?.token
          : undefined
        const next: MachineConfigV1 = {
          v: 1,
          atmPubkey: a.atmPubkey,
          machineId: latest.machineId,
          name: a.name,
          currency: a.currency,
          consolePubkey: latest.consolePubkey,
          relays: [...a.relays],
          fees: a.fees,
          discountPpm: a.discountPpm,
          limits: {
            cash_out: limitsOf(a.limits.cash_out, 'limits.cash_out'),
            cash_in: limitsOf(a.limits.cash_in, 'limits.cash_in'),
          },
        }
        let ev: Awaited<ReturnType<typeof signEventChecked>>
        try {
          // Dated after the newest version: relays keep one version per address and break a tie by the lower id.
          const createdAt = nextRosterCreatedAt(nowSec(ctx.clock), Math.max(...configs.map((c) => c.createdAt)))
          ev = await signEventChecked(signer, buildMachineConfigTemplate(next, createdAt, token), parts.operatorPubkey)
        } catch (e) {
          throw toApi(e, {})
        }
        await parts.fleet.ingestOperatorEvent(ev)
        const publishedTo = await publish(parts, 'machine config', ev)
        log.info('machine config changed', { atmPubkey: a.atmPubkey, machineId: latest.machineId, eventId: ev.id })
        ctx.emit('notice', {
          level: 'info',
          text: `Configuration of ${latest.machineId} signed and published`,
          atMs: ctx.clock.nowMs(),
        })
        return { atmPubkey: a.atmPubkey, configEventId: ev.id, createdAt: ev.created_at, publishedTo }
      })
    },

    'fleet.walletRevocations': async () => {
      const operatorPubkey = ctx.settings.get().operatorPubkey
      return operatorPubkey ? walletRevocations(ctx.ledger(), operatorPubkey) : []
    },

    'fleet.confirmWalletRevoked': async ({ atmPubkey, rosterEventId, note }) => {
      const ledger = ctx.ledger()
      const operatorPubkey = ctx.settings.get().operatorPubkey
      const pending = operatorPubkey ? await walletRevocations(ledger, operatorPubkey) : []
      if (!pending.some((p) => p.atmPubkey === atmPubkey && p.rosterEventId === rosterEventId))
        throw new ApiError(
          'not_found',
          'args[0].rosterEventId: no open wallet reminder for this revocation (already confirmed, or the machine was not revoked)',
          'args[0].rosterEventId',
        )
      const r = await ledger.call<{ ackId: number }>('fleet.confirmWalletRevoked', {
        atmPubkey,
        rosterEventId,
        author: 'operator',
        note: note?.trim() ? note.trim() : null,
        atMs: ctx.clock.nowMs(),
      })
      log.info('ATM wallet connection revocation confirmed', { atmPubkey, rosterEventId, ackId: r.ackId })
      return r
    },
  }
}

/** The open wallet reminders, read from the ledger (rosters, configs, acknowledgements). */
export async function walletRevocations(ledger: LedgerStore, operatorPubkey: string): Promise<WalletRevocationView[]> {
  const [rosters, configs, acked] = await Promise.all([
    loadRosters(ledger, operatorPubkey),
    loadConfigs(ledger, operatorPubkey),
    loadWalletRevokeAcks(ledger),
  ])
  const byAtm = new Map<string, MachineConfig[]>()
  for (const c of configs) byAtm.set(c.atmPubkey, [...(byAtm.get(c.atmPubkey) ?? []), c])
  return pendingWalletRevocations(rosters, byAtm, acked)
}

/** Pure: the detail view from what the ledger and the relay pool hold. */
export function machineDetail(a: {
  machine: MachineDetailView['machine']
  configs: readonly MachineConfig[]
  delegation: DelegationView | null
  last: {
    event_id: string
    created_at: number
    received_at_ms: number
    outcome: 'booked' | 'history' | 'rejected'
    reason: string | null
  } | null
  poolHealth: readonly RelayHealthLike[]
  walletRevocation: WalletRevocationView | null
}): MachineDetailView {
  const c = latestConfig(a.configs)
  const health = new Map(a.poolHealth.map((h) => [h.url.replace(/\/$/, ''), h]))
  const relays: MachineRelayView[] = (c?.relays ?? []).map((url) => {
    const h = health.get(url.replace(/\/$/, ''))
    return h ? { ...h, url } : { url, state: 'not_followed' }
  })
  const byId = new Map(a.configs.map((x) => [x.eventId, x]))
  return {
    machine: a.machine,
    config: c
      ? {
          eventId: c.eventId,
          createdAt: c.createdAt,
          signerPubkey: c.signerPubkey,
          machineId: c.machineId,
          name: c.name,
          currency: c.currency,
          relays: [...c.relays],
          fees: c.fees,
          discountPpm: c.discountPpm,
          limits: {
            cash_out: {
              minFiatMinor: c.limits.cash_out.minFiatMinor.toString(),
              maxFiatMinor: c.limits.cash_out.maxFiatMinor.toString(),
            },
            cash_in: {
              minFiatMinor: c.limits.cash_in.minFiatMinor.toString(),
              maxFiatMinor: c.limits.cash_in.maxFiatMinor.toString(),
            },
          },
        }
      : null,
    history: configHistory(a.configs).map((h) => ({
      eventId: h.eventId,
      createdAt: h.createdAt,
      signerPubkey: h.signerPubkey,
      currency: byId.get(h.eventId)?.currency ?? c?.currency ?? '',
      changes: h.changes,
    })),
    delegation: a.delegation,
    lastSeenAtMs: a.last?.received_at_ms ?? null,
    lastRecord: a.last
      ? {
          eventId: a.last.event_id,
          createdAt: a.last.created_at,
          receivedAtMs: a.last.received_at_ms,
          outcome: a.last.outcome,
          reason: a.last.reason,
        }
      : null,
    relays,
    walletRevocation: a.walletRevocation,
  }
}

type RelayHealthLike = Omit<MachineRelayView, 'state'> & { state: Exclude<MachineRelayView['state'], 'not_followed'> }

/** Accepts an npub, 64 hex, or a text (e.g. a pairing request shown by the ATM) that holds exactly one of them. */
export function extractAtmKey(text: string): string {
  const s = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(s) || /^npub1[02-9ac-hj-np-z]{58}$/.test(s)) return s
  const found = new Set([
    // An npub and the same key in hex (a request may show both) count as one key.
    ...(s.match(/npub1[02-9ac-hj-np-z]{58}/g) ?? []).map(npubToHexOrSelf),
    ...(s.match(/(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])/g) ?? []).map((h) => h.toLowerCase()),
  ])
  if (found.size !== 1)
    throw new ApiError(
      'bad_args',
      `args[0].atm: expected an npub, 64 hex characters, or a pairing request holding exactly one of them`,
      'args[0].atm',
    )
  return [...found][0]!
}

function npubToHexOrSelf(npub: string): string {
  try {
    return normalizePubkey('atm', npub)
  } catch {
    return npub
  }
}

function limitsOf(l: { minFiatMinor: string; maxFiatMinor: string }, field: string) {
  const min = BigInt(l.minFiatMinor)
  const max = BigInt(l.maxFiatMinor)
  if (min > max)
    throw new ApiError(
      'bad_args',
      `args[0].${field}.minFiatMinor: the minimum must not be more than the maximum`,
      `args[0].${field}.minFiatMinor`,
    )
  return { minFiatMinor: min, maxFiatMinor: max }
}
