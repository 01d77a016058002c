// The NSHP/1 device core (docs/signer-protocol.md): one pure-TypeScript model of a hardware signer that both
// emulators (in-process and `satmachine signer-emu` over TCP) wrap. It consumes and emits raw reports exactly as
// a USB device would, holds the key (only in demo or test mode), the PIN and lock state, the virtual screen and
// buttons, and the device policy. It builds what it signs from the fields it shows: the NIP-01 serialisation and
// the NIP-26 string are computed here from the decoded request, never taken from the host. There is no
// sign-a-hash command and no key export.
//
// The deframer and framer below are written independently of the host's (src-shared/nshp-frame.ts) on purpose,
// so a symmetric bug in one cannot hide in both. Faults for tests are injected on the way out (see `Fault`).
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import {
  CAPABILITY_BIT,
  decodeRequest,
  encodeResponse,
  MessageError,
  peekRequestId,
  type Request,
  type ResponseBody,
} from './messages'
import { refusedControl, serializeEvent } from './nip01'
import { checkDelegation, DEFAULT_POLICY, type DevicePolicy } from './policy'
import {
  delegationHash,
  reviewDelegation,
  reviewNip44Decrypt,
  reviewNip44Encrypt,
  reviewPublicKey,
  reviewSignEvent,
} from './review'
import {
  type Button,
  type DeviceCoreOptions,
  type DeviceState,
  type EmulatorConfig,
  type EmulatorControlApi,
  type Fault,
  Keepalive,
  NSHP_VERSION,
  type ReviewScreen,
  type ScreenSnapshot,
  Status,
  type StatusCode,
} from './types'

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

export const DEFAULT_EMULATOR_CONFIG: EmulatorConfig = {
  autoApprove: false,
  autoApproveAfterMs: 0,
  reviewTimeoutMs: 60_000,
  keepaliveMs: 500,
  reportDelayMs: 0,
  processingDelayMs: 0,
}

export const FIRMWARE_VERSION = 'emu-1.0.0'
export const MODEL = 'NSHP/1 emulator'
export const MAX_PIN_ATTEMPTS = 10
const TAG_MSG = 0x05
const TAG_STATUS = 0x06
const TAG_CANCEL = 0x07
const FRAME_FAULTS: ReadonlySet<Fault> = new Set<Fault>([
  'drop-report',
  'duplicate-report',
  'sequence-gap',
  'wrong-channel',
  'foreign-channel-interleave',
  'wrong-tag',
  'truncated-length',
  'oversize-length',
  'garbage',
  'unplug-mid-response',
])

export class DeviceModeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DeviceModeError'
  }
}

interface Pending {
  channel: number
  requestId: number
  request: Request
  review: ReviewScreen | null
  page: number
  /** Called on approve with the answer to send. */
  onApprove: (() => { status: StatusCode; body: ResponseBody | { reason?: string } }) | null
  keepalive: unknown
  timeout: unknown
  paging: boolean
  faults: Set<Fault>
}

/** One emulated device. Reports in through `receive`, out through the sink set by `connect`. */
export class DeviceCore implements EmulatorControlApi {
  readonly reportBytes: number
  readonly maxMessageBytes: number
  readonly serial: string
  readonly pubkey: string
  policy: DevicePolicy = { ...DEFAULT_POLICY }
  private sk: Uint8Array | null
  private readonly pinCode: string | undefined
  private readonly aux: () => Uint8Array
  private locked: boolean
  private attemptsLeft = MAX_PIN_ATTEMPTS
  private plugged = true
  private config: EmulatorConfig
  private sink: ((report: Uint8Array) => void) | null = null
  private readonly plugListeners = new Set<(plugged: boolean) => void>()
  private readonly stateListeners = new Set<() => void>()
  private readonly queuedFaults: Fault[] = []
  private pending: Pending | null = null
  private answered = 0
  // Deframer state: which channel and message is being assembled.
  private rx: { channel: number; buf: Uint8Array; filled: number; next: number; discard: boolean } | null = null

