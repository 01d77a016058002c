// Wires the relay pool and the fleet service into the running services (docs/architecture.md §2) and answers the contract's
// `relay.status`, `fleet.machines` and `fleet.rejected`. The feature is inert — no sockets, no timers — unless
// the caller hands over the fleet wiring (operator pubkey, the console key's signer, the operator wallet's NWC
// URI) AND at least one relay is configured, so the headless shell and its tests start with no network at all.
import { nowSec } from '../../src-shared/clock'
import type {
  FleetMachineView,
  Handlers,
  RelayHealth as RelayHealthView,
  RelayStatusView,
} from '../../src-shared/ipc/contract'
import type { Signer } from '../../src-shared/signer'
import type { LedgerStore } from '../ledger/types'
import { createRelayPool, type RelayHealth, type RelayPool } from '../nostr/relay-pool'
import type { ServiceContext } from '../service-context'
import { NwcClient } from '../wallet/nwc-client'
import { createLedgerCursorStore } from './cursor-store'
import { createFleetService, type FleetService, rejectedFromLedger } from './service'

export interface FleetWiring {
  /** The operator key (x-only hex), pinned at setup. */
  operatorPubkey: string
  /** The console key: decrypts ATM records (and signs NIP-42 auth). */
  consoleSigner: Signer
  /** The operator wallet's NWC URI (lookup_invoice at least). */
  nwcUri: string
  /** Relays; default: the operator's `relays` setting. */
  relays?: string[]
  /**
   * Called once the fleet service runs, with the parts it runs on; the function it returns runs at shutdown,
   * before the fleet service and the pool close. The payout pipeline starts here (src-main/pipeline/feature.ts).
   */
  onStarted?: (parts: FleetParts) => Promise<(() => Promise<void>) | undefined>
}

/** What the fleet feature runs on, handed to `FleetWiring.onStarted`. */
export interface FleetParts {
  ledger: LedgerStore
  pool: RelayPool
  nwc: NwcClient
  fleet: FleetService
  consoleSigner: Signer
  operatorPubkey: string
  relays: readonly string[]
}

/** The pool's health in the contract's JSON shape. */
export function relayHealthView(h: RelayHealth): RelayHealthView {
  const v: RelayHealthView = { url: h.url, state: h.state === 'auth-failed' ? 'error' : h.state }
  if (h.latencyMs !== null) v.latencyMs = h.latencyMs
  if (h.lastEventAtMs !== null) v.lastEventAtMs = h.lastEventAtMs
  if (h.lastError !== null) v.error = h.lastError
  return v
}

export function fleetHandlers(
  ctx: ServiceContext,
  wiring: FleetWiring | undefined,
): Pick<Handlers, 'relay.status' | 'fleet.machines' | 'fleet.rejected'> {
  const log = ctx.log.child('fleet')
  let pool: RelayPool | undefined
  let fleet: FleetService | undefined
  let nwc: NwcClient | undefined
  let notifications: { close(): void } | undefined
  let closing = false
  let stopExtra: (() => Promise<void>) | undefined
  const relays = wiring ? (wiring.relays ?? ctx.settings.get().relays) : []
  const status = (): RelayStatusView => ({ relays: pool ? pool.health().map(relayHealthView) : [] })

  if (!wiring || relays.length === 0) {
    // Debug only: the operator setup (src-main/setup/) logs the one start-up line saying what is missing.
    log.debug('fleet feature inert', { reason: wiring ? 'no relays configured' : 'no operator/console key set up' })
  } else {
    const w = wiring
    const started = ctx.ledgerReady.then(async () => {
      let ledger: LedgerStore
      try {
        ledger = ctx.ledger()
      } catch {
        log.warn('fleet feature not started: the ledger is not open')
        return
      }
      const cursorStore = createLedgerCursorStore(() => ledger, { clock: ctx.clock, log })
      pool = await createRelayPool({
        relays,
        logger: log.child('relays'),
        clock: ctx.clock,
        cursorStore,
        signAuth: (t) => w.consoleSigner.signEvent(t),
        onStatus: () => ctx.emit('relay.status', status()),
      })
      nwc = new NwcClient({ connection: w.nwcUri, logger: log.child('nwc'), clock: ctx.clock })
      fleet = await createFleetService({
        ledger,
        pool,
        nwc,
        consoleSigner: w.consoleSigner,
        operatorPubkey: w.operatorPubkey,
        clock: ctx.clock,
        log,
        cursorStore,
        timeZone: () => ctx.settings.get().timeZone,
        // The pool's verifier (WASM when it started) also checks record signatures and delegation tokens.
        verifySignature: pool.verifier.verifySchnorr,
      })
      // Live payments are confirmed as the wallet reports them (NIP-47 notifications), so a live record normally
      // finds its payment known; each entry gets the same checks as a lookup (./payment-confirmations.ts).
      const confirmations = fleet.confirmations
      nwc
        .subscribeNotifications((n) => confirmations.note(n.transaction))
        .then(
          (sub) => {
            if (closing) sub.close()
            else notifications = sub
          },
          (e: unknown) =>
            log.info('wallet notifications unavailable; live payments are looked up one by one', {
              reason: e instanceof Error ? e.message : String(e),
            }),
        )
      await fleet.start()
      log.info('fleet feature started', { relays: relays.length, at: nowSec(ctx.clock) })
      if (w.onStarted) {
        stopExtra = await w.onStarted({
          ledger,
          pool,
          nwc,
          fleet,
          consoleSigner: w.consoleSigner,
          operatorPubkey: w.operatorPubkey,
          relays,
        })
      }
    })
    started.catch((e: unknown) =>
      log.error('fleet feature failed to start', { reason: e instanceof Error ? e.message : String(e) }),
    )
    ctx.onClose(async () => {
      closing = true
      notifications?.close()
      await started.catch(() => {})
      await stopExtra?.()
      await fleet?.close()
      await pool?.close()
      nwc?.close()
    })
  }

  return {
    'relay.status': status,
    'fleet.machines': async (): Promise<FleetMachineView[]> => (fleet ? fleet.machines() : []),
    // Inert (no fleet set up): nothing can have been rejected. Wired: the ledger's list, also while relays are down.
    'fleet.rejected': async (o) => (wiring ? rejectedFromLedger(ctx.ledger(), o) : []),
  }
}
