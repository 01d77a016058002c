// The remote-bunker operator signer (docs/nip46-bunker.md): for operators without the USB device, the operator key
// lives in a NIP-46 bunker on their phone (Amber, nsec.app, …). The console is the NIP-46 CLIENT: it connects with
// a pasted `bunker://` URI or shows a `nostrconnect://` URI for the phone to scan, then sends every operation as a
// kind 24133 request and waits for the phone's answer.
//
// Trust: the phone is a signer we do not control, so every answer is checked before use: get_public_key must be
// the pinned operator key, a signed event must verify and carry exactly the requested fields by that key
// (signEventChecked), a NIP-44 payload must be version 2. A request not answered within `timeoutMs` ends as
// `timeout` (a late answer is logged and dropped, never used). Each request pushes a SignerActivity so the confirm
// dialog can say "approve on your phone". NIP-46 has no delegation method, so signDelegation is refused with a
// clear error (pairing an ATM needs the hardware signer).
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import type { Clock } from '../../src-shared/clock'
import { systemClock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import {
  type EventTemplate,
  isHex64,
  type NostrEvent,
  publicKeyHex,
  signTemplateWithKey,
} from '../../src-shared/nostr/event'
import {
  buildNostrConnectUri,
  NOSTR_CONNECT_KIND,
  parseBunkerUri,
  parseResponse,
  type RemoteBunkerStateName,
} from '../../src-shared/nostr/nip46'
import type { SignDelegationRequest, Signer } from '../../src-shared/signer'
import { SignerOutputError, signEventChecked } from '../../src-shared/signer'
import type { SignerActivity } from '../../src-shared/signer-activity'
import type { OperatorSignerProvider } from '../fleet/operator-signer'
import { checkNip44Payload } from './bunker'
import type { Nip46Subscription, Nip46Transport } from './transport'

export class RemoteBunkerError extends Error {
  constructor(
    readonly code: 'timeout' | 'refused' | 'not_connected' | 'wrong_key' | 'unsupported' | 'cancelled',
    message: string,
  ) {
    super(message)
    this.name = 'RemoteBunkerError'
  }
}

export type RemoteBunkerState = RemoteBunkerStateName

export interface RemoteBunkerStatus {
  state: RemoteBunkerState
  /** The remote signer's transport pubkey once known. */
  bunkerPubkey: string | null
  /** The operator key the bunker signs with (checked against the pinned one). */
  userPubkey: string | null
  relays: string[]
  /** The nostrconnect:// URI shown while waiting for the phone to scan it. */
  nostrConnectUri: string | null
  detail: string
}

export interface RemoteBunkerOptions {
  transport: Nip46Transport
  /** The pinned operator key; null before pinning (then the bunker's key is reported and the operator pins it). */
  pinnedOperatorPubkey: () => string | null
  log: Logger
  clock?: Clock
  /** Per request. Phones often need the operator to unlock them first, so the default is generous: 120 s. */
  timeoutMs?: number
  /** The client key for the NIP-46 session (persisted by the caller so a restart keeps the authorisation). */
  clientSecretKey?: Uint8Array
  onActivity?: (a: SignerActivity) => void
  onStatus?: (s: RemoteBunkerStatus) => void
}

const PERMS = ['get_public_key', 'sign_event', 'nip44_encrypt', 'nip44_decrypt']

export class RemoteBunkerSigner implements OperatorSignerProvider {
  private readonly sk: Uint8Array
  readonly clientPubkey: string
  private readonly clock: Clock
  /** Per-request answer timeout; may be changed while connected (settings). */
  timeoutMs: number
  private sub: Nip46Subscription | null = null
  private readonly pending = new Map<string, { resolve: (r: string) => void; reject: (e: Error) => void }>()
  private conv: Uint8Array | null = null
  private st: RemoteBunkerStatus = {
    state: 'disconnected',
    bunkerPubkey: null,
    userPubkey: null,
    relays: [],
    nostrConnectUri: null,
    detail: 'no remote bunker connected',
  }
  private readonly signer: Signer

  constructor(private readonly o: RemoteBunkerOptions) {
    this.sk = o.clientSecretKey ? Uint8Array.from(o.clientSecretKey) : randomBytes(32)
    this.clientPubkey = publicKeyHex(this.sk)
    this.clock = o.clock ?? systemClock
    this.timeoutMs = o.timeoutMs ?? 120_000
    this.signer = {
      getPublicKey: async () => this.requireUser(),
      signEvent: (t) => this.signEvent(t),
      signDelegation: (_r: SignDelegationRequest) =>
        Promise.reject(
          new RemoteBunkerError(
            'unsupported',
            'a NIP-46 bunker cannot sign NIP-26 delegations: use the hardware signer',
          ),
        ),
      nip44Encrypt: async (peer, text) => {
        const out = await this.request('nip44_encrypt', [peer, text], [{ label: 'Encrypt to', value: peer }])
        checkNip44Payload(out)
        return out
      },
      nip44Decrypt: (peer, payload) =>
        this.request('nip44_decrypt', [peer, payload], [{ label: 'Decrypt from', value: peer }]),
    }
  }

  // ---- OperatorSignerProvider ----
  current(): Signer | null {
    return this.st.state === 'connected' ? this.signer : null
  }
  pubkey(): string | null {
    return this.st.state === 'connected' ? this.st.userPubkey : null
  }
  describe(): string {
    return this.st.state === 'connected'
      ? `remote NIP-46 bunker (${(this.st.userPubkey ?? '').slice(0, 8)}…): approve each request on your phone`
      : this.st.detail
  }
  status(): RemoteBunkerStatus {
    return { ...this.st, relays: [...this.st.relays] }
  }

  /** Connects with a pasted bunker:// URI; resolves once the bunker acknowledged and its key matches the pin. */
  async connectBunkerUri(uri: string): Promise<RemoteBunkerStatus> {
    const bp = parseBunkerUri(uri)
    this.open(bp.pubkey, bp.relays)
    this.setStatus({ state: 'connecting', detail: 'waiting for the bunker to accept (approve on your phone)' })
    try {
      const ack = await this.request(
        'connect',
        [bp.pubkey, bp.secret ?? '', PERMS.join(',')],
        [{ label: 'Connect', value: 'Satmachine Console' }],
      )
      if (ack !== 'ack' && ack !== bp.secret) throw new RemoteBunkerError('refused', `connect answered "${ack}"`)
      return await this.finishConnect()
    } catch (e) {
      this.fail(e as Error)
      throw e
    }
  }

  /** Shows a nostrconnect:// URI for the phone to scan; `connected` resolves when it has and the key checks. */
  startNostrConnect(
    relays: string[],
    name = 'Satmachine Console',
  ): { uri: string; listening: Promise<void>; connected: Promise<RemoteBunkerStatus> } {
    const secret = bytesToHex(randomBytes(16))
    const uri = buildNostrConnectUri({ clientPubkey: this.clientPubkey, relays, secret, requestedPerms: PERMS, name })
    this.close()
    this.st.relays = [...relays]
    this.setStatus({
      state: 'waiting-for-phone',
      nostrConnectUri: uri,
      bunkerPubkey: null,
      userPubkey: null,
      detail: 'scan the code with your phone signer',
    })
    let listening: Promise<void> = Promise.resolve()
    const connected = new Promise<RemoteBunkerStatus>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.close()
        const e = new RemoteBunkerError('timeout', 'the phone did not answer the nostrconnect:// code in time')
        this.fail(e)
        reject(e)
      }, this.timeoutMs * 3)
      const sub = this.o.transport.subscribe(
        relays,
        { kinds: [NOSTR_CONNECT_KIND], '#p': [this.clientPubkey], since: Math.floor(this.clock.nowMs() / 1000) - 10 },
        (ev) => {
          try {
            const r = parseResponse(nip44.decrypt(ev.content, nip44.getConversationKey(this.sk, ev.pubkey)))
            if (r.result !== secret) return
          } catch {
            return
          }
          clearTimeout(timer)
          sub.close()
          this.open(ev.pubkey, relays)
          this.finishConnect().then(resolve, (e: Error) => {
            this.fail(e)
            reject(e)
          })
        },
      )
      listening = sub.ready
    })
    return { uri, listening, connected }
  }

  /** The operator pressed Cancel: the request ends as cancelled; a later answer from the phone is dropped. */
  cancel(requestId: string): boolean {
    const p = this.pending.get(requestId)
    if (!p) return false
    this.pending.delete(requestId)
    p.reject(new RemoteBunkerError('cancelled', 'cancelled by the operator'))
    return true
  }

  disconnect(): void {
    this.close()
    this.setStatus({
      state: 'disconnected',
      bunkerPubkey: null,
      userPubkey: null,
      nostrConnectUri: null,
      detail: 'no remote bunker connected',
    })
  }

  private async finishConnect(): Promise<RemoteBunkerStatus> {
    const user = await this.request('get_public_key', [], [{ label: 'Share', value: 'public key' }])
    if (!isHex64(user))
      throw new SignerOutputError('the bunker answered get_public_key with something that is not a key')
    const pinned = this.o.pinnedOperatorPubkey()
    if (pinned !== null && user !== pinned)
      throw new RemoteBunkerError(
        'wrong_key',
        'the remote bunker signs with a different key than the pinned operator key',
      )
    this.setStatus({ state: 'connected', userPubkey: user, nostrConnectUri: null, detail: 'connected' })
    this.o.log.info('remote bunker connected', { bunker: (this.st.bunkerPubkey ?? '').slice(0, 12) })
    return this.status()
  }

  private requireUser(): string {
    const u = this.st.userPubkey
    if (this.st.state !== 'connected' || !u) throw new RemoteBunkerError('not_connected', 'no remote bunker connected')
    return u
  }

  private async signEvent(t: EventTemplate): Promise<NostrEvent> {
    const expected = this.o.pinnedOperatorPubkey() ?? this.requireUser()
    const fields = [
      { label: 'Kind', value: String(t.kind) },
      ...t.tags.filter((x) => x[0] === 'd').map((x) => ({ label: 'd tag', value: x[1] ?? '' })),
      { label: 'Content', value: t.content.length > 200 ? `${t.content.slice(0, 200)}…` : t.content },
    ]
    const raw = await this.request('sign_event', [JSON.stringify(t)], fields)
    let ev: NostrEvent
    try {
      ev = JSON.parse(raw) as NostrEvent
    } catch {
      throw new SignerOutputError('the bunker answered sign_event with something that is not JSON')
    }
    // The shared checker: valid id and signature, exactly the requested fields, by the pinned key.
    return signEventChecked({ ...this.signer, signEvent: async () => ev }, t, expected)
  }

  private open(bunkerPubkey: string, relays: string[]): void {
    this.close()
    this.conv = nip44.getConversationKey(this.sk, bunkerPubkey)
    this.st.bunkerPubkey = bunkerPubkey
    this.st.relays = [...relays]
    this.sub = this.o.transport.subscribe(
      relays,
      {
        kinds: [NOSTR_CONNECT_KIND],
        '#p': [this.clientPubkey],
        authors: [bunkerPubkey],
        since: Math.floor(this.clock.nowMs() / 1000) - 10,
      },
      (ev) => this.onResponse(ev),
    )
  }

  private close(): void {
    this.sub?.close()
    this.sub = null
    for (const p of this.pending.values())
      p.reject(new RemoteBunkerError('not_connected', 'the remote bunker was disconnected'))
    this.pending.clear()
  }

  private onResponse(ev: NostrEvent): void {
    if (!this.conv) return
    let r: ReturnType<typeof parseResponse>
    try {
      r = parseResponse(nip44.decrypt(ev.content, this.conv))
    } catch (e) {
      this.o.log.warn('remote bunker: undecodable response dropped', { reason: (e as Error).message })
      return
    }
    const p = this.pending.get(r.id)
    if (!p) {
      this.o.log.warn('remote bunker: answer to no waiting request dropped (late or unknown)', {
        id: r.id.slice(0, 16),
      })
      return
    }
    if (r.result === 'auth_url') {
      this.o.log.info('remote bunker asks the operator to open an authorisation page', {})
      this.setStatus({ detail: `open this page to authorise: ${r.error ?? ''}` })
      return
    }
    this.pending.delete(r.id)
    if (r.error !== undefined) p.reject(new RemoteBunkerError('refused', r.error))
    else p.resolve(r.result ?? '')
  }

  private async request(method: string, params: string[], fields: SignerActivity['fields']): Promise<string> {
    const bunker = this.st.bunkerPubkey
    if (!bunker || !this.conv) throw new RemoteBunkerError('not_connected', 'no remote bunker connected')
    const id = bytesToHex(randomBytes(12))
    const activity = (state: SignerActivity['state'], detail?: string) =>
      this.o.onActivity?.({
        requestId: id,
        what: method,
        fields,
        state,
        via: 'remote-bunker',
        ...(detail ? { detail } : {}),
      })
    const ev = signTemplateWithKey(
      {
        kind: NOSTR_CONNECT_KIND,
        created_at: Math.floor(this.clock.nowMs() / 1000),
        tags: [['p', bunker]],
        content: nip44.encrypt(JSON.stringify({ id, method, params }), this.conv),
      },
      this.sk,
    )
    activity('waiting')
    const answer = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(
          new RemoteBunkerError(
            'timeout',
            `the remote bunker did not answer ${method} within ${Math.round(this.timeoutMs / 1000)} s`,
          ),
        )
      }, this.timeoutMs)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
    })
    // Settled before it is awaited when cancelled or failed during the publish: handled below, not unhandled.
    answer.catch(() => undefined)
    try {
      await this.sub?.ready
      // Cancelled while the subscription was being confirmed: the phone is not asked at all.
      if (this.pending.has(id)) await this.o.transport.publish(this.st.relays, ev)
    } catch (e) {
      this.pending
        .get(id)
        ?.reject(new RemoteBunkerError('not_connected', `no relay accepted the request: ${(e as Error).message}`))
    }
    try {
      const v = await answer
      activity('approved')
      return v
    } catch (e) {
      const err = e as RemoteBunkerError
      activity(err.code === 'timeout' ? 'timeout' : err.code === 'refused' ? 'refused' : 'cancelled', err.message)
      throw e
    }
  }

  private fail(e: Error): void {
    this.close()
    this.setStatus({ state: 'error', userPubkey: null, nostrConnectUri: null, detail: e.message })
  }

  private setStatus(p: Partial<RemoteBunkerStatus>): void {
    this.st = { ...this.st, ...p }
    this.o.onStatus?.(this.status())
  }
}
