// Service composition: builds the implementation of the whole IPC contract (`Handlers`) in plain Node, so the
// Electron shell (`index.ts`) and headless mode (`serve/`) run exactly the same services (docs/architecture.md §2).
//
// To add a contract method: declare it in src-shared/ipc/contract.ts, then implement it in a domain module as
// `export const fleetHandlers: DomainHandlers<'fleet.list' | 'fleet.get'> = (ctx) => ({ … })` and add one spread
// line, `...fleetHandlers(ctx),`, to the table in `createServices` below. The table is typed `Handlers`, so a
// declared method without a handler does not compile. `ctx` (ServiceContext) gives the ledger, settings, emit,
// clock, log and an `onClose` hook for background work.
//
// Services never import electron. Whatever differs between the modes comes in through `ServicesOptions`.
import { mkdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import pkg from '../package.json'
import { type Clock, systemClock } from '../src-shared/clock'
import {
  ApiError,
  type AppInfo,
  type Emit,
  type Handlers,
  type LedgerStatusView,
  type Runtime,
} from '../src-shared/ipc/contract'
import type { Logger } from '../src-shared/log'
import type { AppLog } from './app-log'
import {
  auditHandlers,
  checkpointKeyFromSecrets,
  consolePubkeyFromSecrets,
  consoleSignerFromSecrets,
  createAuditState,
  gateLedger,
} from './audit/service'
import { type AuditExportServiceOptions, auditExportHandlers, manifestForClose } from './audit-export/service'
import { createBunkerFeature } from './bunker/service'
import type { FleetWiring } from './fleet/feature'
import type { OperatorSignerProvider } from './fleet/operator-signer'
import { createFleetPartsSlot, pairingHandlers } from './fleet/pairing-service'
import type { LedgerStatus, LedgerStore } from './ledger/types'
import { openLedger } from './ledger/worker-host'
import { startLivePush } from './live/service'
import { lpServiceHandlers } from './lp-service/ipc'
import { type LpsWiring, lpsHandlers } from './lps/service'
import { onboardingHandlers } from './onboarding/service'
import type { PipelineWiring } from './pipeline/feature'
import { recipientsHandlers } from './recipients/service'
import type { ServiceContext } from './service-context'
import { applyPendingRestore, settingsScreenHandlers } from './settings-screen/service'
import { openSettingsStore } from './settings-store'
import { settlementsHandlers } from './settlements/service'
import { createSetupFeature } from './setup/service'
import type { SignerDeviceWiring } from './signer/device-service'
import { createSignerDeviceFeature } from './signer/device-service'
import { noDeviceWiring } from './signer/device-wiring'
import { worklistHandlers } from './worklist/service'

export const PRODUCT_NAME = 'Satmachine Console'

/**
 * The per-user data directory, the same path Electron's `app.getPath('userData')` gives for our product name, so
 * the desktop app and `satmachine serve` share one ledger by default.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), PRODUCT_NAME)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', PRODUCT_NAME)
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), PRODUCT_NAME)
}

/** Demo flags come from `SATMACHINE_DEMO=flag1,flag2` (or the CLI's `--demo`); unknown text is kept verbatim. */
export function demoFlagsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.SATMACHINE_DEMO ?? ''
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => /^[a-z0-9-]{1,40}$/.test(s))
}

/** Opens the ledger store in `dir` (the ledger's `openLedger`, adapted to this shape; tests may pass their own). */
export type OpenLedger = (opts: { dir: string; log: Logger }) => Promise<LedgerStore>

/**
 * The app's ledger: sql.js in a worker thread (src-main/ledger/worker-host.ts). `workerUrl` is the built
 * `out/main/ledger-worker.js`; entry modules compute it from their own URL (`new URL('./ledger-worker.js',
 * import.meta.url)`), because this module may be bundled into a chunk in another folder.
 */
export function workerLedger(workerUrl: URL): OpenLedger {
  return ({ dir, log }) => openLedger({ dir, logger: log, workerUrl })
}

