// Wires the money pipeline (./runtime.ts) into the running services (src-main/services.ts). Like the fleet feature
// it rides on (src-main/fleet/feature.ts), it is inert unless configured: only when the services get BOTH the fleet
// wiring (operator key, console key, operator wallet, relays) and the payout wiring does the pipeline start, and it
// starts on the fleet feature's own ledger, relay pool, operator-wallet NWC client and fleet service, so there is
// one intake, one pool and one wallet connection in the app. Absent either, nothing here opens a socket or a timer.
//
// Payout destinations resolve through the ledger (`lps.destinationFor`, src-main/lps/service.ts) and the secret
// store the LP service seals NWC destination URIs in; operator alerts go to the desktop sink (Electron's
// Notification in the shell, the `notice` push event in headless mode).
import type { Logger } from '../../src-shared/log'
import type { FleetParts, FleetWiring } from '../fleet/feature'
import { ledgerDestinationLookup } from '../lps/service'
import { type DesktopNotificationSink, emitNoticeSink } from '../notices/service'
import type { LnurlPayOptions } from '../payouts/destinations/lnurl-pay'
import { createDestinationResolver } from '../payouts/destinations/resolver'
import type { DestinationResolver } from '../payouts/destinations/types'
import type { SecretStore } from '../secrets/secret-store'
import type { ServiceContext } from '../service-context'
import { type ConsoleRuntime, type ConsoleRuntimeOptions, createConsoleRuntime } from './runtime'

export interface PipelineWiring {
  /** Where NWC destination URIs are sealed (the LP service's store). Without it, NWC destinations cannot be paid. */
  secrets?: SecretStore | (() => Promise<SecretStore>)
  /** Replaces the ledger-backed resolver (tests, tools). */
  destinations?: DestinationResolver
  /** LNURL-pay HTTP options (timeouts; tests pass nothing: loopback http is allowed by the module itself). */
  lnurl?: LnurlPayOptions
  /** Where operator alerts appear. Default: the `notice` push event. */
  desktop?: DesktopNotificationSink
  /** Id of the operator wallet connection payouts are pinned to. Default 'operator'. */
  connectionId?: string
  timing?: ConsoleRuntimeOptions['timing']
  payouts?: ConsoleRuntimeOptions['payouts']
  receipts?: ConsoleRuntimeOptions['receipts']
  noticeTimers?: boolean
  noticeDebounce?: ConsoleRuntimeOptions['noticeDebounce']
  /** The operator's low-balance threshold for the "wallet low" alert (null: none). */
  walletLowMsat?: () => bigint | null
  /** The wallet reconciliation's lag and windows (false: off). Default on. */
  reconcile?: ConsoleRuntimeOptions['reconcile']
  /** Called with the running pipeline (tests observe it; the shell may show its stats). */
  onRuntime?: (runtime: ConsoleRuntime) => void
}

/** A SecretStore reader over an eager or lazily opened store. */
function secretReader(s: PipelineWiring['secrets']): Pick<SecretStore, 'get'> | undefined {
  if (!s) return undefined
  let opened: Promise<SecretStore> | undefined
  return {
    get: async (slot) => {
      opened ??= typeof s === 'function' ? s() : Promise.resolve(s)
      return (await opened).get(slot)
    },
  }
}

/** Starts the pipeline on the fleet feature's parts; resolves with its shutdown. */
export async function startPipeline(
  ctx: ServiceContext,
  wiring: PipelineWiring,
  parts: FleetParts,
  log: Logger,
): Promise<() => Promise<void>> {
  const secrets = secretReader(wiring.secrets)
  const destinations =
    wiring.destinations ??
    createDestinationResolver({
      lookup: ledgerDestinationLookup(() => parts.ledger),
      ...(secrets ? { secrets } : {}),
      ...(wiring.lnurl ? { lnurl: wiring.lnurl } : {}),
      logger: log.child('destinations'),
    })
  const runtime = await createConsoleRuntime({
    ledger: parts.ledger,
    pool: parts.pool,
    wallet: parts.nwc,
    ...(wiring.connectionId ? { connectionId: wiring.connectionId } : {}),
    consoleSigner: parts.consoleSigner,
    operatorPubkey: parts.operatorPubkey,
    relays: parts.relays,
    clock: ctx.clock,
    log,
    destinations,
    fleet: parts.fleet,
    desktop: wiring.desktop ?? emitNoticeSink(ctx.emit, ctx.clock),
    timeZone: () => ctx.settings.get().timeZone,
    ...(wiring.timing ? { timing: wiring.timing } : {}),
    ...(wiring.payouts ? { payouts: wiring.payouts } : {}),
    ...(wiring.receipts ? { receipts: wiring.receipts } : {}),
    ...(wiring.noticeTimers !== undefined ? { noticeTimers: wiring.noticeTimers } : {}),
    ...(wiring.walletLowMsat ? { walletLowMsat: wiring.walletLowMsat } : {}),
    ...(wiring.noticeDebounce ? { noticeDebounce: wiring.noticeDebounce } : {}),
    ...(wiring.reconcile !== undefined ? { reconcile: wiring.reconcile } : {}),
  })
  await runtime.start()
  wiring.onRuntime?.(runtime)
  return () => runtime.close()
}

/**
 * The fleet wiring the services hand to the fleet feature: unchanged (pipeline inert, logged) without payout
 * wiring; otherwise with an `onStarted` hook that starts the pipeline on the fleet feature's parts.
 */
export function withPipeline(
  ctx: ServiceContext,
  fleet: FleetWiring | undefined,
  wiring: PipelineWiring | undefined,
): FleetWiring | undefined {
  const log = ctx.log.child('pipeline')
  if (!fleet || !wiring) {
    // Debug only: the operator setup (src-main/setup/) logs the one start-up line saying what is missing.
    log.debug('payout pipeline inert', {
      reason: !fleet ? 'the fleet feature is not set up' : 'no payout wiring (destinations, secrets) given',
    })
    return fleet
  }
  const previous = fleet.onStarted
  return {
    ...fleet,
    async onStarted(parts) {
      const stopPrevious = await previous?.(parts)
      const stop = await startPipeline(ctx, wiring, parts, log)
      return async () => {
        await stop()
        await stopPrevious?.()
      }
    },
  }
}
