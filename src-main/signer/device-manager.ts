// The console's side of the operator's hardware signer (docs/signer-host.md): finds the device, pins it, and runs
// every operator-key request through it one at a time, telling the UI what happens.
//
// - Discovery: while no device is connected the opener is tried again with backoff (0.5 s doubling to 10 s; an
//   explicit "connect" looks at once). A connected device is watched through its transport's close event.
// - Pairing (pinning): the device shows its npub (GET_PUBLIC_KEY with display) and the operator confirms it ON THE
//   DEVICE; only then are the npub and the device's serial pinned. A new operator's key is taken from the device;
//   an operator key already set must be the device's, or nothing is pinned.
// - States pushed to the UI: absent / locked / ready / busy / error (`SignerDeviceView`), and one SignerActivity per
//   request with the review pages and compare code the device shows, so the confirm dialog mirrors the device.
// - One request at a time; a second one while the device is busy is answered `busy` at once (no hidden queue:
//   the operator would face prompts they did not expect). Unplugging mid-request ends that request as
//   "disconnected, nothing signed"; nothing is ever re-sent automatically.
// - Every answer is verified by the NSHP client against the pinned key (id, signature, pubkey); the callers check
//   again (signEventChecked / signDelegationChecked) before anything is stored or published.
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import { type Clock, systemClock } from '../../src-shared/clock'
import { ApiError } from '../../src-shared/ipc/contract'
import type {
  SignerDeviceInfoView,
  SignerDeviceState,
  SignerDeviceView,
  SignerRequestLogView,
  SignerRequestOutcome,
} from '../../src-shared/ipc/signer-device'
import type { Logger } from '../../src-shared/log'
import type { EventTemplate, NostrEvent } from '../../src-shared/nostr/event'
import type {
  DeviceInfo,
  DeviceStatus,
  EmulatorControlApi,
  ReportTransport,
  ReviewScreen,
  ScreenSnapshot,
  SignerClientApi,
  SignerClientOptions,
  TransportKind,
} from '../../src-shared/nshp/types'
import { SignerError } from '../../src-shared/nshp/types'
import type { SignDelegationRequest, Signer } from '../../src-shared/signer'
import type { SignerActivity, SignerActivityState } from '../../src-shared/signer-activity'
import type { OperatorSignerProvider } from '../fleet/operator-signer'
import type { DeviceStore } from './device-store'
import { currentRequester } from './requester'

/** Opens the device when one is present: null when none is found (discovery tries again later). */
export interface DeviceOpener {
  kind: TransportKind
  open(): Promise<ReportTransport | null>
}

/** What the device shows for each request (NSHP/1's review functions, shared with the device core). */
export interface ReviewFns {
  signEvent(template: EventTemplate, pubkey: string, clientLabel?: string): ReviewScreen
  delegation(req: SignDelegationRequest): ReviewScreen
  publicKey(pubkey: string): ReviewScreen
  nip44Encrypt(peerPubkey: string, plaintext: string): ReviewScreen
  nip44Decrypt(peerPubkey: string, payload: string): ReviewScreen
}

export interface DeviceManagerOptions {
  opener: DeviceOpener
  createClient(opts: SignerClientOptions): SignerClientApi
  review: ReviewFns
  store: DeviceStore
  /** The operator key in the settings (null before setup). */
  operatorPubkey(): string | null
  /** Pins a new operator's key in the settings (the setup's own validated path). */
  setOperatorPubkey(pubkey: string): Promise<void>
  log: Logger
  clock?: Clock
  onDevice?: (v: SignerDeviceView) => void
  onActivity?: (a: SignerActivity) => void
  /** In-process emulator only (demo): its screen is pushed while it changes. */
  emulator?: EmulatorControlApi
  onScreen?: (s: ScreenSnapshot) => void
  backoff?: { initialMs: number; maxMs: number }
  /** While locked, how often GET_INFO asks whether the PIN was entered. */
  lockedPollMs?: number
  /** The device's own review timeout (for the dialog's countdown). */
  reviewTimeoutMs?: number
}

