// IPC handlers and lifecycle of the local NIP-46 bunker and the remote-bunker operator signer
// (docs/nip46-bunker.md). The bunker starts once relays are configured and the secret store opens: its transport
// key lives sealed in the secret store (slot `bunker:transport-key`), its clients and request log in
// <data>/bunker/. A change of the relay setting is picked up at the next call (the bunker restarts on the new
// list). The remote-bunker client key is sealed too (`bunker:remote-client-key`), as is the last bunker:// URI,
// so a restart reconnects without a new secret (the remote bunker already knows our client key).

import { join } from 'node:path'
import { randomBytes } from '@noble/hashes/utils.js'
import type { BunkerClientView, BunkerStatusView, RemoteSignerView } from '../../src-shared/ipc/bunker'
import type { Handlers } from '../../src-shared/ipc/contract'
import { ApiError } from '../../src-shared/ipc/contract'
import { Nip46Error } from '../../src-shared/nostr/nip46'
import { pairingQrSvg } from '../../src-shared/nostr/pairing'
import type { Signer } from '../../src-shared/signer'
import type { OperatorSignerProvider } from '../fleet/operator-signer'
import type { SecretStore } from '../secrets/secret-store'
import type { ServiceContext } from '../service-context'
import { Bunker } from './bunker'
import { RemoteBunkerError, RemoteBunkerSigner } from './remote-signer'
import { type BunkerClient, type BunkerStore, openBunkerStore } from './store'
import { type Nip46Transport, simplePoolTransport } from './transport'

export const BunkerSecretSlots = {
  transportKey: 'bunker:transport-key',
  remoteClientKey: 'bunker:remote-client-key',
  remoteUri: 'bunker:remote-uri',
} as const

export interface BunkerWiring {
  /** The device signer (issue 8a) or none; the remote bunker is used when this has no signer. */
  operatorSigner?: OperatorSignerProvider
  secrets?: SecretStore | (() => Promise<SecretStore>)
  transport?: () => Nip46Transport
}

/** Prefers the base provider (the USB device) and falls back to the remote bunker when the base has no signer. */
export function preferringProvider(
  base: OperatorSignerProvider,
  fallback: OperatorSignerProvider,
): OperatorSignerProvider {
  return {
    current: (): Signer | null => base.current() ?? fallback.current(),
    pubkey: () => (base.current() ? base.pubkey() : fallback.pubkey()),
    describe: () => (base.current() ? base.describe() : fallback.current() ? fallback.describe() : base.describe()),
  }
}

const REMOTE_CODES = {
  timeout: 'timeout',
  refused: 'forbidden',
  not_connected: 'unavailable',
  wrong_key: 'unavailable',
  unsupported: 'unavailable',
  cancelled: 'conflict',
} as const

/**
 * The remote bunker's refusals as API errors the operator reads (pairing passes ApiErrors through): "refused on
 * your phone", "a NIP-46 bunker cannot sign delegations: use the hardware signer", a timeout — not `internal`.
 */
function operatorFacing(s: Signer): Signer {
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return await f(...a)
      } catch (e) {
        if (e instanceof RemoteBunkerError) throw new ApiError(REMOTE_CODES[e.code], `The phone signer: ${e.message}`)
        throw e
      }
    }
  return {
    getPublicKey: wrap(() => s.getPublicKey()),
    signEvent: wrap((t) => s.signEvent(t)),
    signDelegation: wrap((r) => s.signDelegation(r)),
    nip44Encrypt: wrap((p, x) => s.nip44Encrypt(p, x)),
    nip44Decrypt: wrap((p, x) => s.nip44Decrypt(p, x)),
  }
}

type BunkerMethods =
  | 'bunker.status'
  | 'bunker.issueConnect'
  | 'bunker.acceptNostrConnect'
  | 'bunker.revoke'
  | 'bunker.log'
  | 'remoteSigner.status'
  | 'remoteSigner.connect'
  | 'remoteSigner.nostrConnect'
  | 'remoteSigner.disconnect'
  | 'remoteSigner.cancel'

const hexKey = (s: string | undefined): Uint8Array | null =>
  s !== undefined && /^[0-9a-f]{64}$/.test(s) ? Uint8Array.from(Buffer.from(s, 'hex')) : null

function clientView(c: BunkerClient): BunkerClientView {
  return {
    pubkey: c.pubkey,
    name: c.name,
    methods: [...c.permissions.methods],
    kinds: [...c.permissions.kinds],
    dTagPatterns: [...c.permissions.dTagPatterns],
    authorisedAtMs: c.authorisedAtMs,
    revokedAtMs: c.revokedAtMs,
    via: c.via,
  }
}

