// NSHP/1 public types (docs/signer-protocol.md): the report transport every device path implements, the command
// and status numbers, the typed errors the host client throws, the `SignerClient` API, and the control API of the
// device emulator. Pure (no Node, no DOM): the renderer may import the display types (ReviewScreen, DeviceStatus)
// to mirror the device's screen in the confirm dialog.
import type { EventTemplate, NostrEvent } from '../nostr/event'
import type { Signer } from '../signer'

// ---------------------------------------------------------------------------------------------------------------
// Layer 2: envelope numbers
// ---------------------------------------------------------------------------------------------------------------

export const NSHP_VERSION = 1

export const Command = {
  GET_INFO: 0x01,
  GET_PUBLIC_KEY: 0x02,
  SIGN_EVENT: 0x10,
  SIGN_DELEGATION: 0x11,
  NIP44_ENCRYPT: 0x20,
  NIP44_DECRYPT: 0x21,
  PING: 0x30,
} as const
export type CommandName = keyof typeof Command
export type CommandCode = (typeof Command)[CommandName]

export const Status = {
  OK: 0,
  USER_REJECTED: 1,
  DEVICE_TIMEOUT: 2,
  LOCKED: 3,
  BAD_REQUEST: 4,
  UNSUPPORTED_COMMAND: 5,
  POLICY_DENIED: 6,
  TOO_LARGE: 7,
  BUSY: 8,
  CANCELLED: 9,
  WRONG_STATE: 10,
  INTERNAL: 255,
} as const
export type StatusName = keyof typeof Status
export type StatusCode = (typeof Status)[StatusName]

/** Keepalive codes carried by STATUS frames (tag 0x06) while a request is pending. */
export const Keepalive = {
  PROCESSING: 1,
  WAITING_FOR_USER: 2,
  LOCKED: 3,
  REVIEWING: 4,
} as const

/**
 * What the host knows about a pending request, from STATUS frames (pushed to the confirm dialog). During a review
 * `onStatus` also gets the page on screen (1-based) and the page count.
 */
export type DeviceStatus = 'processing' | 'waiting-for-user' | 'locked' | 'reviewing'

// ---------------------------------------------------------------------------------------------------------------
// Transport: raw fixed-size reports. node-hid, the in-process emulator and the TCP emulator all implement it.
// ---------------------------------------------------------------------------------------------------------------

export type TransportKind = 'hid' | 'emulator-inproc' | 'emulator-tcp'