const STATUS_TEXT: Record<DeviceStatus, string> = {
  processing: 'The signer is working…',
  'waiting-for-user': 'Waiting for you to approve on the signer',
  locked: 'The signer is locked: enter the PIN on the device',
  reviewing: 'You are reviewing this on the signer',
}

/** The operator-facing sentence and the log outcome for each way a device request can end without a signature. */
export function describeSignerError(e: unknown): {
  outcome: SignerRequestOutcome
  state: SignerActivityState
  message: string
  code: 'forbidden' | 'timeout' | 'unavailable' | 'busy' | 'conflict'
} {
  if (!(e instanceof SignerError))
    return {
      outcome: 'failed',
      state: 'failed',
      message: `The signer failed: ${(e as Error).message}. Nothing was signed.`,
      code: 'unavailable',
    }
  switch (e.code) {
    case 'user-rejected':
      return {
        outcome: 'refused',
        state: 'refused',
        message: 'You rejected this on the signer. Nothing was signed or published.',
        code: 'forbidden',
      }
    case 'device-timeout':
      return {
        outcome: 'timeout',
        state: 'timeout',
        message: 'No confirmation on the signer in time. Nothing was signed; try again when you are ready.',
        code: 'timeout',
      }
    case 'timeout':
      return {
        outcome: 'timeout',
        state: 'timeout',
        message: 'The signer stopped responding. Nothing was signed.',
        code: 'timeout',
      }
    case 'unplugged':
      return {
        outcome: 'unplugged',
        state: 'failed',
        message: 'Signer disconnected — nothing was signed. Plug it in again and retry; nothing is re-sent by itself.',
        code: 'unavailable',
      }
    case 'cancelled':
      return { outcome: 'cancelled', state: 'cancelled', message: 'Cancelled. Nothing was signed.', code: 'conflict' }
    case 'locked':
      return {
        outcome: 'failed',
        state: 'failed',
        message: 'The signer is locked: unlock it with its PIN on the device, then try again.',
        code: 'unavailable',
      }
    case 'busy':
      return {
        outcome: 'failed',
        state: 'failed',
        message: 'The signer is busy with another request: finish it on the device first.',
        code: 'busy',
      }
    case 'policy-denied':
      return {
        outcome: 'refused',
        state: 'refused',
        message: `The signer's own policy refused this request (${e.message}). Nothing was signed.`,
        code: 'forbidden',
      }
    case 'wrong-key':
      return {
        outcome: 'failed',
        state: 'failed',
        message: 'This signer holds a different key than your pinned operator key. Nothing was signed.',
        code: 'unavailable',
      }
    case 'verification-failed':
      return {
        outcome: 'failed',
        state: 'failed',
        message: "The signer's answer did not verify against your pinned key. Nothing was published.",
        code: 'unavailable',
      }
    default:
      // The NSHP client's messages are written for the operator and say that nothing was signed.
      return {
        outcome: 'failed',
        state: 'failed',
        message: /nothing was signed/i.test(e.message) ? e.message : `${e.message} Nothing was signed.`,
        code: 'unavailable',
      }
  }
}

interface Pending {
  requestId: string
  abort: AbortController
}

export class DeviceManager {
  private readonly clock: Clock
  private readonly log: Logger
  private client: SignerClientApi | null = null
  private info: DeviceInfo | null = null
  private state: SignerDeviceState = 'absent'
  private detail = 'Looking for your signer…'
  private pinning = false
  private pending: Pending | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  private nextAttemptAtMs: number | null = null
  private attempt = 0
  private stopped = true
  private opening: Promise<void> | null = null
  private lastScreen = ''
  private offClose: (() => void) | null = null

  constructor(private readonly o: DeviceManagerOptions) {
    this.clock = o.clock ?? systemClock
    this.log = o.log
  }

  // ---- lifecycle and discovery ------------------------------------------------------------------------------