/** Bad input from the operator (a URI, permissions) → bad_args naming the field. */
function asApiError(e: unknown): never {
  if (e instanceof Nip46Error) throw new ApiError('bad_args', e.message, e.field)
  throw e
}

export interface BunkerFeature {
  handlers: Pick<Handlers, BunkerMethods>
  /** The operator signer the console uses: the device (w.operatorSigner) when it has a signer, else the remote bunker. */
  operator: OperatorSignerProvider
}

export function bunkerHandlers(ctx: ServiceContext, w: BunkerWiring = {}): Pick<Handlers, BunkerMethods> {
  return createBunkerFeature(ctx, w).handlers
}

export function createBunkerFeature(ctx: ServiceContext, w: BunkerWiring = {}): BunkerFeature {
  const log = ctx.log.child('bunker')
  const makeTransport = w.transport ?? simplePoolTransport
  let secretsP: Promise<SecretStore> | undefined
  const secrets = (): Promise<SecretStore> => {
    const s = w.secrets
    if (!s) return Promise.reject(new ApiError('unavailable', 'the secret store is not available in this build'))
    secretsP ??= typeof s === 'function' ? s() : Promise.resolve(s)
    return secretsP
  }
  const pinned = () => ctx.settings.get().operatorPubkey ?? null

  // ---- remote bunker (the operator signer for operators without the device) ----
  let remote: RemoteBunkerSigner | null = null
  let remoteTransport: Nip46Transport | null = null
  let remoteQr: string | null = null
  const remoteView = (): RemoteSignerView => {
    const s = remote?.status()
    if (!s)
      return {
        state: 'disconnected',
        bunkerPubkey: null,
        userPubkey: null,
        relays: [],
        nostrConnectUri: null,
        qrSvg: null,
        detail: 'no remote bunker connected',
      }
    return { ...s, qrSvg: s.nostrConnectUri ? remoteQr : null }
  }
  const ensureRemote = async (): Promise<RemoteBunkerSigner> => {
    if (remote) return remote
    const store = await secrets()
    let key = hexKey(await store.get(BunkerSecretSlots.remoteClientKey))
    if (!key) {
      key = randomBytes(32)
      await store.put(BunkerSecretSlots.remoteClientKey, Buffer.from(key).toString('hex'))
    }
    remoteTransport = makeTransport()
    remote = new RemoteBunkerSigner({
      transport: remoteTransport,
      pinnedOperatorPubkey: pinned,
      log: log.child('remote'),
      clock: ctx.clock,
      clientSecretKey: key,
      onActivity: (a) => ctx.emit('signer.activity', a),
      onStatus: () => ctx.emit('remoteSigner.status', remoteView()),
    })
    key.fill(0)
    return remote
  }
  const remoteProvider: OperatorSignerProvider = {
    current: () => {
      const s = remote?.current()
      return s ? operatorFacing(s) : null
    },
    pubkey: () => remote?.pubkey() ?? null,
    describe: () => remote?.describe() ?? 'no remote bunker connected',
  }
  const operator = w.operatorSigner ? preferringProvider(w.operatorSigner, remoteProvider) : remoteProvider

  // ---- local bunker ----
  let bunker: Bunker | null = null
  let bunkerTransport: Nip46Transport | null = null
  let store: BunkerStore | null = null
  let relaysKey = ''
  let detail = 'not started'
  // Serialised: the background start and a handler must never build two bunkers.
  let ensuring: Promise<Bunker | null> = Promise.resolve(null)
  const ensureBunker = (): Promise<Bunker | null> => {
    const next = ensuring.catch(() => null).then(() => ensureBunkerNow())
    ensuring = next
    return next
  }
  const ensureBunkerNow = async (): Promise<Bunker | null> => {
    const relays = ctx.settings.get().relays
    if (relays.length === 0) {
      detail = 'add a relay in Settings to run the bunker'
      return null
    }
    if (bunker && relaysKey === relays.join(' ')) return bunker
    bunker?.stop()
    bunkerTransport?.close()
    const sec = await secrets()
    let key = hexKey(await sec.get(BunkerSecretSlots.transportKey))
    if (!key) {
      key = randomBytes(32)
      await sec.put(BunkerSecretSlots.transportKey, Buffer.from(key).toString('hex'))
      log.info('bunker transport key created')
    }
    store ??= await openBunkerStore(join(ctx.dataDir, 'bunker'), log)
    bunkerTransport = makeTransport()
    bunker = new Bunker({
      transportSecretKey: key,
      operatorPubkey: pinned,
      signer: () => {
        const s = operator.current()
        // The signer must be the pinned operator key; results are checked against it anyway.
        return s && operator.pubkey() === pinned() ? s : null
      },
      relays,
      transport: bunkerTransport,
      store,
      log,
      clock: ctx.clock,
      onChange: () => pushStatus(),
    })
    key.fill(0)
    relaysKey = relays.join(' ')
    await bunker.start()
    detail = `listening on ${relays.length} relay(s)`
    log.info('bunker listening', { relays: relays.length })
    return bunker
  }
  const statusView = (): BunkerStatusView => ({
    running: bunker !== null,
    bunkerPubkey: bunker?.pubkey ?? null,
    relays: bunker ? relaysKey.split(' ') : [],
    clients: (bunker?.clients() ?? []).map(clientView),
    detail,
  })
  const need = async (): Promise<Bunker> => {
    const b = await ensureBunker()
    if (!b) throw new ApiError('unavailable', detail)
    return b
  }
  const pushStatus = () => ctx.emit('bunker.status', statusView())

  ctx.onClose(() => {
    bunker?.stop()
    bunkerTransport?.close()
    remote?.disconnect()
    remoteTransport?.close()
  })
  // Start in the background when possible; failures are reported by bunker.status.
  void (async () => {
    try {
      if (!w.secrets) return
      await ensureBunker()
      pushStatus()
      const uri = await (await secrets()).get(BunkerSecretSlots.remoteUri)
      if (uri) await (await ensureRemote()).connectBunkerUri(uri)
    } catch (e) {
      detail = `not running: ${(e as Error).message}`
      log.warn('bunker start failed', { reason: (e as Error).message })
    }
  })()

  const handlers: Pick<Handlers, BunkerMethods> = {
    'bunker.status': async () => {
      try {
        await ensureBunker()
      } catch (e) {
        detail = `not running: ${(e as Error).message}`
      }
      return statusView()
    },
    'bunker.issueConnect': async ({ name, permissions }) => {
      const b = await need()
      try {
        const issued = b.issueConnect(permissions, name)
        log.info('bunker connect URI issued', { name })
        return { uri: issued.uri, qrSvg: pairingQrSvg(issued.uri), expiresAtMs: issued.expiresAtMs }
      } catch (e) {
        return asApiError(e)
      }
    },
    'bunker.acceptNostrConnect': async ({ uri, permissions }) => {
      const b = await need()
      try {
        const c = await b.acceptNostrConnect(uri, permissions)
        pushStatus()
        return clientView(c)
      } catch (e) {
        return asApiError(e)
      }
    },
    'bunker.revoke': async ({ pubkey }) => {
      const b = await need()
      if (!b.clients().some((c) => c.pubkey === pubkey)) throw new ApiError('not_found', 'no such client', 'pubkey')
      const revoked = await b.revoke(pubkey)
      pushStatus()
      return { revoked }
    },
    'bunker.log': async ({ offset, limit }) => {
      await need()
      if (!store) throw new ApiError('unavailable', detail)
      const page = await store.pageLog({ offset: offset ?? 0, limit: limit ?? 50 })
      const names = new Map((bunker?.clients() ?? []).map((c) => [c.pubkey, c.name]))
      return {
        total: page.total,
        entries: page.entries.map((e) => ({ ...e, clientName: names.get(e.clientPubkey) ?? 'unknown client' })),
      }
    },
    'remoteSigner.status': () => remoteView(),
    'remoteSigner.connect': async ({ bunkerUri }) => {
      const r = await ensureRemote()
      try {
        await r.connectBunkerUri(bunkerUri)
      } catch (e) {
        if (e instanceof Nip46Error) asApiError(e)
        throw new ApiError('unavailable', (e as Error).message)
      }
      await (await secrets()).put(BunkerSecretSlots.remoteUri, bunkerUri)
      return remoteView()
    },
    'remoteSigner.nostrConnect': async () => {
      const relays = ctx.settings.get().relays
      if (relays.length === 0) throw new ApiError('unavailable', 'add a relay in Settings first')
      const r = await ensureRemote()
      const shown = r.startNostrConnect(relays)
      remoteQr = pairingQrSvg(shown.uri)
      shown.connected.then(
        () => ctx.emit('remoteSigner.status', remoteView()),
        (e: Error) => log.warn('nostrconnect not completed', { reason: e.message }),
      )
      await shown.listening
      return remoteView()
    },
    'remoteSigner.cancel': ({ requestId }) => ({ cancelled: remote?.cancel(requestId) ?? false }),
    'remoteSigner.disconnect': async () => {
      remote?.disconnect()
      if (w.secrets) await (await secrets()).delete(BunkerSecretSlots.remoteUri)
      return remoteView()
    },
  }
  return { handlers, operator }
}