  constructor(
    opts: DeviceCoreOptions,
    private readonly scheduler: Scheduler = realScheduler,
  ) {
    // The emulator is the only thing that holds a key in software; it does so only when asked for demo or test.
    if ((opts.mode as string) !== 'demo' && (opts.mode as string) !== 'test')
      throw new DeviceModeError(
        `mode: the emulated signer holds a key only in demo or test mode, not '${String(opts.mode)}'`,
      )
    if (!(opts.secretKey instanceof Uint8Array) || opts.secretKey.length !== 32)
      throw new DeviceModeError('secretKey: must be 32 bytes')
    if (opts.pin !== undefined && !/^[0-9]{4,12}$/.test(opts.pin)) throw new DeviceModeError('pin: 4 to 12 digits')
    if (opts.locked && opts.pin === undefined) throw new DeviceModeError('locked: needs a pin')
    this.sk = Uint8Array.from(opts.secretKey)
    this.pubkey = bytesToHex(schnorr.getPublicKey(this.sk))
    this.serial = opts.serial ?? `EMU-${this.pubkey.slice(0, 8).toUpperCase()}`
    this.pinCode = opts.pin
    this.locked = opts.locked === true
    this.reportBytes = opts.reportBytes ?? 64
    if (!Number.isInteger(this.reportBytes) || this.reportBytes < 16 || this.reportBytes > 1024)
      throw new DeviceModeError('reportBytes: 16..1024')
    this.maxMessageBytes = opts.maxMessageBytes ?? 16_384
    this.config = { ...DEFAULT_EMULATOR_CONFIG, ...opts.config }
    this.aux = opts.auxRand ?? (() => randomBytes(32))
  }

  // ---- wiring (used by the transports) ----

  /** Sets where the device's reports go (one host at a time, as over one USB cable). */
  connect(sink: ((report: Uint8Array) => void) | null): void {
    this.sink = sink
  }

  get isPlugged(): boolean {
    return this.plugged
  }

  onPlug(listener: (plugged: boolean) => void): () => void {
    this.plugListeners.add(listener)
    return () => this.plugListeners.delete(listener)
  }

  /** A report from the host (without any OS report-id byte). */
  receive(report: Uint8Array): void {
    if (!this.plugged || report.length < 5) return
    const channel = ((report[0] ?? 0) << 8) | (report[1] ?? 0)
    const tag = report[2] ?? 0
    const seq = ((report[3] ?? 0) << 8) | (report[4] ?? 0)
    if (tag === TAG_CANCEL) {
      if (this.pending && this.pending.channel === channel)
        this.finish(Status.CANCELLED, { reason: 'cancelled by the host' })
      return
    }
    if (tag !== TAG_MSG) return
    if (seq === 0) {
      // A first frame always starts a new message, on whatever channel (hosts may pick a new one per exchange).
      const declared = ((report[5] ?? 0) << 8) | (report[6] ?? 0)
      if (declared > this.maxMessageBytes) {
        this.rx = { channel, buf: new Uint8Array(0), filled: 0, next: 1, discard: true }
        const first = report.subarray(7)
        const id = peekRequestId(first) ?? 0
        this.answerNow(channel, id, Status.TOO_LARGE, {
          reason: `message of ${declared} bytes exceeds ${this.maxMessageBytes}`,
        })
        return
      }
      this.rx = { channel, buf: new Uint8Array(declared), filled: 0, next: 0, discard: false }
    } else if (!this.rx || this.rx.channel !== channel) return
    const rx = this.rx
    if (!rx) return
    if (seq !== rx.next) {
      // A gap in the host's sequence: drop the partial message; the host will time out or resend.
      this.rx = null
      return
    }
    rx.next++
    if (rx.discard) return
    const start = seq === 0 ? 7 : 5
    const take = Math.min(report.length - start, rx.buf.length - rx.filled)
    rx.buf.set(report.subarray(start, start + take), rx.filled)
    rx.filled += take
    if (this.queuedFaults[0] === 'unplug-mid-request') {
      this.queuedFaults.shift()
      this.unplug()
      return
    }
    if (rx.filled < rx.buf.length) return
    this.rx = null
    this.onMessage(channel, rx.buf)
  }

  // ---- control API ----

  screen(): ScreenSnapshot {
    const p = this.pending
    return {
      state: this.state(),
      review: p?.review ? { ...p.review, page: p.page } : null,
      text: this.screenText(),
      pinAttemptsLeft: this.attemptsLeft,
      answered: this.answered,
    }
  }

  press(button: Button): void {
    const p = this.pending
    if (!p?.review) return
    if (button === 'next' || button === 'prev') {
      const last = p.review.pages.length - 1
      p.page = Math.max(0, Math.min(last, p.page + (button === 'next' ? 1 : -1)))
      p.paging = true
      this.changed()
      return
    }
    if (button === 'reject') {
      this.finish(Status.USER_REJECTED, { reason: 'rejected on the device' })
      return
    }
    const approve = p.onApprove
    if (!approve) return
    const a = approve()
    this.finish(a.status, a.body)
  }

