// NSHP/1 host client (docs/signer-protocol.md): typed commands over any ReportTransport, one request at a time per
// channel, per-phase timeouts (inactivity between frames, absolute cap), CANCEL, device statuses mapped to typed
// SignerErrors, and verification of everything the device returns against the pinned operator key: the event id
// is recomputed on the host from the template, every signature is checked, a different pubkey is refused. Pure
// (timers only), so the main process, a utility process or a test can run it.
import { schnorr } from '@noble/curves/secp256k1.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { computeEventId, type EventTemplate, isHex64, type NostrEvent, schnorrVerifyHex } from '../nostr/event'
import { verifyDelegationToken } from '../nostr/nip26'
import { Assembler, cancelReport, FrameError, frameMessage } from '../nshp-frame'
import type { Signer } from '../signer'
import { CborError } from './cbor'
import {
  commandsOf,
  type DecodedResponse,
  decodeResponse,
  encodeRequest,
  MessageError,
  type Request,
  type ResponseBody,
} from './messages'
import {
  DEFAULT_TIMEOUTS,
  type DeviceInfo,
  type DeviceStatus,
  Keepalive,
  type ReportTransport,
  type RequestOptions,
  type SignEventOptions,
  type SignerClientApi,
  type SignerClientOptions,
  SignerError,
  type SignerErrorCode,
  type SignerTimeouts,
  Status,
  type TimeoutPhase,
} from './types'

/** Default max message size until GET_INFO says otherwise. */
const DEFAULT_MAX_MSG = 16_384

const STATUS_ERRORS: Record<number, [SignerErrorCode, string]> = {
  [Status.USER_REJECTED]: ['user-rejected', 'You rejected this on the signer.'],
  [Status.DEVICE_TIMEOUT]: ['device-timeout', 'No confirmation on the signer in time.'],
  [Status.LOCKED]: ['locked', 'The signer is locked: unlock it with its PIN on the device.'],
  [Status.BAD_REQUEST]: ['bad-request', 'The signer refused the request as malformed.'],
  [Status.UNSUPPORTED_COMMAND]: ['unsupported-command', 'The signer does not support this command.'],
  [Status.POLICY_DENIED]: ['policy-denied', "The signer's policy refuses this request."],
  [Status.TOO_LARGE]: ['too-large', 'The request is too large for the signer.'],
  [Status.BUSY]: ['busy', 'The signer is busy with another request.'],
  [Status.CANCELLED]: ['cancelled', 'The request was cancelled.'],
  [Status.WRONG_STATE]: ['wrong-state', 'The signer is not ready for this (no key set up?).'],
  [Status.INTERNAL]: ['internal', 'The signer reported an internal error.'],
}

const KEEPALIVE: Record<number, DeviceStatus> = {
  [Keepalive.PROCESSING]: 'processing',
  [Keepalive.WAITING_FOR_USER]: 'waiting-for-user',
  [Keepalive.LOCKED]: 'locked',
  [Keepalive.REVIEWING]: 'reviewing',
}

const NOTHING_SIGNED = 'nothing was signed'

export function createSignerClient(opts: SignerClientOptions): SignerClient {
  return new SignerClient(opts)
}

export class SignerClient implements SignerClientApi {
  readonly transport: ReportTransport
  private pinned: string | null = null
  private readonly timeouts: SignerTimeouts
  private readonly channel: number
  private nextId = 1
  private maxMessage = DEFAULT_MAX_MSG
  private queue: Promise<unknown> = Promise.resolve()
  private current: { cancel: () => void } | null = null
  private readonly closeListeners = new Set<(reason: string) => void>()
  private closeReason: string | null = null
  /** Request ids given up on (timeout, cancel): a late answer to one of them is ignored, not an error. */
  private readonly abandoned = new Set<number>()