export interface ServicesOptions {
  runtime: Runtime
  /** Pushes an event to every connected renderer. */
  emit: Emit
  dataDir: string
  /** The main-side log; `log.recent` answers from it. */
  appLog: AppLog
  clock?: Clock
  demoFlags?: string[]
  /** Omitted until the ledger store is wired in: `ledger.status` then reports `failed` with a reason. */
  openLedger?: OpenLedger
  /**
   * The fleet feature (relay pool + fleet service): operator pubkey, console key signer, operator wallet NWC URI.
   * Absent, the operator's setup decides (src-main/setup/: `setup.setOperator`, `setup.setOperatorWallet`, the
   * `relays` setting, the console key in `lps.secrets`); until that is complete the feature stays inert (no network).
   */
  fleet?: FleetWiring
  /** The LP service: the secret store NWC destinations are sealed in (absent: NWC destinations are refused). */
  lps?: LpsWiring
  /**
   * The money pipeline (booking → payouts → receipts → LP notices, src-main/pipeline/). Inert unless the fleet
   * feature is wired too: it runs on the fleet feature's ledger, pool, wallet and intake. Its secret store
   * defaults to the LP service's.
   */
  payouts?: PipelineWiring
  /**
   * The operator's signer for pairing (src-main/fleet/operator-signer.ts). Absent: none is connected and
   * `fleet.pair`/`renew`/`revoke` answer `unavailable` (the hardware signer plugs in here).
   */
  operatorSigner?: OperatorSignerProvider
  /**
   * The operator's hardware signer: its transport (USB, the TCP emulator, the in-process emulator). Absent: no
   * device is ever found. Its provider signs unless `operatorSigner` is given (tests); the remote bunker is the
   * fallback either way (src-main/signer/device-service.ts).
   */
  signerDevice?: SignerDeviceWiring
  /** The audit export's PDF printer (the desktop shell passes Electron's printToPDF; default headless Chromium). */
  auditExport?: AuditExportServiceOptions
}

export interface Services {
  handlers: Handlers
  /** Resolves once the ledger finished opening (or failed to); tests wait on it, the UI listens for events. */
  ledgerReady: Promise<void>
  /** Closes the ledger (journal flushed) and stops background work. Idempotent. */
  close(): Promise<void>
}

// ServiceContext / DomainHandlers live in ./service-context.ts, which the feature modules import, so no feature
// imports this composition root (the one place that wires them) and there is no import circle. Re-exported here so
// existing imports keep working.
export type { DomainHandlers, ServiceContext } from './service-context'

function ledgerView(s: LedgerStatus): LedgerStatusView {
  const v: LedgerStatusView = {
    state: s.state,
    schemaVersion: s.schemaVersion,
    seq: s.seq,
    snapshotSeq: s.snapshotSeq,
    journalBytes: s.journalBytes,
    lastSnapshotAtMs: s.lastSnapshotAtMs,
  }
  if (s.error !== undefined) v.error = s.error
  return v
}

const emptyLedger = (state: LedgerStatusView['state'], error?: string): LedgerStatusView => ({
  state,
  schemaVersion: 0,
  seq: 0,
  snapshotSeq: 0,
  journalBytes: 0,
  lastSnapshotAtMs: null,
  ...(error === undefined ? {} : { error }),
})

