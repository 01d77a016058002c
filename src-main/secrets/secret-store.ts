// The app's secret store: named secrets (NWC connection URIs, the console key) kept ONLY sealed by a SecretBox, in
// `secrets.json` in the data directory (mode 0600, written atomically: temp file, fsync, rename, fsync the folder).
// The ledger never holds a secret: it holds the slot name (`nwc:lp:<id>`), and the code that needs the secret asks
// this store at the moment of use. Nothing here logs a value; log lines name the slot only.
//
// `selectSecretBox` picks the box in the order docs/architecture.md §3 asks for: the OS keychain (Electron safeStorage) when it
// is usable, else an AES-256-GCM key file (headless), else plain text only with the operator's explicit consent —
// otherwise it refuses with SecretBoxError('UNAVAILABLE') and the app asks the operator.

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../src-shared/log'
import { readJsonFile, serialQueue, writeJsonAtomic } from '../fs-atomic'
import { openFileKeySecretBox } from './file-key'
import { type SafeStorageLike, safeStorageProblem, safeStorageSecretBox } from './safe-storage'
import { checkSlotName, plaintextSecretBox, type SecretBox, SecretBoxError, sealedScheme } from './secret-box'

export const SECRETS_FILE = 'secrets.json'

/** Slot names used across the app (one place, so no two modules collide). */
export const SecretSlots = {
  consoleKey: 'console-key',
  operatorNwc: 'nwc:operator',
  lpNwc: (lpId: string) => `nwc:lp:${lpId}`,
} as const

export interface SecretStore {
  readonly box: SecretBox
  put(name: string, value: string): Promise<void>
  /** The secret, or undefined when the slot is empty. Throws SecretBoxError when it cannot be opened. */
  get(name: string): Promise<string | undefined>
  has(name: string): boolean
  delete(name: string): Promise<boolean>
  names(): string[]
}

interface FileShape {
  version: 1
  secrets: Record<string, string>
}

/**
 * Opens the store in `dir`. A file that is not ours is refused (FORMAT) rather than overwritten, so a secret is
 * never lost to a parse error. Writes are serialised.
 */
export async function openSecretStore(opts: { dir: string; box: SecretBox; log: Logger }): Promise<SecretStore> {
  await mkdir(opts.dir, { recursive: true })
  const path = join(opts.dir, SECRETS_FILE)
  let data: FileShape = { version: 1, secrets: {} }
  const read = await readJsonFile(path)
  if (read.kind === 'not-json') {
    throw new SecretBoxError('FORMAT', `${path} is not JSON; move it aside to start a new store`)
  }
  if (read.kind === 'json') {
    const p = read.value as Partial<FileShape>
    if (p.version !== 1 || typeof p.secrets !== 'object' || p.secrets === null) {
      throw new SecretBoxError('FORMAT', `${path} is not a secrets file of version 1`)
    }
    for (const [k, v] of Object.entries(p.secrets)) {
      if (typeof v !== 'string' || sealedScheme(v) === null) {
        throw new SecretBoxError('FORMAT', `${path}: slot ${k} does not hold a sealed secret`)
      }
    }
    data = { version: 1, secrets: { ...p.secrets } }
  }
  const log = opts.log
  const serial = serialQueue()
  const persist = () => writeJsonAtomic(opts.dir, SECRETS_FILE, data)

  return {
    box: opts.box,
    put: (name, value) =>
      serial(async () => {
        checkSlotName(name)
        if (typeof value !== 'string' || value.length === 0) throw new SecretBoxError('INPUT', 'value must be set')
        const sealed = await opts.box.seal(name, value)
        data = { version: 1, secrets: { ...data.secrets, [name]: sealed } }
        await persist()
        log.info('secret stored', { slot: name, scheme: opts.box.scheme })
      }),
    async get(name) {
      checkSlotName(name)
      const sealed = data.secrets[name]
      if (sealed === undefined) return undefined
      try {
        return await opts.box.open(name, sealed)
      } catch (e) {
        log.error('secret cannot be opened', { slot: name, reason: (e as Error).message })
        throw e
      }
    },
    has: (name) => Object.hasOwn(data.secrets, name),
    delete: (name) =>
      serial(async () => {
        checkSlotName(name)
        if (!Object.hasOwn(data.secrets, name)) return false
        const { [name]: _gone, ...rest } = data.secrets
        data = { version: 1, secrets: rest }
        await persist()
        log.info('secret deleted', { slot: name })
        return true
      }),
    names: () => Object.keys(data.secrets).sort(),
  }
}

