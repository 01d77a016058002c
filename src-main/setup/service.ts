// Operator setup (docs/architecture.md §3, docs/pipeline.md): pins the operator key, seals the operator wallet's NWC URI in the
// secret store, creates the console key on first use, and — once operator, wallet, console key and at least one
// relay are all there — starts the fleet feature and the money pipeline on them (src-main/fleet/feature.ts,
// src-main/pipeline/feature.ts). It answers `setup.*` and owns `relay.status`, `fleet.machines` and
// `fleet.rejected`, which it forwards to the fleet feature instance currently running.
//
// Why it owns the fleet handlers: the fleet feature reads its wiring once, when it is built. To apply a completed
// setup without a restart, this module builds a new instance (on a child service context whose `onClose` hooks it
// keeps) and closes the previous one; the handler table keeps pointing at this module's forwarding functions.
//
// Secrets: the NWC URI goes straight into `SecretSlots.operatorNwc`; only its public parts (wallet pubkey, relays,
// lightning address) are ever answered or logged. The console key never leaves the secret store and the software
// signer built over it.
import { randomBytes } from 'node:crypto'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { decode as nip19decode, npubEncode } from 'nostr-tools/nip19'
import {
  ApiError,
  type Handlers,
  type PipelineState,
  type Settings,
  type SetupStatusView,
} from '../../src-shared/ipc/contract'
import type { LogFields, Logger } from '../../src-shared/log'
import { NwcUriError, parseConnectionUri } from '../../src-shared/nostr/nip47'
import type { Signer } from '../../src-shared/signer'
import { type FleetParts, type FleetWiring, fleetHandlers } from '../fleet/feature'
import { type PipelineWiring, withPipeline } from '../pipeline/feature'
import { loadOrCreateConsoleKey, SecretSlots, type SecretStore } from '../secrets/secret-store'
import type { ServiceContext } from '../service-context'
import { createSoftwareSigner } from '../signer/software-signer'

export interface SetupWiring {
  /** The app's secret store (the LP service's). Absent: the wallet cannot be saved (`unavailable`). */
  secrets?: SecretStore | (() => Promise<SecretStore>)
  /**
   * Fleet wiring given by the caller (tests, tools). When present it is used as is, at start-up only, and setup
   * changes apply at the next start (`pipeline.appliesLive` = false).
   */
  fleet?: FleetWiring
  /** The payout wiring; with setup-driven fleet wiring the pipeline starts with `{}` when this is absent. */
  payouts?: PipelineWiring
  /** Randomness for the console key (default: node:crypto). */
  random?: (n: number) => Uint8Array
  /** Told the running fleet feature's parts when it starts, and null when it stops (pairing publishes through it). */
  onFleetRunning?: (parts: FleetParts | null) => void
}

type FleetMethods = 'relay.status' | 'fleet.machines' | 'fleet.rejected'
type SetupMethods = 'setup.status' | 'setup.setOperator' | 'setup.setOperatorWallet'

export interface SetupFeature {
  handlers: Pick<Handlers, FleetMethods | SetupMethods>
  /** Re-reads the setup and (re)starts the fleet and pipeline when it changed; call after `relays` changed. */
  apply(why: string): Promise<void>
}

const HEX64 = /^[0-9a-f]{64}$/

/** A point on the curve as BIP-340 x-only keys need (a random 64-hex string is not one about half the time). */
function isXOnlyPubkey(hex: string): boolean {
  if (!HEX64.test(hex)) return false
  try {
    secp256k1.Point.fromHex(`02${hex}`)
    return true
  } catch {
    return false
  }
}

/** npub or hex → x-only hex; throws bad_args naming `args[0].operatorNpub`. */
export function parseOperatorKey(input: string): string {
  const field = 'args[0].operatorNpub'
  const text = input.trim()
  let hex: string
  if (/^npub1/i.test(text)) {
    let decoded: ReturnType<typeof nip19decode>
    try {
      decoded = nip19decode(text.toLowerCase())
    } catch {
      throw new ApiError('bad_args', `${field}: not a valid npub (bad checksum or characters)`, field)
    }
    if (decoded.type !== 'npub') throw new ApiError('bad_args', `${field}: not an npub`, field)
    hex = decoded.data
  } else if (/^[0-9a-fA-F]{64}$/.test(text)) {
    hex = text.toLowerCase()
  } else {
    throw new ApiError('bad_args', `${field}: expected an npub (npub1…) or 64 hex characters`, field)
  }
  if (!isXOnlyPubkey(hex)) throw new ApiError('bad_args', `${field}: not a public key on secp256k1`, field)
  return hex
}