  constructor(opts: SignerClientOptions) {
    this.transport = opts.transport
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts }
    const r = randomBytes(2)
    this.channel = opts.channel ?? ((r[0] ?? 0) << 8) | (r[1] ?? 0)
    if (opts.pinnedPubkey !== undefined) this.pin(opts.pinnedPubkey)
    if (this.transport.closed) this.closeReason = 'the signer is not connected'
    this.transport.onClose((reason) => {
      this.closeReason = reason
      for (const l of [...this.closeListeners]) l(reason)
    })
  }

  get pinnedPubkey(): string | null {
    return this.pinned
  }

  get busy(): boolean {
    return this.current !== null
  }

  pin(pubkey: string | null): void {
    if (pubkey !== null && !isHex64(pubkey))
      throw new SignerError('bad-request', 'pinnedPubkey: must be 64 lowercase hex')
    this.pinned = pubkey
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener)
    return () => this.closeListeners.delete(listener)
  }

  async close(): Promise<void> {
    await this.transport.close()
  }

  async cancel(): Promise<void> {
    this.current?.cancel()
  }

  // ---- commands ----

  async getInfo(opts: RequestOptions = {}): Promise<DeviceInfo> {
    const b = await this.call({ command: 'GET_INFO' }, false, opts)
    if (b.command !== 'GET_INFO') throw this.protocol('GET_INFO', 'answer of the wrong command')
    const i = b.info
    if (i.reportBytes !== this.transport.reportBytes)
      throw this.protocol(
        'GET_INFO',
        `device reports ${i.reportBytes}-byte reports, transport uses ${this.transport.reportBytes}`,
      )
    this.maxMessage = Math.min(i.maxMessageBytes, 0xffff)
    return {
      protocolVersion: i.protocolVersion,
      firmwareVersion: i.firmwareVersion,
      model: i.model,
      serial: i.serial,
      commands: commandsOf(i.capabilities),
      reportBytes: i.reportBytes,
      maxMessageBytes: i.maxMessageBytes,
      locked: i.locked,
      demo: i.demo,
    }
  }

  async getPublicKey(opts: RequestOptions & { display?: boolean } = {}): Promise<string> {
    const display = opts.display === true
    const b = await this.call({ command: 'GET_PUBLIC_KEY', account: opts.account ?? 0, display }, display, opts)
    if (b.command !== 'GET_PUBLIC_KEY') throw this.protocol('GET_PUBLIC_KEY', 'answer of the wrong command')
    if (!isValidXOnly(b.pubkey))
      throw new SignerError('verification-failed', 'The signer returned an invalid public key.')
    if (this.pinned !== null && b.pubkey !== this.pinned)
      throw new SignerError('wrong-key', 'This signer holds a different key than the pinned one.', {
        command: 'GET_PUBLIC_KEY',
      })
    return b.pubkey
  }

  async signEvent(template: EventTemplate, opts: SignEventOptions = {}): Promise<NostrEvent> {
    const pinned = this.requirePin('SIGN_EVENT')
    const req: Request = {
      command: 'SIGN_EVENT',
      account: opts.account ?? 0,
      createdAt: template.created_at,
      kind: template.kind,
      tags: template.tags,
      content: template.content,
      ...(opts.clientLabel === undefined ? {} : { clientLabel: opts.clientLabel }),
    }
    const b = await this.call(req, true, opts)
    if (b.command !== 'SIGN_EVENT') throw this.protocol('SIGN_EVENT', 'answer of the wrong command')
    if (b.pubkey !== pinned)
      throw new SignerError(
        'wrong-key',
        `This signer holds a different key than the pinned one; ${NOTHING_SIGNED} for publishing.`,
        {
          command: 'SIGN_EVENT',
        },
      )
    const expectedId = computeEventId({ ...template, pubkey: pinned })
    if (b.id !== expectedId)
      throw new SignerError(
        'verification-failed',
        'The signer returned an event id that does not match the request; it is discarded.',
        {
          command: 'SIGN_EVENT',
        },
      )
    if (!schnorrVerifyHex(b.sig, expectedId, pinned))
      throw new SignerError(
        'verification-failed',
        'The signer returned a signature that does not verify; it is discarded.',
        {
          command: 'SIGN_EVENT',
        },
      )
    return {
      id: expectedId,
      pubkey: pinned,
      created_at: template.created_at,
      kind: template.kind,
      tags: template.tags.map((t) => [...t]),
      content: template.content,
      sig: b.sig,
    }
  }

  async signDelegation(
    req: { delegateePubkey: string; conditions: string },
    opts: RequestOptions = {},
  ): Promise<string> {
    const pinned = this.requirePin('SIGN_DELEGATION')
    const b = await this.call(
      {
        command: 'SIGN_DELEGATION',
        account: opts.account ?? 0,
        delegatee: req.delegateePubkey,
        conditions: req.conditions,
      },
      true,
      opts,
    )
    if (b.command !== 'SIGN_DELEGATION') throw this.protocol('SIGN_DELEGATION', 'answer of the wrong command')
    if (!verifyDelegationToken(pinned, req.delegateePubkey, req.conditions, b.sig))
      throw new SignerError(
        'verification-failed',
        'The signer returned a delegation token that does not verify under the pinned key; it is discarded.',
        {
          command: 'SIGN_DELEGATION',
        },
      )
    return b.sig
  }

  async nip44Encrypt(peerPubkey: string, plaintext: string, opts: RequestOptions = {}): Promise<string> {
    this.requirePin('NIP44_ENCRYPT')
    const b = await this.call(
      { command: 'NIP44_ENCRYPT', account: opts.account ?? 0, peer: peerPubkey, plaintext },
      true,
      opts,
    )
    if (b.command !== 'NIP44_ENCRYPT') throw this.protocol('NIP44_ENCRYPT', 'answer of the wrong command')
    if (!looksLikeNip44v2(b.payload))
      throw new SignerError('verification-failed', 'The signer returned something that is not a NIP-44 v2 payload.', {
        command: 'NIP44_ENCRYPT',
      })
    return b.payload
  }

  async nip44Decrypt(peerPubkey: string, payload: string, opts: RequestOptions = {}): Promise<string> {
    this.requirePin('NIP44_DECRYPT')
    const b = await this.call(
      { command: 'NIP44_DECRYPT', account: opts.account ?? 0, peer: peerPubkey, payload },
      true,
      opts,
    )
    if (b.command !== 'NIP44_DECRYPT') throw this.protocol('NIP44_DECRYPT', 'answer of the wrong command')
    return b.plaintext
  }

  async ping(data: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    const b = await this.call({ command: 'PING', data }, false, opts)
    if (b.command !== 'PING') throw this.protocol('PING', 'answer of the wrong command')
    if (b.data.length !== data.length || b.data.some((x, i) => x !== data[i]))
      throw this.protocol('PING', 'echo differs')
    return b.data
  }

  asSigner(opts: SignEventOptions = {}): Signer {
    const { clientLabel: _label, ...plain } = opts
    return {
      getPublicKey: async () => this.pinned ?? this.getPublicKey(plain),
      signEvent: (t) => this.signEvent(t, opts),
      signDelegation: (r) => this.signDelegation(r, plain),
      nip44Encrypt: (p, x) => this.nip44Encrypt(p, x, plain),
      nip44Decrypt: (p, x) => this.nip44Decrypt(p, x, plain),
    }
  }

  // ---- exchange ----

  private requirePin(command: Request['command']): string {
    if (this.pinned === null)
      throw new SignerError('not-pinned', 'No signer key is pinned yet: pair the signer first.', { command })
    return this.pinned
  }

  private protocol(command: Request['command'], why: string): SignerError {
    return new SignerError('protocol-error', `The signer broke the protocol (${why}); ${NOTHING_SIGNED}.`, { command })
  }

  /** Serialised: one request outstanding per channel. */
  private call(req: Request, review: boolean, opts: RequestOptions): Promise<ResponseBody> {
    const run = () => this.exchange(req, review, opts)
    const p = this.queue.then(run, run)
    this.queue = p.catch(() => undefined)
    return p
  }

  private async exchange(req: Request, review: boolean, opts: RequestOptions): Promise<ResponseBody> {
    const command = req.command
    if (this.closeReason !== null || this.transport.closed)
      throw new SignerError('unplugged', `The signer is not connected; ${NOTHING_SIGNED}.`, { command })
    if (opts.signal?.aborted) throw new SignerError('cancelled', `Cancelled; ${NOTHING_SIGNED}.`, { command })
    const requestId = this.nextId
    this.nextId = (this.nextId + 1) & 0xffff || 1
    let reports: Uint8Array[]
    try {
      const msg = encodeRequest(requestId, req)
      if (msg.length > this.maxMessage)
        throw new SignerError(
          'too-large',
          `The request is ${msg.length} bytes, above the signer's ${this.maxMessage}.`,
          { command },
        )
      reports = frameMessage(this.channel, msg, this.transport.reportBytes)
    } catch (e) {
      if (e instanceof SignerError) throw e
      if (e instanceof MessageError || e instanceof CborError || e instanceof FrameError)
        throw new SignerError('bad-request', `The request cannot be encoded: ${e.message}`, { command })
      throw e
    }
    const assembler = new Assembler(this.channel, this.transport.reportBytes, this.maxMessage)
    return new Promise<ResponseBody>((resolve, reject) => {
      let settled = false
      let cancelled = false
      let answerStarted = false
      let inactivity: ReturnType<typeof setTimeout> | undefined
      const cleanups: (() => void)[] = []
      const done = (err: SignerError | null, body?: ResponseBody) => {
        if (settled) return
        settled = true
        clearTimeout(inactivity)
        for (const c of cleanups) c()
        this.current = null
        if (err) reject(err)
        else resolve(body as ResponseBody)
      }
      const giveUp = (err: SignerError) => {
        // The device may still show the prompt: tell it to drop it, and ignore its late answer.
        this.abandoned.add(requestId)
        if (this.abandoned.size > 64) this.abandoned.delete(this.abandoned.values().next().value as number)
        if (!this.transport.closed)
          this.transport.send(cancelReport(this.channel, this.transport.reportBytes)).catch(() => undefined)
        done(err)
      }
      const timeout = (phase: TimeoutPhase) =>
        giveUp(
          new SignerError(
            'timeout',
            phase === 'inactivity'
              ? `The signer stopped responding; ${NOTHING_SIGNED}.`
              : `The signer took too long; ${NOTHING_SIGNED}.`,
            { phase, command },
          ),
        )
      const armInactivity = () => {
        clearTimeout(inactivity)
        inactivity = setTimeout(
          () => (cancelled ? done(cancelledError()) : timeout('inactivity')),
          this.timeouts.inactivityMs,
        )
      }
      const cancelledError = () => new SignerError('cancelled', `Cancelled; ${NOTHING_SIGNED}.`, { command })
      const absolute = setTimeout(() => timeout('absolute'), review ? this.timeouts.reviewMs : this.timeouts.commandMs)
      cleanups.push(() => clearTimeout(absolute))
      const cancel = () => {
        if (settled || cancelled) return
        cancelled = true
        this.transport.send(cancelReport(this.channel, this.transport.reportBytes)).catch(() => undefined)
        // Wait for the device's answer (CANCELLED, or a racing approval that is then discarded) so the channel is
        // free for the next request; the inactivity timer bounds the wait.
        armInactivity()
      }
      this.current = { cancel }
      if (opts.signal) {
        const onAbort = () => cancel()
        opts.signal.addEventListener('abort', onAbort)
        cleanups.push(() => opts.signal?.removeEventListener('abort', onAbort))
      }
      cleanups.push(
        this.transport.onClose(() =>
          done(new SignerError('unplugged', `Signer disconnected; ${NOTHING_SIGNED}.`, { command })),
        ),
      )
      cleanups.push(
        this.transport.onReport((report) => {
          if (settled) return
          // Continuation frames before this answer's first frame are leftovers of an answer given up on (a protocol
          // error or timeout mid-answer): skip them rather than fail the new request.
          const onOurChannel = report.length >= 5 && (((report[0] ?? 0) << 8) | (report[1] ?? 0)) === this.channel
          if (onOurChannel && report[2] === 0x05) {
            const seq = ((report[3] ?? 0) << 8) | (report[4] ?? 0)
            if (seq === 0) answerStarted = true
            else if (!answerStarted) return
          }
          let ev: ReturnType<Assembler['push']>
          try {
            ev = assembler.push(report)
          } catch (e) {
            if (e instanceof FrameError) return giveUp(this.protocol(command, `${e.code}: ${e.message}`))
            throw e
          }
          if (ev.kind === 'ignored') return
          armInactivity()
          if (ev.kind === 'status') {
            const s = KEEPALIVE[ev.status]
            // Bytes 6 and 7: the review page on screen (1-based) and the page count, 0 when no review is shown.
            const page = report[6] ?? 0
            const pages = report[7] ?? 0
            if (s) opts.onStatus?.(s, page > 0 && pages >= page ? { page, pages } : undefined)
            return
          }
          if (ev.kind !== 'message') return
          let answer: DecodedResponse
          try {
            answer = decodeResponse(ev.message, command)
          } catch (e) {
            if (e instanceof MessageError) return giveUp(this.protocol(command, e.message))
            throw e
          }
          if (answer.requestId !== requestId) {
            if (this.abandoned.delete(answer.requestId)) return // a late answer to a request we gave up on
            return giveUp(this.protocol(command, `answer to request ${answer.requestId}, expected ${requestId}`))
          }
          if (cancelled) return done(cancelledError())
          if (answer.status === Status.OK) return done(null, answer.body)
          const [code, text] = STATUS_ERRORS[answer.status] ?? ['internal', 'Unknown status.']
          const why = answer.reason ? ` (${answer.reason})` : ''
          return done(new SignerError(code, `${text}${why} Nothing was signed.`, { status: answer.status, command }))
        }),
      )
      armInactivity()
      void (async () => {
        try {
          for (const r of reports) {
            if (settled) return
            await this.transport.send(r)
          }
          // The device owes a frame from its receipt of the last report on, not from the first one we wrote.
          if (!settled && !cancelled) armInactivity()
        } catch {
          done(new SignerError('unplugged', `Signer disconnected; ${NOTHING_SIGNED}.`, { command }))
        }
      })()
    })
  }
}

function isValidXOnly(hex: string): boolean {
  if (!isHex64(hex)) return false
  try {
    schnorr.utils.lift_x(BigInt(`0x${hex}`))
    return true
  } catch {
    return false
  }
}

/** A NIP-44 v2 payload: base64 of version 2 ‖ nonce 32 ‖ ciphertext ≥ 32 ‖ mac 32. */
function looksLikeNip44v2(payload: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(payload) || payload.length < 132 || payload.length % 4 !== 0) return false
  const first = atob(payload.slice(0, 4)).charCodeAt(0)
  return first === 2
}