export interface SelectSecretBoxOptions {
  /** Electron's safeStorage (desktop app only). */
  safeStorage?: SafeStorageLike
  /** AES-256-GCM key file (headless). */
  keyFile?: string
  /** The operator explicitly accepted plain-text secrets (UI checkbox / `--accept-plaintext-secrets`). */
  acceptPlaintext?: boolean
  log: Logger
  platform?: NodeJS.Platform
}

/** Picks the strongest available box; see the file comment for the order. */
export async function selectSecretBox(o: SelectSecretBoxOptions): Promise<SecretBox> {
  const reasons: string[] = []
  if (o.safeStorage) {
    const problem = safeStorageProblem(o.safeStorage, o.platform ?? process.platform)
    if (problem === null) {
      const box = safeStorageSecretBox(o.safeStorage, o.platform ?? process.platform)
      o.log.info('secrets sealed by the OS keychain', { box: box.description })
      return box
    }
    reasons.push(problem)
  }
  if (o.keyFile) {
    try {
      const box = await openFileKeySecretBox({ keyFile: o.keyFile })
      o.log.info('secrets sealed with a key file', { keyFile: o.keyFile })
      return box
    } catch (e) {
      reasons.push((e as Error).message)
    }
  }
  if (o.acceptPlaintext === true) {
    o.log.warn('secrets stored in PLAIN TEXT, as the operator accepted', { why: reasons.join('; ') || 'requested' })
    return plaintextSecretBox({ operatorAccepted: true })
  }
  const why = reasons.join('; ') || 'no keychain and no key file configured'
  o.log.error('no secret box available; refusing plain text without consent', { reason: why })
  throw new SecretBoxError(
    'UNAVAILABLE',
    `${why}. Configure a key file, or explicitly accept plain-text secrets (--accept-plaintext-secrets)`,
  )
}

/**
 * The app's store, opened on first use with the strongest box available (see selectSecretBox). Pass the result as
 * `ServicesOptions.lps.secrets`. The desktop shell passes Electron's `safeStorage`; headless mode passes the key
 * file the operator named (`--secret-key-file` / SATMACHINE_SECRET_KEY_FILE) — there is deliberately no default
 * key file next to the data, which would be plain text in all but name — or the explicit plain-text consent.
 */
export function lazySecretStore(o: SelectSecretBoxOptions & { dataDir: string }): () => Promise<SecretStore> {
  let p: Promise<SecretStore> | undefined
  return () => {
    p ??= selectSecretBox(o).then((box) => openSecretStore({ dir: o.dataDir, box, log: o.log }))
    // A refusal (no box) is not cached: the operator may configure a key file and try again.
    p.catch(() => {
      p = undefined
    })
    return p
  }
}

/**
 * The console key (docs/architecture.md §3): created by the app on first use (32 random bytes from `random`), kept only sealed
 * in the store under `console-key`, returned as bytes. A stored value that is not 64 hex digits is refused rather
 * than replaced, so a damaged store never silently rotates the key ATMs encrypt to.
 */
export async function loadOrCreateConsoleKey(
  store: SecretStore,
  random: (n: number) => Uint8Array,
): Promise<{ secretKey: Uint8Array; created: boolean }> {
  const existing = await store.get(SecretSlots.consoleKey)
  if (existing !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(existing))
      throw new SecretBoxError('FORMAT', 'the stored console key is not 32 bytes of hex')
    return { secretKey: Uint8Array.from(Buffer.from(existing, 'hex')), created: false }
  }
  const key = random(32)
  if (key.length !== 32) throw new SecretBoxError('INPUT', 'random source gave a key of the wrong length')
  await store.put(SecretSlots.consoleKey, Buffer.from(key).toString('hex'))
  return { secretKey: key, created: true }
}