export async function createServices(opts: ServicesOptions): Promise<Services> {
  const clock = opts.clock ?? systemClock
  const log = opts.appLog.log.child('services')
  const startedAtMs = clock.nowMs()
  await mkdir(opts.dataDir, { recursive: true })
  // A verified restore staged last run (issue 9c); a backup older than the newest signed audit head is stated first.
  await applyPendingRestore(opts.dataDir, log.child('backup'), {
    signer: () => consoleSignerFromSecrets(opts.lps?.secrets),
    nowMs: clock.nowMs(),
  })
  const settings = await openSettingsStore(opts.dataDir, log.child('settings'), () => clock.nowMs())
  const demoFlags = [...(opts.demoFlags ?? [])]

  // The ledger opens in the background: the window appears at once and shows "opening" until it is ready.
  let ledger: LedgerStore | undefined
  let ledgerStatus = opts.openLedger
    ? emptyLedger('opening')
    : emptyLedger('failed', 'the ledger store is not part of this build yet')
  // Once the audit check refuses the ledger, its status stays `failed` with the refusal (docs/audit.md).
  let refused: string | null = null
  const publishLedger = (v: LedgerStatusView) => {
    if (refused !== null && v.state !== 'failed') return
    ledgerStatus = v
    opts.emit('ledger.status', v)
  }
  const auditState = createAuditState()
  const failLedger = (reason: string) => {
    refused = reason
    const s = ledger
    ledger = undefined
    publishLedger(emptyLedger('failed', reason))
    opts.emit('notice', { level: 'error', text: `The ledger could not be opened: ${reason}`, atMs: clock.nowMs() })
    void s?.close().catch(() => {})
  }
  const ledgerReady: Promise<void> = opts.openLedger
    ? opts
        .openLedger({ dir: join(opts.dataDir, 'ledger'), log: opts.appLog.log.child('ledger') })
        .then((store) =>
          gateLedger(store, {
            dataDir: opts.dataDir,
            state: auditState,
            log: log.child('audit'),
            clock,
            relays: () => settings.get().relays,
            consolePubkey: () => consolePubkeyFromSecrets(opts.lps?.secrets),
            checkpointKey: () => checkpointKeyFromSecrets(opts.lps?.secrets),
          }),
        )
        .then(async (store) => {
          ledger = store
          // Every state change (snapshotting, failed, closed) reaches the renderer as a `ledger.status` event.
          store.onStatus((s) => publishLedger(ledgerView(s)))
          publishLedger(ledgerView(await store.status()))
          log.info('ledger open', { seq: ledgerStatus.seq })
        })
        .catch((e: unknown) => {
          const msg = e instanceof Error ? e.message : String(e)
          log.error('ledger failed to open', { reason: msg })
          publishLedger(emptyLedger('failed', msg))
          opts.emit('notice', { level: 'error', text: `The ledger could not be opened: ${msg}`, atMs: clock.nowMs() })
        })
    : Promise.resolve()

  const closers: (() => Promise<void> | void)[] = []
  const ctx: ServiceContext = {
    runtime: opts.runtime,
    emit: opts.emit,
    dataDir: opts.dataDir,
    clock,
    log,
    settings,
    ledger() {
      if (!ledger) throw new ApiError('unavailable', `the ledger is ${ledgerStatus.state}`)
      return ledger
    },
    ledgerReady,
    onClose: (fn) => {
      closers.push(fn)
    },
  }

  // The handler table: every contract method, typed `Handlers` so a missing one does not compile. Domains add
  // theirs with one spread line each, e.g. `...fleetHandlers(ctx),`.
  // The fleet feature and the payout pipeline run under the operator setup, which (re)starts them when the setup
  // is complete or changes (src-main/setup/service.ts); caller-given fleet wiring is used as is.
  const fleetParts = createFleetPartsSlot()
  const setup = createSetupFeature(ctx, {
    onFleetRunning: (parts) => fleetParts.set(parts),
    ...(opts.lps?.secrets ? { secrets: opts.lps.secrets } : {}),
    ...(opts.fleet ? { fleet: opts.fleet } : {}),
    ...(opts.payouts ? { payouts: opts.payouts } : {}),
  })
  // The operator signer: the hardware signer, else the remote bunker (src-main/signer/, src-main/bunker/).
  const device = createSignerDeviceFeature(ctx, opts.signerDevice ?? noDeviceWiring(), async (pk) => {
    await setup.handlers['setup.setOperator']({ operatorNpub: pk })
  })
  const bunker = createBunkerFeature(ctx, {
    operatorSigner: opts.operatorSigner ?? device.provider,
    ...(opts.lps?.secrets ? { secrets: opts.lps.secrets } : {}),
  })
  const handlers: Handlers = {
    ...shellHandlers(ctx, {
      startedAtMs,
      demoFlags,
      appLog: opts.appLog,
      ledgerStatus: () => ledgerStatus,
      onRelaysChanged: () => void setup.apply('relays changed'),
    }),
    ...setup.handlers,
    ...lpsHandlers(ctx, { ...opts.lps, fleet: fleetParts }),
    ...recipientsHandlers(ctx, opts.lps?.secrets ? { secrets: opts.lps.secrets } : {}),
    ...lpServiceHandlers(ctx),
    ...worklistHandlers(ctx),
    ...settingsScreenHandlers(ctx, opts.lps?.secrets ? { secrets: opts.lps.secrets } : {}),
    ...auditExportHandlers(ctx, opts.auditExport),
    ...settlementsHandlers(ctx, { fleet: fleetParts }),
    ...pairingHandlers(ctx, { signer: bunker.operator, fleet: fleetParts }),
    ...bunker.handlers,
    ...device.handlers,
    ...onboardingHandlers(ctx, { signer: bunker.operator, setupStatus: setup.handlers['setup.status'] }),
    ...auditHandlers(ctx, {
      state: auditState,
      fleet: fleetParts,
      operatorSigner: bunker.operator,
      failLedger,
      manifestFor: manifestForClose(ctx),
      checkpointKey: () => checkpointKeyFromSecrets(opts.lps?.secrets),
    }),
  }

  startLivePush(ctx) // `fleet/lps/payouts/worklist.changed` pushes (issue 9)

  let closing: Promise<void> | undefined
  return {
    handlers,
    ledgerReady,
    close() {
      closing ??= (async () => {
        for (const fn of closers.reverse()) {
          try {
            await fn()
          } catch (e) {
            log.error('shutdown step failed', { reason: e instanceof Error ? e.message : String(e) })
          }
        }
        await ledgerReady
        if (ledger) await ledger.close()
        log.info('services closed')
      })()
      return closing
    },
  }
}