export interface ReportTransport {
  readonly kind: TransportKind
  /** Report size R in bytes (without any OS report-id byte). */
  readonly reportBytes: number
  /** Sends one report of exactly `reportBytes` bytes. Rejects with SignerError('unplugged') once closed. */
  send(report: Uint8Array): Promise<void>
  /** Subscribes to incoming reports; returns the unsubscribe function. */
  onReport(listener: (report: Uint8Array) => void): () => void
  /** Called once when the device goes away (unplug, socket close, I/O error) or close() is called. */
  onClose(listener: (reason: string) => void): () => void
  readonly closed: boolean
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------------------------------
// Typed errors
// ---------------------------------------------------------------------------------------------------------------

export type SignerErrorCode =
  /** The device went away while the request was pending (or before it was sent). Nothing was signed. */
  | 'unplugged'
  /** The operator pressed reject on the device. */
  | 'user-rejected'
  /** The device gave up waiting for the operator (its own review timeout). */
  | 'device-timeout'
  /** The device is locked; the operator must enter the PIN on the device. */
  | 'locked'
  /** The device is busy with another request. */
  | 'busy'
  /** The host gave up: no frame within the inactivity timeout, or the absolute cap passed (see `phase`). */
  | 'timeout'
  /** The request was cancelled (host cancel, acknowledged by the device, or aborted before an answer). */
  | 'cancelled'
  /** The device refused under its own policy (delegation window too long, no kind restriction, …). */
  | 'policy-denied'
  /** The device found the request malformed. */
  | 'bad-request'
  | 'unsupported-command'
  | 'too-large'
  | 'wrong-state'
  | 'internal'
  /** Framing/envelope broken: garbage, out-of-order frames, wrong request id, undecodable body. */
  | 'protocol-error'
  /** The device answered with a pubkey different from the pinned one. */
  | 'wrong-key'
  /** A returned signature, event id or token does not verify against the pinned key. Nothing may be published. */
  | 'verification-failed'
  /** A signing command was called before a pubkey was pinned. */
  | 'not-pinned'

/** Where a host timeout struck. */
export type TimeoutPhase = 'inactivity' | 'absolute'

export class SignerError extends Error {
  override readonly name = 'SignerError'
  constructor(
    readonly code: SignerErrorCode,
    message: string,
    readonly detail: { phase?: TimeoutPhase; status?: number; command?: CommandName } = {},
  ) {
    super(message)
  }
  /** True for every outcome where the device produced no usable signature (all of them: we throw instead). */
  get nothingSigned(): boolean {
    return true
  }
}

// ---------------------------------------------------------------------------------------------------------------
// GET_INFO
// ---------------------------------------------------------------------------------------------------------------

export interface DeviceInfo {
  protocolVersion: number
  firmwareVersion: string
  model: string
  serial: string
  /** Names of the supported commands, from the capabilities bitmap. */
  commands: CommandName[]
  reportBytes: number
  maxMessageBytes: number
  locked: boolean
  /** True for an emulator or any device holding a demo/test key (the app shows its DEMO banner). */
  demo: boolean
}

// ---------------------------------------------------------------------------------------------------------------
// What the device shows: one model for the device screen, the emulator's /screen and the host's confirm dialog.
// ---------------------------------------------------------------------------------------------------------------

export interface ReviewLine {
  label: string
  value: string
  /** Draw as a warning (e.g. ALL KINDS). */
  warn?: boolean
}

export interface ReviewPage {
  title: string
  lines: ReviewLine[]
}

/** The full review of one request: pages in order; the last page carries the compare code and approve/reject. */
export interface ReviewScreen {
  command: CommandName
  pages: ReviewPage[]
  /** 6-character compare code (SIGN_EVENT: from the event id; SIGN_DELEGATION: from the delegation hash). */
  compareCode?: string
}

export type DeviceState = 'idle' | 'locked' | 'reviewing' | 'busy' | 'wiped' | 'unplugged'

/** What the emulator reports on its control API. */
export interface ScreenSnapshot {
  state: DeviceState
  /** The review in progress, with the page the operator is on. */
  review: (ReviewScreen & { page: number }) | null
  /** Idle/locked screen text (e.g. "Enter PIN", "Ready"). */
  text: string
  pinAttemptsLeft: number
  /** Requests answered so far (lets tests wait for "the device has answered N"). */
  answered: number
}

// ---------------------------------------------------------------------------------------------------------------
// SignerClient (host)
// ---------------------------------------------------------------------------------------------------------------

export interface SignerTimeouts {
  /** Max gap between frames from the device while a request is pending (default 3000 ms). */
  inactivityMs: number
  /** Absolute cap for commands without an on-device review (GET_INFO, PING, silent GET_PUBLIC_KEY; default 10 s). */
  commandMs: number
  /** Absolute cap for commands with a review (device review timeout 60 s + 10 s; default 70 s). */
  reviewMs: number
}

export const DEFAULT_TIMEOUTS: SignerTimeouts = { inactivityMs: 3000, commandMs: 10_000, reviewMs: 70_000 }

export interface RequestOptions {
  /** Live keepalive status (for the confirm dialog). */
  onStatus?: (status: DeviceStatus, review?: { page: number; pages: number }) => void
  /**
   * Aborting sends CANCEL; the request then ends with SignerError('cancelled'), even if the operator approved on the
   * device at the same moment (the signature is then discarded: cancel in the app means nothing is published).
   */
  signal?: AbortSignal
  account?: number
}

export interface SignerClientOptions {
  transport: ReportTransport
  /** The pinned operator pubkey (x-only hex). Required before any signing command. */
  pinnedPubkey?: string
  timeouts?: Partial<SignerTimeouts>
  /** Channel id; random by default. */
  channel?: number
}

export interface SignEventOptions extends RequestOptions {
  /** Shown on the device ("Requested by"), e.g. the NIP-46 client's name. */
  clientLabel?: string
}

/** The host side of NSHP/1 (implemented in src-shared/nshp/client.ts). */
export interface SignerClientApi {
  readonly transport: ReportTransport
  readonly pinnedPubkey: string | null
  pin(pubkey: string | null): void
  getInfo(opts?: RequestOptions): Promise<DeviceInfo>
  /** With display: the device shows the npub and asks "Matches your app?" (pairing). Checked against the pin. */
  getPublicKey(opts?: RequestOptions & { display?: boolean }): Promise<string>
  /** Verified: id recomputed from the template and pinned key, signature checked under the pinned key. */
  signEvent(template: EventTemplate, opts?: SignEventOptions): Promise<NostrEvent>
  /** Returns the NIP-26 token, verified under the pinned key. */
  signDelegation(req: { delegateePubkey: string; conditions: string }, opts?: RequestOptions): Promise<string>
  nip44Encrypt(peerPubkey: string, plaintext: string, opts?: RequestOptions): Promise<string>
  nip44Decrypt(peerPubkey: string, payload: string, opts?: RequestOptions): Promise<string>
  ping(data: Uint8Array, opts?: RequestOptions): Promise<Uint8Array>
  /** Sends CANCEL for the pending request (no-op when none). */
  cancel(): Promise<void>
  /** True while a request is outstanding (one per channel). */
  readonly busy: boolean
  /** The `Signer` the services use; each call goes to the device (clientLabel is shown for SIGN_EVENT). */
  asSigner(opts?: SignEventOptions): Signer
  /** Fires once when the transport closes (unplug). */
  onClose(listener: (reason: string) => void): () => void
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------------------------------
// Emulator control (in-process object and, as JSON over HTTP, the `satmachine signer-emu` control port)
// ---------------------------------------------------------------------------------------------------------------

export type Button = 'next' | 'prev' | 'approve' | 'reject'

/**
 * One-shot faults, applied to the next request (or its answer). docs/signer-protocol.md lists them; each has a
 * test ending in the right typed SignerError.
 */
export type Fault =
  | 'drop-report' // the device drops one report of its answer (host sees a gap → protocol-error or timeout)
  | 'duplicate-report' // one answer report is sent twice
  | 'sequence-gap' // a continuation report's sequence is skipped
  | 'wrong-channel' // the answer comes on another channel (host ignores it → inactivity timeout)
  | 'foreign-channel-interleave' // foreign-channel frames interleaved with a good answer (must still succeed)
  | 'wrong-tag' // the answer's first report has an unknown tag
  | 'truncated-length' // frame 0 declares fewer bytes than the body (envelope undecodable)
  | 'oversize-length' // frame 0 declares more than max_msg
  | 'garbage' // random bytes instead of the answer
  | 'no-status' // no keepalive during the review (host inactivity timeout)
  | 'stall' // no answer at all after the request
  | 'unplug-mid-request' // the device goes away while receiving the request
  | 'unplug-mid-response' // the device goes away halfway through its answer
  | 'different-pubkey' // GET_PUBLIC_KEY/SIGN_EVENT answers with another key
  | 'corrupt-signature' // one bit of the signature flipped
  | 'wrong-event-id' // the returned id is not the id of the shown fields
  | 'answer-locked' // answers LOCKED
  | 'answer-busy' // answers BUSY
  | 'wrong-request-id' // echoes another request id

export interface EmulatorConfig {
  /** Approve every review as soon as it is shown (demo convenience; off by default). */
  autoApprove: boolean
  /** With autoApprove: how long the simulated operator takes to approve (slow-operator tests; default 0). */
  autoApproveAfterMs: number
  /** Device-side review timeout (default 60 s); the device answers DEVICE_TIMEOUT. */
  reviewTimeoutMs: number
  /** Keepalive period while a request is pending (default 500 ms). */
  keepaliveMs: number
  /** Delay before each answer report (slow device; default 0). */
  reportDelayMs: number
  /** Extra delay before the device answers a command without review (slow device; default 0). */
  processingDelayMs: number
}

export interface EmulatorControlApi {
  screen(): ScreenSnapshot
  press(button: Button): void
  /** Enters the PIN on the device (the host never sends a PIN over USB; this is the emulator's keypad). */
  enterPin(digits: string): boolean
  /** Locks the device (as on idle/unplug). */
  lock(): void
  unplug(): void
  replug(): void
  configure(config: Partial<EmulatorConfig>): EmulatorConfig
  /** Queues a one-shot fault for the next request. */
  fault(fault: Fault): void
  /** Resolves when the device state is `state` (or a review is on screen, for 'reviewing'); rejects after timeoutMs. */
  waitFor(state: DeviceState, timeoutMs?: number): Promise<ScreenSnapshot>
}

/** How a device core is created (emulators only; src-shared/nshp/device-core.ts). */
export interface DeviceCoreOptions {
  /** Must be 'demo' or 'test': the core refuses to hold a key in any other mode. */
  mode: 'demo' | 'test'
  /** 32-byte secret key (test fixture or generated for the demo). */
  secretKey: Uint8Array
  serial?: string
  /** PIN the operator enters on the device keypad; absent = no PIN, never locked. */
  pin?: string
  /** Start locked (needs `pin`). */
  locked?: boolean
  reportBytes?: number
  maxMessageBytes?: number
  config?: Partial<EmulatorConfig>
  /**
   * BIP-340 auxiliary randomness. Default: 32 fresh random bytes per signature, as a real device must. The
   * conformance vectors pass 32 zero bytes to get byte-exact signatures.
   */
  auxRand?: () => Uint8Array
}

/*
 * Where things live (stable names for the host integration):
 *   src-shared/nshp/client.ts         createSignerClient(opts: SignerClientOptions): SignerClientApi
 *   src-shared/nshp/expected-review.ts  expectedReview(req, pinnedPubkey) → {ok, review} | {ok: false, status, reason}:
 *                                     the confirm dialog's pages, computed on the host before sending
 *   src-shared/nshp/review.ts         reviewSignEvent / reviewDelegation / reviewPublicKey / reviewNip44Encrypt / reviewNip44Decrypt → ReviewScreen,
 *                                     compareCode(hex) — the same functions the device core uses, so the host's
 *                                     confirm dialog shows exactly what the device shows
 *   src-shared/nshp/device-core.ts    DeviceCore (pure), createDeviceCore(opts: DeviceCoreOptions)
 *   src-main/signer/device/inproc.ts  createInProcessEmulator(opts) → { transport(): ReportTransport, control, core, pubkey }
 *   src-main/signer/device/tcp.ts     connectTcpEmulator({ host, port, reportBytes?, connectTimeoutMs? }): Promise<ReportTransport>
 *   src-main/signer/device/emu-server.ts  startSignerEmulator(opts) → { dataPort, controlPort, core (the control API), close() }
 *   src-main/signer/device/control-client.ts  httpEmulatorControl(controlPort) / localEmulatorControl(core) → EmulatorRemote (async)
 *   src-main/signer/device/hid.ts     listHidSigners(): Promise<HidSignerInfo[]>, openHidSigner(path): Promise<ReportTransport>
 *                                     (node-hid loaded lazily, main process only)
 *   satmachine signer-emu             the emulator process (--help lists options)
 *
 * The control port of `satmachine signer-emu` (HTTP + JSON on 127.0.0.1):
 *   GET  /screen[?wait=STATE&timeout=MS]   ScreenSnapshot (long-polls until the state when `wait` is given)
 *   POST /button   {"button":"approve"|"reject"|"next"|"prev"}
 *   POST /pin      {"digits":"1234"}                → {"ok":bool, "screen":ScreenSnapshot}
 *   POST /lock
 *   POST /unplug, POST /replug
 *   POST /config   Partial<EmulatorConfig>          → EmulatorConfig
 *   POST /fault    {"fault": Fault}
 * Errors: 400 {"error":"<field>: <reason>"}.
 */