  enterPin(digits: string): boolean {
    if (this.sk === null || this.pinCode === undefined) return false
    if (digits === this.pinCode) {
      this.locked = false
      this.attemptsLeft = MAX_PIN_ATTEMPTS
      this.changed()
      return true
    }
    this.attemptsLeft--
    if (this.attemptsLeft <= 0) this.wipe()
    this.changed()
    return false
  }

  lock(): void {
    if (this.pinCode === undefined) return
    this.locked = true
    this.changed()
  }

  unplug(): void {
    if (!this.plugged) return
    this.plugged = false
    this.rx = null
    if (this.pending) this.clearPending()
    // Devices lock when they lose power or USB, as a real one does.
    if (this.pinCode !== undefined) this.locked = true
    for (const l of [...this.plugListeners]) l(false)
    this.changed()
  }

  replug(): void {
    if (this.plugged) return
    this.plugged = true
    for (const l of [...this.plugListeners]) l(true)
    this.changed()
  }

  configure(config: Partial<EmulatorConfig>): EmulatorConfig {
    const next = { ...this.config }
    for (const [k, v] of Object.entries(config) as [keyof EmulatorConfig, unknown][]) {
      if (!(k in DEFAULT_EMULATOR_CONFIG)) throw new RangeError(`config.${k}: unknown setting`)
      if (k === 'autoApprove') {
        if (typeof v !== 'boolean') throw new RangeError('config.autoApprove: must be true or false')
        next.autoApprove = v
      } else {
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 3_600_000)
          throw new RangeError(`config.${k}: must be an integer number of milliseconds`)
        if (k === 'keepaliveMs' && v < 10) throw new RangeError('config.keepaliveMs: at least 10')
        next[k] = v
      }
    }
    this.config = next
    return { ...next }
  }

  fault(fault: Fault): void {
    this.queuedFaults.push(fault)
  }

  waitFor(state: DeviceState, timeoutMs = 10_000): Promise<ScreenSnapshot> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.state() !== state) return false
        this.stateListeners.delete(check)
        this.scheduler.clearTimeout(timer)
        resolve(this.screen())
        return true
      }
      const timer = this.scheduler.setTimeout(() => {
        this.stateListeners.delete(check)
        reject(new Error(`device did not reach '${state}' within ${timeoutMs} ms (it is '${this.state()}')`))
      }, timeoutMs)
      if (!check()) this.stateListeners.add(check)
    })
  }

  // ---- internals ----

  private state(): DeviceState {
    if (!this.plugged) return 'unplugged'
    if (this.sk === null) return 'wiped'
    if (this.pending?.review) return 'reviewing'
    if (this.pending) return 'busy'
    if (this.locked) return 'locked'
    return 'idle'
  }

  private screenText(): string {
    switch (this.state()) {
      case 'unplugged':
        return ''
      case 'wiped':
        return 'No key. Set up the device.'
      case 'locked':
        return 'Locked. Enter PIN.'
      case 'busy':
        return 'Working…'
      case 'reviewing':
        return this.pending?.review?.pages[this.pending.page]?.title ?? ''
      default:
        return 'Ready'
    }
  }

  private changed(): void {
    for (const l of [...this.stateListeners]) (l as () => boolean)()
  }

  private wipe(): void {
    if (this.sk) this.sk.fill(0)
    this.sk = null
  }

  private takeFaults(): Set<Fault> {
    const out = new Set<Fault>()
    while (this.queuedFaults.length > 0 && this.queuedFaults[0] !== 'unplug-mid-request')
      out.add(this.queuedFaults.shift() as Fault)
    return out
  }

  private onMessage(channel: number, msg: Uint8Array): void {
    const faults = this.takeFaults()
    if (faults.has('stall')) return
    let decoded: ReturnType<typeof decodeRequest>
    try {
      decoded = decodeRequest(msg)
    } catch (e) {
      if (!(e instanceof MessageError)) throw e
      this.answerNow(channel, peekRequestId(msg) ?? 0, e.status, { reason: e.message }, faults)
      return
    }
    const { requestId, request } = decoded
    if (this.pending) {
      this.answerNow(channel, requestId, Status.BUSY, { reason: 'another request is on the screen' }, faults)
      return
    }
    if (faults.has('answer-busy') || faults.has('answer-locked')) {
      this.answerNow(channel, requestId, faults.has('answer-busy') ? Status.BUSY : Status.LOCKED, {}, faults)
      return
    }
    const p: Pending = {
      channel,
      requestId,
      request,
      review: null,
      page: 0,
      onApprove: null,
      keepalive: null,
      timeout: null,
      paging: false,
      faults,
    }
    this.pending = p
    this.startKeepalive(p)
    this.changed()
    const run = () => {
      if (this.pending !== p) return
      this.handle(p)
    }
    if (this.config.processingDelayMs > 0) this.scheduler.setTimeout(run, this.config.processingDelayMs)
    else run()
  }

  private startKeepalive(p: Pending): void {
    if (p.faults.has('no-status')) return
    const tick = () => {
      if (this.pending !== p) return
      const code = !p.review ? Keepalive.PROCESSING : p.paging ? Keepalive.REVIEWING : Keepalive.WAITING_FOR_USER
      this.emit(this.statusFrame(p.channel, code, p.review ? p.page + 1 : 0, p.review ? p.review.pages.length : 0))
      p.keepalive = this.scheduler.setTimeout(tick, this.config.keepaliveMs)
    }
    p.keepalive = this.scheduler.setTimeout(tick, Math.min(this.config.keepaliveMs, 50))
  }

  private needsKey(p: Pending): Uint8Array | null {
    if (this.sk === null) {
      this.finish(Status.WRONG_STATE, { reason: 'the device holds no key' })
      return null
    }
    if (this.locked) {
      this.finish(Status.LOCKED, { reason: 'enter the PIN on the device' })
      return null
    }
    if ('account' in p.request && p.request.account !== 0) {
      this.finish(Status.BAD_REQUEST, { reason: `account: ${p.request.account} is not set up on this device` })
      return null
    }
    return this.sk
  }

  private handle(p: Pending): undefined {
    const r = p.request
    switch (r.command) {
      case 'GET_INFO': {
        let caps = 0
        for (const b of Object.values(CAPABILITY_BIT)) caps |= b
        return this.finish(Status.OK, {
          command: 'GET_INFO',
          info: {
            protocolVersion: NSHP_VERSION,
            firmwareVersion: FIRMWARE_VERSION,
            model: MODEL,
            serial: this.serial,
            capabilities: caps,
            reportBytes: this.reportBytes,
            maxMessageBytes: this.maxMessageBytes,
            locked: this.locked || this.sk === null,
            demo: true,
          },
        })
      }
      case 'PING':
        return this.finish(Status.OK, { command: 'PING', data: r.data })
      case 'GET_PUBLIC_KEY': {
        const sk = this.needsKey(p)
        if (!sk) return
        const answer = () => ({
          status: Status.OK as StatusCode,
          body: {
            command: 'GET_PUBLIC_KEY' as const,
            pubkey: p.faults.has('different-pubkey') ? otherPubkey(sk) : this.pubkey,
          },
        })
        if (!r.display) {
          const a = answer()
          return this.finish(a.status, a.body)
        }
        return this.review(p, reviewPublicKey(this.pubkey, r.account), answer)
      }
      case 'SIGN_EVENT': {
        const sk = this.needsKey(p)
        if (!sk) return
        const strings: [string, string][] = [['content', r.content]]
        for (const [i, t] of r.tags.entries()) for (const [j, x] of t.entries()) strings.push([`tags[${i}][${j}]`, x])
        if (r.clientLabel !== undefined) strings.push(['client_label', r.clientLabel])
        for (const [field, s] of strings) {
          const bad = refusedControl(s)
          if (bad)
            return this.finish(Status.BAD_REQUEST, {
              reason: `${field}: control character U+${bad.code.toString(16).padStart(4, '0').toUpperCase()} at ${bad.index}`,
            })
        }
        // The id comes from the fields the device is about to show, serialised here.
        const id = eventId(this.pubkey, r)
        const fields = { ...r, pubkey: this.pubkey }
        return this.review(p, reviewSignEvent(fields, id), () => {
          let signKey = sk
          let pubkey = this.pubkey
          let signedId = id
          if (p.faults.has('different-pubkey')) {
            signKey = otherKey(sk)
            pubkey = bytesToHex(schnorr.getPublicKey(signKey))
            signedId = eventId(pubkey, r)
          }
          if (p.faults.has('wrong-event-id')) signedId = eventId(pubkey, { ...r, content: `${r.content} ` })
          const sig = schnorr.sign(hexToBytes(signedId), signKey, this.aux())
          if (p.faults.has('corrupt-signature')) sig[10] = (sig[10] ?? 0) ^ 0x01
          return { status: Status.OK, body: { command: 'SIGN_EVENT', id: signedId, sig: bytesToHex(sig), pubkey } }
        })
      }
      case 'SIGN_DELEGATION': {
        const sk = this.needsKey(p)
        if (!sk) return
        const verdict = checkDelegation(r.conditions, this.policy)
        if (!verdict.ok)
          return this.finish(verdict.status === 'policy-denied' ? Status.POLICY_DENIED : Status.BAD_REQUEST, {
            reason: verdict.reason,
          })
        // The device builds "nostr:delegation:<delegatee>:<conditions>" itself from what it shows.
        const hash = delegationHash(r.delegatee, r.conditions)
        return this.review(p, reviewDelegation(r, verdict.parsed), () => {
          const key = p.faults.has('different-pubkey') ? otherKey(sk) : sk
          const sig = schnorr.sign(hexToBytes(hash), key, this.aux())
          if (p.faults.has('corrupt-signature')) sig[10] = (sig[10] ?? 0) ^ 0x01
          return { status: Status.OK, body: { command: 'SIGN_DELEGATION', sig: bytesToHex(sig) } }
        })
      }
      case 'NIP44_ENCRYPT': {
        const sk = this.needsKey(p)
        if (!sk) return
        let conv: Uint8Array
        try {
          conv = nip44.getConversationKey(sk, r.peer)
        } catch {
          return this.finish(Status.BAD_REQUEST, { reason: 'peer: not a valid public key' })
        }
        if (utf8ToBytes(r.plaintext).length === 0)
          return this.finish(Status.BAD_REQUEST, { reason: 'plaintext: empty' })
        return this.review(p, reviewNip44Encrypt(r.peer, r.plaintext, r.account), () => ({
          status: Status.OK,
          body: { command: 'NIP44_ENCRYPT', payload: nip44.encrypt(r.plaintext, conv) },
        }))
      }
      case 'NIP44_DECRYPT': {
        const sk = this.needsKey(p)
        if (!sk) return
        let plaintext: string
        try {
          plaintext = nip44.decrypt(r.payload, nip44.getConversationKey(sk, r.peer))
        } catch (e) {
          return this.finish(Status.BAD_REQUEST, { reason: `payload: does not decrypt (${(e as Error).message})` })
        }
        return this.review(p, reviewNip44Decrypt(r.peer, r.account), () => ({
          status: Status.OK,
          body: { command: 'NIP44_DECRYPT', plaintext },
        }))
      }
    }
  }

  private review(
    p: Pending,
    screen: ReviewScreen,
    onApprove: () => { status: StatusCode; body: ResponseBody | { reason?: string } },
  ): undefined {
    p.review = screen
    p.onApprove = onApprove
    p.timeout = this.scheduler.setTimeout(() => {
      if (this.pending === p) this.finish(Status.DEVICE_TIMEOUT, { reason: 'no answer on the device' })
    }, this.config.reviewTimeoutMs)
    this.changed()
    if (this.config.autoApprove) {
      this.scheduler.setTimeout(() => {
        if (this.pending === p) this.press('approve')
      }, this.config.autoApproveAfterMs)
    }
    return undefined
  }

  private clearPending(): void {
    const p = this.pending
    if (!p) return
    this.scheduler.clearTimeout(p.keepalive)
    this.scheduler.clearTimeout(p.timeout)
    this.pending = null
  }

  /** Ends the pending request with this answer. */
  private finish(status: StatusCode, body: ResponseBody | { reason?: string }): undefined {
    const p = this.pending
    if (!p) return undefined
    this.clearPending()
    this.answerNow(p.channel, p.requestId, status, body, p.faults)
    this.changed()
    return undefined
  }

  private answerNow(
    channel: number,
    requestId: number,
    status: StatusCode,
    body: ResponseBody | { reason?: string },
    faults: Set<Fault> = new Set(),
  ): void {
    this.answered++
    const id = faults.has('wrong-request-id') ? (requestId + 1) & 0xffff : requestId
    let msg = encodeResponse(id, status, body)
    if (faults.has('garbage')) msg = randomBytes(msg.length)
    let reports = this.frame(channel, msg)
    reports = applyFrameFaults(reports, faults, channel, this.reportBytes)
    const unplugAt = faults.has('unplug-mid-response') ? Math.max(1, Math.floor(reports.length / 2)) : -1
    this.sendReports(reports, unplugAt)
  }

  private sendReports(reports: Uint8Array[], unplugAt: number): void {
    let i = 0
    const next = () => {
      if (!this.plugged) return
      if (i === unplugAt) {
        this.unplug()
        return
      }
      const r = reports[i++]
      if (!r) return
      this.emit(r)
      if (this.config.reportDelayMs > 0) this.scheduler.setTimeout(next, this.config.reportDelayMs)
      else next()
    }
    if (this.config.reportDelayMs > 0) this.scheduler.setTimeout(next, this.config.reportDelayMs)
    else next()
  }

  private emit(report: Uint8Array): void {
    if (this.plugged) this.sink?.(report)
  }

  /** STATUS frame: byte 5 the keepalive code; during a review byte 6 the page shown (1-based), byte 7 the pages. */
  private statusFrame(channel: number, code: number, page: number, pages: number): Uint8Array {
    const r = new Uint8Array(this.reportBytes)
    r[0] = channel >> 8
    r[1] = channel & 0xff
    r[2] = TAG_STATUS
    r[5] = code
    r[6] = Math.min(page, 255)
    r[7] = Math.min(pages, 255)
    return r
  }

  /** Device-side framer: frame 0 = header + 2-byte length + data; later frames header + data; zero padding. */
  private frame(channel: number, msg: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    let off = 0
    for (let seq = 0; seq === 0 || off < msg.length; seq++) {
      const r = new Uint8Array(this.reportBytes)
      r[0] = channel >> 8
      r[1] = channel & 0xff
      r[2] = TAG_MSG
      r[3] = seq >> 8
      r[4] = seq & 0xff
      let at = 5
      if (seq === 0) {
        r[5] = msg.length >> 8
        r[6] = msg.length & 0xff
        at = 7
      }
      const n = Math.min(this.reportBytes - at, msg.length - off)
      r.set(msg.subarray(off, off + n), at)
      off += n
      out.push(r)
    }
    return out
  }
}