/**
 * A logger that passes everything on and also shows each record to `watch`, in every child scope. The fleet feature
 * reports a failed start only as a log line, so this is how setup learns of it and tells the operator.
 */
function watchedLogger(base: Logger, watch: (level: string, msg: string, fields: LogFields) => void): Logger {
  const wrap =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: LogFields): void => {
      base[level](msg, fields)
      watch(level, msg, fields ?? {})
    }
  return {
    debug: wrap('debug'),
    info: wrap('info'),
    warn: wrap('warn'),
    error: wrap('error'),
    child: (scope) => watchedLogger(base.child(scope), watch),
  }
}

interface Instance {
  handlers: Pick<Handlers, FleetMethods>
  closers: (() => Promise<void> | void)[]
  /** What it was built from, to skip a rebuild when nothing changed. */
  key: string
}

interface WalletInfo {
  walletPubkey: string
  relays: string[]
  lud16: string | null
}

export function createSetupFeature(ctx: ServiceContext, wiring: SetupWiring): SetupFeature {
  const log = ctx.log.child('setup')
  const random = wiring.random ?? ((n: number) => new Uint8Array(randomBytes(n)))
  const live = wiring.fleet === undefined
  let pipeline: { state: PipelineState; reason: string; sinceMs: number } = {
    state: 'inert',
    reason: 'checking the setup',
    sinceMs: ctx.clock.nowMs(),
  }
  let current: Instance | undefined
  let generation = 0
  let closed = false
  let wallet: WalletInfo | null | undefined
  let consoleKey: { pubkey: string; signer: Signer } | undefined

  let storePromise: Promise<SecretStore> | undefined
  /**
   * Why the store could not be opened last time. Kept so that status reads and restarts do not retry (and log the
   * refusal) on every call; an operator action (saving the operator key or the wallet) retries.
   */
  let refusal: ApiError | undefined
  const store = (retry = false): Promise<SecretStore> => {
    if (refusal && !retry) return Promise.reject(refusal)
    const s = wiring.secrets
    if (!s) {
      return Promise.reject(
        new ApiError(
          'unavailable',
          'no secret store is configured: start the console with a key file (--secret-key-file) or the OS keychain',
        ),
      )
    }
    if (typeof s !== 'function') return Promise.resolve(s)
    storePromise ??= s()
    // A refusal (no box yet) is not cached: the operator may fix it and try again.
    storePromise.catch(() => {
      storePromise = undefined
    })
    return storePromise.then(
      (opened) => {
        refusal = undefined
        return opened
      },
      (e: unknown) => {
        refusal = new ApiError('unavailable', `the secret store is unavailable: ${(e as Error).message}`)
        throw refusal
      },
    )
  }

  const setPipeline = (state: PipelineState, reason: string, notice?: 'info' | 'warn' | 'error') => {
    pipeline = { state, reason, sinceMs: ctx.clock.nowMs() }
    if (notice) ctx.emit('notice', { level: notice, text: reason, atMs: ctx.clock.nowMs() })
    void status().then(
      (s) => ctx.emit('setup.status', s),
      () => {},
    )
  }

  /** The operator wallet's public parts, parsed from the sealed URI once and remembered. */
  async function walletInfo(s: SecretStore): Promise<WalletInfo | null> {
    if (wallet !== undefined) return wallet
    const uri = await s.get(SecretSlots.operatorNwc)
    if (uri === undefined) {
      wallet = null
      return null
    }
    const c = parseConnectionUri(uri)
    wallet = { walletPubkey: c.walletPubkey, relays: [...c.relays], lud16: c.lud16 }
    return wallet
  }

  async function consoleSigner(s: SecretStore): Promise<{ pubkey: string; signer: Signer }> {
    if (consoleKey) return consoleKey
    const { secretKey, created } = await loadOrCreateConsoleKey(s, random)
    const signer = createSoftwareSigner(secretKey)
    secretKey.fill(0)
    consoleKey = { pubkey: await signer.getPublicKey(), signer }
    if (created) log.info('console key created', { consolePubkey: consoleKey.pubkey })
    return consoleKey
  }

  async function status(): Promise<SetupStatusView> {
    const settings: Settings = ctx.settings.get()
    const op = settings.operatorPubkey
    let secrets: SetupStatusView['secrets']
    let operatorWallet: WalletInfo | null = null
    let consoleView: SetupStatusView['console'] = null
    try {
      const s = await store()
      secrets = { available: true, scheme: s.box.scheme, description: s.box.description, error: null }
      operatorWallet = await walletInfo(s)
      if (consoleKey || s.has(SecretSlots.consoleKey)) {
        const k = await consoleSigner(s)
        consoleView = { pubkey: k.pubkey, npub: npubEncode(k.pubkey) }
      }
    } catch (e) {
      secrets = { available: false, scheme: null, description: null, error: (e as Error).message }
    }
    const missing: string[] = []
    if (!secrets.available) missing.push('secrets')
    if (!op) missing.push('operator')
    if (!operatorWallet) missing.push('operatorWallet')
    if (settings.relays.length === 0) missing.push('relays')
    return {
      operator: op ? { pubkey: op, npub: npubEncode(op) } : null,
      console: consoleView,
      operatorWallet: operatorWallet && { ...operatorWallet, relays: [...operatorWallet.relays] },
      secrets,
      relays: [...settings.relays],
      missing,
      pipeline: { ...pipeline, appliesLive: live },
    }
  }

  /** Builds a fleet feature instance (inert when `fleet` is undefined) on a child context whose closers it keeps. */
  function build(fleet: FleetWiring | undefined, key: string, gen: number): Instance {
    const closers: Instance['closers'] = []
    const sub: ServiceContext = {
      ...ctx,
      log: watchedLogger(ctx.log, (level, msg, fields) => {
        if (gen !== generation) return
        if (level === 'error' && msg === 'fleet feature failed to start') {
          setPipeline('failed', `The fleet and payout pipeline could not start: ${String(fields.reason)}`, 'error')
        } else if (level === 'warn' && msg.startsWith('fleet feature not started')) {
          setPipeline('failed', 'The fleet and payout pipeline could not start: the ledger is not open', 'error')
        }
      }),
      onClose: (fn) => {
        closers.push(fn)
      },
    }
    const payouts = wiring.payouts ?? (live ? {} : undefined)
    const piped = withPipeline(sub, fleet, payouts && { ...payouts, secrets: payouts.secrets ?? wiring.secrets })
    const tracked: FleetWiring | undefined = piped && {
      ...piped,
      async onStarted(parts) {
        try {
          const stopPiped = await piped.onStarted?.(parts)
          const stop = async () => {
            if (gen === generation) wiring.onFleetRunning?.(null)
            await stopPiped?.()
          }
          if (gen === generation) wiring.onFleetRunning?.(parts)
          if (gen === generation) {
            const what = payouts ? 'Fleet and payout pipeline' : 'Fleet feature (no payout wiring)'
            setPipeline('running', `${what} running on ${parts.relays.length} relay(s)`, 'info')
            log.info('pipeline started', { relays: parts.relays.length, operatorPubkey: parts.operatorPubkey })
          }
          return stop
        } catch (e) {
          // The fleet service stays up (its records are booked); only the payout stages failed.
          if (gen === generation) log.error('pipeline failed to start', { reason: (e as Error).message })
          throw e
        }
      },
    }
    return { handlers: fleetHandlers(sub, tracked), closers, key }
  }

  async function closeInstance(i: Instance | undefined): Promise<void> {
    if (!i) return
    for (const fn of i.closers.reverse()) {
      try {
        await fn()
      } catch (e) {
        log.error('stopping the fleet feature failed', { reason: (e as Error).message })
      }
    }
  }

  /** The fleet wiring the saved setup gives, or what is missing. */
  async function wiringFromSetup(): Promise<{ fleet: FleetWiring; key: string } | { missing: string[] }> {
    const settings = ctx.settings.get()
    const missing: string[] = []
    let s: SecretStore | undefined
    try {
      s = await store()
    } catch {
      missing.push('secrets')
    }
    if (!settings.operatorPubkey) missing.push('operator')
    const uri = s ? await s.get(SecretSlots.operatorNwc) : undefined
    if (s && uri === undefined) missing.push('operatorWallet')
    if (settings.relays.length === 0) missing.push('relays')
    if (missing.length > 0 || !s || uri === undefined || !settings.operatorPubkey) return { missing }
    const k = await consoleSigner(s)
    const w = parseConnectionUri(uri)
    const key = [settings.operatorPubkey, k.pubkey, w.walletPubkey, w.clientPubkey, ...settings.relays].join('|')
    return {
      fleet: { operatorPubkey: settings.operatorPubkey, consoleSigner: k.signer, nwcUri: uri, relays: settings.relays },
      key,
    }
  }

  let chain: Promise<void> = Promise.resolve()
  function apply(why: string): Promise<void> {
    if (!live) return Promise.resolve()
    const run = chain.then(async () => {
      if (closed) return
      let next: { fleet: FleetWiring; key: string } | { missing: string[] }
      try {
        next = await wiringFromSetup()
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e)
        log.error('setup cannot be applied', { reason, why })
        setPipeline('failed', `The fleet and payout pipeline could not start: ${reason}`, 'error')
        return
      }
      if ('missing' in next) {
        if (current?.key === 'inert') {
          setPipeline('inert', `Waiting for setup: ${next.missing.join(', ')} missing`)
          return
        }
        const old = current
        const gen = ++generation
        current = build(undefined, 'inert', gen)
        await closeInstance(old)
        log.info('pipeline inert', { missing: next.missing.join(','), why })
        setPipeline('inert', `Waiting for setup: ${next.missing.join(', ')} missing`, old ? 'warn' : undefined)
        return
      }
      if (current?.key === next.key) return
      const old = current
      const gen = ++generation
      // Stop the old instance first: two pools on one ledger cursor, or two payout runners, must never overlap.
      current = undefined
      await closeInstance(old)
      if (closed) return
      setPipeline('starting', 'Starting the fleet and payout pipeline')
      log.info('starting the fleet and payout pipeline', { why, relays: ctx.settings.get().relays.length })
      current = build(next.fleet, next.key, gen)
    })
    chain = run.catch(() => {})
    return run
  }

  if (!live) {
    // The caller wired the fleet itself: build it once, as the services always did.
    const relays = wiring.fleet?.relays ?? ctx.settings.get().relays
    pipeline =
      relays.length === 0
        ? {
            state: 'inert',
            reason: 'Fleet wired by the caller, but no relay is configured',
            sinceMs: ctx.clock.nowMs(),
          }
        : { state: 'starting', reason: 'Starting the fleet wired by the caller', sinceMs: ctx.clock.nowMs() }
    current = build(wiring.fleet, 'external', ++generation)
  } else {
    // Look at the saved setup first and build only what it gives: an inert instance when something is missing,
    // the running fleet otherwise. (Building an inert one first made the log say "fleet feature inert" and then
    // "starting the fleet" at every start of a configured console.) Until then the handlers answer empty.
    void apply('start-up')
  }

  ctx.onClose(async () => {
    closed = true
    await chain
    await closeInstance(current)
    current = undefined
  })

  const answerAfter = async (why: string): Promise<SetupStatusView> => {
    await apply(why)
    const s = await status()
    ctx.emit('setup.status', s)
    return s
  }

  return {
    apply,
    handlers: {
      'relay.status': () => (current ? current.handlers['relay.status']() : { relays: [] }),
      'fleet.machines': async () => (current ? current.handlers['fleet.machines']() : []),
      'fleet.rejected': async (o) => (current ? current.handlers['fleet.rejected'](o) : []),
      'setup.status': () => status(),
      'setup.setOperator': async ({ operatorNpub }) => {
        const pubkey = parseOperatorKey(operatorNpub)
        if (consoleKey && consoleKey.pubkey === pubkey) {
          throw new ApiError(
            'bad_args',
            'args[0].operatorNpub: this is the console key; the operator key is the one on your signer',
            'args[0].operatorNpub',
          )
        }
        const before = ctx.settings.get().operatorPubkey
        // `settings.set` takes the contract's patch type, which leaves the operator key out on purpose (only this
        // validated path may change it); a Partial<Settings> value is structurally accepted by the store.
        const patch: Partial<Settings> = { operatorPubkey: pubkey }
        await ctx.settings.set(patch)
        log.info('operator key pinned', { operatorPubkey: pubkey, replaced: before !== undefined && before !== pubkey })
        ctx.emit('notice', {
          level: before && before !== pubkey ? 'warn' : 'info',
          text: before && before !== pubkey ? 'Operator key replaced' : 'Operator key saved',
          atMs: ctx.clock.nowMs(),
        })
        // First use of setup: create the console key now, so the operator can delegate to it right away.
        await store(true).then(consoleSigner, () => undefined)
        return answerAfter('operator key set')
      },
      'setup.setOperatorWallet': async ({ nwcUri }) => {
        const field = 'args[0].nwcUri'
        let parsed: ReturnType<typeof parseConnectionUri>
        try {
          parsed = parseConnectionUri(nwcUri)
        } catch (e) {
          // The parser's messages name the part (pubkey, relay, secret, lud16) and never echo the secret.
          const why = e instanceof NwcUriError ? e.message : 'not a valid connection URI'
          throw new ApiError('bad_args', `${field}: ${why}`, field)
        }
        const s = await store(true)
        await s.put(SecretSlots.operatorNwc, nwcUri.trim())
        wallet = { walletPubkey: parsed.walletPubkey, relays: [...parsed.relays], lud16: parsed.lud16 }
        log.info('operator wallet connected', { walletPubkey: parsed.walletPubkey, relays: parsed.relays.length })
        ctx.emit('notice', { level: 'info', text: 'Operator wallet connection saved', atMs: ctx.clock.nowMs() })
        await consoleSigner(s)
        return answerAfter('operator wallet set')
      },
    },
  }
}