/** The shell's own methods: app info, ledger and relay status, settings, the log. */
function shellHandlers(
  ctx: ServiceContext,
  extra: {
    startedAtMs: number
    demoFlags: string[]
    appLog: AppLog
    ledgerStatus: () => LedgerStatusView
    /** The fleet listens on the `relays` setting: a change restarts it (operator setup permitting). */
    onRelaysChanged: () => void
  },
): Pick<Handlers, 'app.info' | 'ledger.status' | 'settings.get' | 'settings.set' | 'log.recent'> {
  const { settings, clock } = ctx
  return {
    'app.info': (): AppInfo => ({
      name: PRODUCT_NAME,
      version: pkg.version,
      runtime: ctx.runtime,
      demo: extra.demoFlags.length > 0,
      demoFlags: extra.demoFlags,
      platform: process.platform,
      startedAtMs: extra.startedAtMs,
    }),
    'ledger.status': async () => {
      const current = extra.ledgerStatus()
      if (current.state !== 'ready' && current.state !== 'snapshotting') return current
      return ledgerView(await ctx.ledger().status())
    },
    'settings.get': () => settings.get(),
    'settings.set': async (patch) => {
      if (Object.keys(patch).length === 0) throw new ApiError('bad_args', 'args[0]: no field to change', 'args[0]')
      const before = settings.get().relays.join(' ')
      const saved = await settings.set(patch)
      ctx.emit('notice', { level: 'info', text: 'Settings saved', atMs: clock.nowMs() })
      if (saved.relays.join(' ') !== before) extra.onRelaysChanged()
      return saved
    },
    'log.recent': ({ limit, minLevel }) => extra.appLog.recent(limit ?? 200, minLevel),
  }
}