/** A device core; throws DeviceModeError unless `opts.mode` is 'demo' or 'test'. */
export const createDeviceCore = (opts: DeviceCoreOptions, scheduler?: Scheduler): DeviceCore =>
  new DeviceCore(opts, scheduler)

function eventId(pubkey: string, r: { createdAt: number; kind: number; tags: string[][]; content: string }): string {
  return bytesToHex(sha256(utf8ToBytes(serializeEvent(pubkey, r.createdAt, r.kind, r.tags, r.content))))
}

/** A key that is not the device's (fault injection only): sha256 of the real one. */
const otherKey = (sk: Uint8Array): Uint8Array => sha256(sk)
const otherPubkey = (sk: Uint8Array): string => bytesToHex(schnorr.getPublicKey(otherKey(sk)))

function applyFrameFaults(reports: Uint8Array[], faults: Set<Fault>, channel: number, size: number): Uint8Array[] {
  if (![...faults].some((f) => FRAME_FAULTS.has(f))) return reports
  let out: Uint8Array[] = reports.map((r) => Uint8Array.from(r))
  const first = out[0] as Uint8Array
  if (faults.has('truncated-length')) {
    const len = ((first[5] ?? 0) << 8) | (first[6] ?? 0)
    const short = Math.max(0, len - 10)
    first[5] = short >> 8
    first[6] = short & 0xff
  }
  if (faults.has('oversize-length')) {
    first[5] = 0xff
    first[6] = 0xff
  }
  if (faults.has('wrong-tag')) first[2] = 0x42
  if (faults.has('wrong-channel'))
    for (const r of out) {
      r[0] = (r[0] ?? 0) ^ 0x55
      r[1] = (r[1] ?? 0) ^ 0xaa
    }
  if (faults.has('sequence-gap') && out.length > 1) {
    const r = out[1] as Uint8Array
    r[4] = 2
  }
  if (faults.has('drop-report')) out.splice(out.length > 1 ? 1 : 0, 1)
  if (faults.has('duplicate-report') && out.length > 1) out.splice(1, 0, Uint8Array.from(out[1] as Uint8Array))
  if (faults.has('foreign-channel-interleave')) {
    const foreign = (channel ^ 0x1357) & 0xffff
    const mixed: Uint8Array[] = []
    for (const r of out) {
      const f = Uint8Array.from(r)
      f[0] = foreign >> 8
      f[1] = foreign & 0xff
      f.fill(0xee, 7)
      mixed.push(f, r)
    }
    out = mixed
  }
  void size
  return out
}