  /** Starts discovery in the background. */
  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.pending?.abort.abort()
    this.offClose?.()
    const c = this.client
    this.client = null
    await c?.close().catch(() => undefined)
  }

  /** Looks for the device now (resets the backoff). */
  async connectNow(): Promise<SignerDeviceView> {
    this.attempt = 0
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.tryOpen()
    if (this.client && this.state !== 'busy') await this.refreshInfo()
    return this.view()
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer) return
    this.nextAttemptAtMs = this.clock.nowMs() + delayMs
    this.timer = setTimeout(() => {
      this.timer = null
      this.nextAttemptAtMs = null
      void this.tryOpen()
    }, delayMs)
    this.timer.unref?.()
  }

  private backoffMs(): number {
    const b = this.o.backoff ?? { initialMs: 500, maxMs: 10_000 }
    return Math.min(b.maxMs, b.initialMs * 2 ** Math.min(this.attempt, 20))
  }

  private tryOpen(): Promise<void> {
    this.opening ??= this.openOnce().finally(() => {
      this.opening = null
    })
    return this.opening
  }

  private async openOnce(): Promise<void> {
    if (this.client) return
    let transport: ReportTransport | null = null
    try {
      transport = await this.o.opener.open()
    } catch (e) {
      this.setState('error', `The signer could not be opened: ${(e as Error).message}`)
    }
    if (!transport) {
      if (this.state !== 'error')
        this.setState('absent', 'No signer found. Plug in your signer; the console keeps looking.')
      this.attempt++
      this.schedule(this.backoffMs())
      this.push()
      return
    }
    const pin = this.o.store.pin()
    const client = this.o.createClient({ transport, ...(pin ? { pinnedPubkey: pin.pubkey } : {}) })
    this.client = client
    this.offClose = client.onClose((reason) => this.onUnplugged(client, reason))
    this.attempt = 0
    this.log.info('signer connected', { transport: transport.kind })
    await this.refreshInfo()
  }

  private onUnplugged(client: SignerClientApi, reason: string): void {
    if (this.client !== client) return
    this.client = null
    this.info = null
    this.offClose = null
    this.pinning = false
    this.log.warn('signer disconnected', { reason })
    this.setState('absent', 'Signer disconnected. Plug it in again; the console keeps looking.')
    this.push()
    this.schedule(this.backoffMs())
  }

  /** GET_INFO, then (when pinned) the silent key check; sets ready / locked / error. */
  private async refreshInfo(): Promise<void> {
    const client = this.client
    if (!client) return
    try {
      const info = await client.getInfo()
      if (this.client !== client) return
      this.info = info
      const pin = this.o.store.pin()
      if (pin && pin.serial !== info.serial) {
        this.setState(
          'error',
          `This is not your pinned signer (serial ${info.serial}; pinned: ${pin.serial}). Forget the pinned signer to use this one.`,
        )
      } else if (info.locked) {
        this.setState('locked', 'The signer is locked: enter the PIN on the device.')
        this.pollLocked(client)
      } else if (pin) {
        const pk = await client.getPublicKey({ display: false })
        if (this.client !== client) return
        if (pk !== pin.pubkey) this.setState('error', 'This signer holds a different key than the pinned one.')
        else this.setReady()
      } else this.setState('ready', 'Signer connected. Pin it to use it for your operator key.')
    } catch (e) {
      if (this.client !== client) return
      if (e instanceof SignerError && e.code === 'locked') {
        this.setState('locked', 'The signer is locked: enter the PIN on the device.')
        this.pollLocked(client)
      } else if (e instanceof SignerError && e.code === 'wrong-key') {
        this.setState('error', 'This signer holds a different key than the pinned one.')
      } else if (!(e instanceof SignerError && e.code === 'unplugged')) {
        this.setState('error', describeSignerError(e).message)
      }
    }
    this.push()
  }

  private setReady(): void {
    const pin = this.o.store.pin()
    const op = this.o.operatorPubkey()
    if (pin && op && pin.pubkey !== op)
      this.setState(
        'error',
        'The pinned signer holds a different key than the operator key in Settings: pin the right signer or forget this one.',
      )
    else this.setState('ready', pin ? 'Signer ready.' : 'Signer connected. Pin it to use it for your operator key.')
  }

  private pollLocked(client: SignerClientApi): void {
    const t = setTimeout(() => {
      if (this.client === client && this.state === 'locked' && !this.pending) void this.refreshInfo()
    }, this.o.lockedPollMs ?? 2000)
    t.unref?.()
  }

  private setState(state: SignerDeviceState, detail: string): void {
    this.state = state
    this.detail = detail
  }

  private push(): void {
    this.o.onDevice?.(this.view())
  }

  private pushScreen(): void {
    if (!this.o.emulator || !this.o.onScreen) return
    const s = this.o.emulator.screen()
    const key = JSON.stringify(s)
    if (key === this.lastScreen) return
    this.lastScreen = key
    this.o.onScreen(s)
  }

  // ---- view -------------------------------------------------------------------------------------------------

  private infoView(): SignerDeviceInfoView | null {
    const i = this.info
    return i
      ? {
          model: i.model,
          serial: i.serial,
          firmwareVersion: i.firmwareVersion,
          protocolVersion: i.protocolVersion,
          demo: i.demo,
        }
      : null
  }

  /** Operator signatures go through the device now. */
  usable(): boolean {
    const pin = this.o.store.pin()
    const op = this.o.operatorPubkey()
    return (
      this.client !== null &&
      (this.state === 'ready' || this.state === 'busy') &&
      pin !== null &&
      op !== null &&
      pin.pubkey === op &&
      this.info?.serial === pin.serial
    )
  }

  view(): SignerDeviceView {
    const pin = this.o.store.pin()
    const op = this.o.operatorPubkey()
    // The operator key can change in Settings at any time: a pinned device holding another key is not usable.
    const mismatch = this.state === 'ready' && pin !== null && op !== null && pin.pubkey !== op
    return {
      state: mismatch ? 'error' : this.state,
      transport: this.o.opener.kind,
      emulated: this.o.opener.kind !== 'hid',
      detail: mismatch
        ? 'The pinned signer holds a different key than the operator key in Settings: pin the right signer or forget this one.'
        : this.detail,
      info: this.infoView(),
      pinned: pin ? { ...pin } : null,
      operatorPubkey: this.o.operatorPubkey(),
      pinnedDevice: pin && this.info ? pin.serial === this.info.serial : null,
      pinning: this.pinning,
      usable: this.usable(),
      nextAttemptAtMs: this.state === 'absent' ? this.nextAttemptAtMs : null,
    }
  }

  // ---- requests ---------------------------------------------------------------------------------------------

  /** The request log, newest first. */
  requests(offset: number, limit: number): SignerRequestLogView {
    return this.o.store.pageRequests({ offset, limit })
  }

  /** Cancels the request waiting on the device, if it is this one. */
  cancel(requestId: string): boolean {
    if (!this.pending || this.pending.requestId !== requestId) return false
    this.pending.abort.abort()
    return true
  }

  /**
   * Runs one request on the device: refuses at once when the device is not there or busy, pushes the activity
   * (review pages, compare code, live status), logs the outcome, and maps a device refusal to an ApiError whose
   * message the operator can act on. `requireUsable` is false only for pinning.
   */
  private async run<T>(
    what: string,
    summary: string,
    review: () => ReviewScreen | null,
    call: (
      client: SignerClientApi,
      opts: { onStatus: (s: DeviceStatus, review?: { page: number; pages: number }) => void; signal: AbortSignal },
    ) => Promise<T>,
    requireUsable = true,
  ): Promise<T> {
    const client = this.client
    if (!client) throw new ApiError('unavailable', 'No signer connected: plug in your signer.')
    if (this.pending || client.busy)
      throw new ApiError('busy', 'The signer is busy with another request: finish or cancel it on the device first.')
    if (requireUsable && !this.usable()) throw new ApiError('unavailable', this.unusableReason())
    const requester = currentRequester()
    const requestId = bytesToHex(randomBytes(8))
    const abort = new AbortController()
    this.pending = { requestId, abort }
    const startedAtMs = this.clock.nowMs()
    let screen: ReviewScreen | null = null
    try {
      screen = review()
    } catch (e) {
      this.log.warn('signer review text could not be built', { what, reason: (e as Error).message })
    }
    const base: SignerActivity = {
      requestId,
      what,
      via: 'device',
      state: 'waiting',
      fields: (screen?.pages ?? []).flatMap((p) => p.lines.map((l) => ({ label: l.label, value: l.value }))),
      ...(screen
        ? { pages: screen.pages.map((p) => ({ title: p.title, lines: p.lines.map((l) => ({ ...l })) })) }
        : {}),
      ...(screen?.compareCode ? { compareCode: screen.compareCode } : {}),
      status: STATUS_TEXT.processing,
      requester: requester.label,
      startedAtMs,
      deadlineAtMs: startedAtMs + (this.o.reviewTimeoutMs ?? 60_000),
    }
    const prevState = this.state
    this.setState('busy', `Waiting on the signer: ${what}`)
    this.push()
    this.o.onActivity?.(base)
    this.pushScreen()
    let lastStatus = ''
    const onStatus = (s: DeviceStatus, review?: { page: number; pages: number }) => {
      this.pushScreen()
      const text =
        s === 'reviewing' && review
          ? `You are reviewing this on the signer (page ${review.page} of ${review.pages})`
          : STATUS_TEXT[s]
      if (text === lastStatus) return
      lastStatus = text
      this.o.onActivity?.({ ...base, status: text })
    }
    // Logged before the outcome is pushed: the UI reloads the log when it sees the outcome.
    const end = async (outcome: SignerRequestOutcome, state: SignerActivityState, detail: string) => {
      try {
        await this.o.store.appendRequest({
          atMs: this.clock.nowMs(),
          requestId,
          requester: requester.label,
          what,
          summary,
          outcome,
          detail,
        })
      } catch (e) {
        this.log.error('signer request log append failed', { reason: (e as Error).message })
      }
      this.o.onActivity?.({ ...base, state, detail, status: detail })
    }
    try {
      const out = await call(client, { onStatus, signal: abort.signal })
      this.pending = null
      if (this.client === client) this.setReady()
      this.push()
      this.pushScreen()
      await end('approved', 'approved', 'Approved on the signer.')
      this.log.info('signer request approved', { what, requestId })
      return out
    } catch (e) {
      this.pending = null
      const d = describeSignerError(e)
      if (this.client === client) {
        if (prevState === 'ready' || prevState === 'busy') this.setReady()
        if (e instanceof SignerError && e.code === 'locked') {
          this.setState('locked', 'The signer is locked: enter the PIN on the device.')
          this.pollLocked(client)
        }
      }
      this.push()
      this.pushScreen()
      await end(d.outcome, d.state, d.message)
      this.log.warn('signer request ended without a signature', {
        what,
        requestId,
        reason: e instanceof SignerError ? e.code : (e as Error).message,
      })
      throw new ApiError(d.code, d.message)
    }
  }

  private unusableReason(): string {
    const pin = this.o.store.pin()
    if (!pin) return 'Pin your signer on the Signer screen first.'
    if (this.state === 'locked') return 'The signer is locked: enter the PIN on the device.'
    if (this.state === 'error') return this.detail
    const op = this.o.operatorPubkey()
    if (op && op !== pin.pubkey) return 'The pinned signer holds a different key than the operator key in Settings.'
    if (!op) return 'Set up your operator key first.'
    return this.detail
  }

  /** Pinning: the device shows its npub; when the operator confirms on the device, npub + serial are pinned. */
  async pin(): Promise<SignerDeviceView> {
    if (!this.client || !this.info) throw new ApiError('unavailable', 'No signer connected: plug in your signer.')
    if (this.state === 'locked') throw new ApiError('unavailable', 'The signer is locked: enter the PIN on the device.')
    const info = this.info
    const client = this.client
    const existing = this.o.store.pin()
    if (existing && existing.serial !== info.serial)
      throw new ApiError('conflict', 'Another signer is pinned: forget it first, then pin this one.')
    // Ask silently first so the dialog can show the same npub the device is about to show.
    let shownPubkey: string | null = null
    try {
      client.pin(null)
      shownPubkey = await client.getPublicKey({ display: false })
    } catch (e) {
      if (existing) client.pin(existing.pubkey)
      throw new ApiError(describeSignerError(e).code, describeSignerError(e).message)
    }
    this.pinning = true
    let pubkey: string
    try {
      pubkey = await this.run(
        'get_public_key',
        'pin this signer (npub shown on the device)',
        () => this.o.review.publicKey(shownPubkey as string),
        (c, opts) => c.getPublicKey({ display: true, ...opts }),
        false,
      )
    } catch (e) {
      if (existing) client.pin(existing.pubkey)
      throw e
    } finally {
      this.pinning = false
    }
    if (pubkey !== shownPubkey) {
      if (existing) client.pin(existing.pubkey)
      this.push()
      throw new ApiError('unavailable', 'The signer answered two different keys: nothing was pinned.')
    }
    const op = this.o.operatorPubkey()
    if (op && op !== pubkey) {
      if (existing) client.pin(existing.pubkey)
      this.push()
      throw new ApiError(
        'conflict',
        `This signer holds a different key (${npubEncode(pubkey).slice(0, 16)}…) than the operator key in Settings ` +
          `(${npubEncode(op).slice(0, 16)}…). Nothing was pinned.`,
      )
    }
    if (!op) await this.o.setOperatorPubkey(pubkey)
    await this.o.store.savePin({
      pubkey,
      npub: npubEncode(pubkey),
      serial: info.serial,
      model: info.model,
      pinnedAtMs: this.clock.nowMs(),
    })
    client.pin(pubkey)
    this.log.info('signer pinned', { serial: info.serial, pubkey })
    this.setReady()
    this.push()
    return this.view()
  }

  async forget(): Promise<SignerDeviceView> {
    if (this.pending) throw new ApiError('busy', 'A request is waiting on the signer: finish or cancel it first.')
    await this.o.store.savePin(null)
    this.client?.pin(null)
    this.log.info('signer pin forgotten')
    if (this.client) await this.refreshInfo()
    else this.push()
    return this.view()
  }

  // ---- the operator signer ------------------------------------------------------------------------------------

  private readonly signer: Signer = {
    getPublicKey: async () => {
      const pin = this.o.store.pin()
      if (!pin) throw new ApiError('unavailable', 'Pin your signer on the Signer screen first.')
      return pin.pubkey
    },
    signEvent: (t: EventTemplate): Promise<NostrEvent> => {
      const d = t.tags.find((x) => x[0] === 'd')?.[1]
      const req = currentRequester()
      return this.run(
        'sign_event',
        `kind ${t.kind}${d !== undefined ? ` d=${d}` : ''}`,
        () => this.o.review.signEvent(t, this.o.store.pin()?.pubkey ?? '', req.clientLabel),
        (c, opts) => c.signEvent(t, { ...opts, ...(req.clientLabel ? { clientLabel: req.clientLabel } : {}) }),
      )
    },
    signDelegation: (r: SignDelegationRequest): Promise<string> =>
      this.run(
        'sign_delegation',
        `delegate to ${npubEncode(r.delegateePubkey).slice(0, 16)}… (${r.conditions})`,
        () => this.o.review.delegation(r),
        (c, opts) => c.signDelegation(r, opts),
      ),
    nip44Encrypt: (peer: string, plaintext: string): Promise<string> =>
      this.run(
        'nip44_encrypt',
        `to ${peer.slice(0, 12)}… (${plaintext.length} characters)`,
        () => this.o.review.nip44Encrypt(peer, plaintext),
        (c, opts) => c.nip44Encrypt(peer, plaintext, opts),
      ),
    nip44Decrypt: (peer: string, payload: string): Promise<string> =>
      this.run(
        'nip44_decrypt',
        `from ${peer.slice(0, 12)}…`,
        () => this.o.review.nip44Decrypt(peer, payload),
        (c, opts) => c.nip44Decrypt(peer, payload, opts),
      ),
  }

  /** The operator signer backed by this device: a signer only while the pinned device is usable. */
  provider(): OperatorSignerProvider {
    return {
      current: () => (this.usable() ? this.signer : null),
      pubkey: () => this.o.store.pin()?.pubkey ?? null,
      describe: () => {
        const pin = this.o.store.pin()
        if (this.usable() && pin) return `hardware signer ${pin.model} ${pin.serial} (${pin.npub.slice(0, 16)}…)`
        return `the hardware signer: ${this.unusableReason()}`
      },
    }
  }
}
