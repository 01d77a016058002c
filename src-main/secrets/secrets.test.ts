// Secrets at rest: AES-256-GCM key-file box (round trip, tamper and slot-swap detection, wrong key, key-file
// permissions), the safeStorage box over a stand-in (refusing Linux basic_text), the plain-text box's consent
// gate, and the on-disk store (only sealed text on disk, survives reopen, box selection order).
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import { aesGcmSecretBox, openFileKeySecretBox } from './file-key'
import { type SafeStorageLike, safeStorageSecretBox } from './safe-storage'
import { plaintextSecretBox, SecretBoxError } from './secret-box'
import {
  lazySecretStore,
  loadOrCreateConsoleKey,
  openSecretStore,
  SECRETS_FILE,
  SecretSlots,
  selectSecretBox,
} from './secret-store'

const NWC_URI =
  'nostr+walletconnect://b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4?relay=wss%3A%2F%2Frelay.example&secret=71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'secrets-'))
  dirs.push(d)
  return d
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    if (e instanceof SecretBoxError) return e.code
    throw e
  }
  throw new Error('expected a SecretBoxError')
}

/** Flips one bit of the payload of a sealed string at byte `at` (negative = from the end). */
function flip(sealed: string, at: number): string {
  const [p, s, b64] = sealed.split('.') as [string, string, string]
  const bytes = Buffer.from(b64, 'base64url')
  const i = at < 0 ? bytes.length + at : at
  bytes[i]! ^= 0x01
  return `${p}.${s}.${bytes.toString('base64url')}`
}

describe('AES-256-GCM key-file box', () => {
  it('round-trips, uses a fresh nonce per seal and never shows the secret', async () => {
    const box = await openFileKeySecretBox({ keyFile: join(tmp(), 'k', 'secret.key') })
    const a = await box.seal('nwc:lp:ana', NWC_URI)
    const b = await box.seal('nwc:lp:ana', NWC_URI)
    expect(a).toMatch(/^sm1\.aes256gcm\./)
    expect(a).not.toBe(b)
    expect(a).not.toContain('walletconnect')
    expect(Buffer.from(a.split('.')[2]!, 'base64url').toString('latin1')).not.toContain('secret=')
    expect(await box.open('nwc:lp:ana', a)).toBe(NWC_URI)
    expect(await box.open('nwc:lp:ana', b)).toBe(NWC_URI)
  })

  it('detects a flipped bit in the ciphertext, the tag and the nonce', async () => {
    const box = aesGcmSecretBox(new Uint8Array(32).fill(7))
    const sealed = await box.seal('console-key', 'ab'.repeat(32))
    expect(await codeOf(box.open('console-key', flip(sealed, -1)))).toBe('TAMPERED') // tag
    expect(await codeOf(box.open('console-key', flip(sealed, -20)))).toBe('TAMPERED') // ciphertext
    expect(await codeOf(box.open('console-key', flip(sealed, 10)))).toBe('TAMPERED') // nonce
    expect(await codeOf(box.open('console-key', flip(sealed, 0)))).toBe('FORMAT') // version byte
  })

  it('a blob copied into another slot does not open there', async () => {
    const box = aesGcmSecretBox(new Uint8Array(32).fill(1))
    const sealed = await box.seal('nwc:lp:ana', NWC_URI)
    expect(await codeOf(box.open('nwc:lp:beto', sealed))).toBe('TAMPERED')
  })

  it('reports another key as WRONG_KEY, another scheme as SCHEME and garbage as FORMAT', async () => {
    const one = aesGcmSecretBox(new Uint8Array(32).fill(1))
    const two = aesGcmSecretBox(new Uint8Array(32).fill(2))
    const sealed = await one.seal('x', 'v')
    expect(await codeOf(two.open('x', sealed))).toBe('WRONG_KEY')
    expect(await codeOf(one.open('x', 'sm1.plain.eyJ9'))).toBe('SCHEME')
    expect(await codeOf(one.open('x', 'hello'))).toBe('FORMAT')
    expect(await codeOf(one.open('x', 'sm1.aes256gcm.AAAA'))).toBe('FORMAT')
  })

  it('creates the key file 0600 and reuses it; refuses a group-readable or wrong-size key file', async () => {
    const dir = tmp()
    const keyFile = join(dir, 'secret.key')
    const box1 = await openFileKeySecretBox({ keyFile })
    if (process.platform !== 'win32') expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(keyFile)).toHaveLength(32)
    const sealed = await box1.seal('s', 'value')
    const box2 = await openFileKeySecretBox({ keyFile })
    expect(await box2.open('s', sealed)).toBe('value')
    if (process.platform !== 'win32') {
      chmodSync(keyFile, 0o644)
      expect(await codeOf(openFileKeySecretBox({ keyFile }))).toBe('KEY_FILE_PERMISSIONS')
    }
    const short = join(dir, 'short.key')
    writeFileSync(short, Buffer.alloc(16), { mode: 0o600 })
    expect(await codeOf(openFileKeySecretBox({ keyFile: short }))).toBe('FORMAT')
    expect(await codeOf(openFileKeySecretBox({ keyFile: join(dir, 'absent.key'), create: false }))).toBe('UNAVAILABLE')
  })
})

/** A stand-in for Electron's safeStorage: XOR with a per-instance pad plus a checksum, enough to test our layer. */
function fakeSafeStorage(backend: string, available = true): SafeStorageLike {
  const pad = 0x5a
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString: (s) => {
      const b = Buffer.from(s, 'utf8')
      return Buffer.concat([Buffer.from('v10'), Buffer.from(b.map((x) => x ^ pad))])
    },
    decryptString: (e) => {
      const b = Buffer.from(e)
      if (b.subarray(0, 3).toString() !== 'v10') throw new Error('Error while decrypting the ciphertext provided')
      return Buffer.from(b.subarray(3).map((x) => x ^ pad)).toString('utf8')
    },
  }
}

describe('safeStorage box', () => {
  it('round-trips and binds the slot', async () => {
    const box = safeStorageSecretBox(fakeSafeStorage('gnome_libsecret'), 'linux')
    const sealed = await box.seal('nwc:operator', NWC_URI)
    expect(sealed).toMatch(/^sm1\.safestorage\./)
    expect(await box.open('nwc:operator', sealed)).toBe(NWC_URI)
    expect(await codeOf(box.open('nwc:lp:x', sealed))).toBe('TAMPERED')
    expect(await codeOf(box.open('nwc:operator', 'sm1.safestorage.AAAA'))).toBe('TAMPERED')
  })

  it('refuses an unavailable keychain and the Linux basic_text backend', () => {
    expect(() => safeStorageSecretBox(fakeSafeStorage('gnome_libsecret', false), 'linux')).toThrow(/UNAVAILABLE/)
    expect(() => safeStorageSecretBox(fakeSafeStorage('basic_text'), 'linux')).toThrow(/basic_text/)
    // The backend query only exists on Linux; elsewhere "available" is enough.
    expect(safeStorageSecretBox(fakeSafeStorage('basic_text'), 'darwin').scheme).toBe('safestorage')
  })
})

describe('plain text only with consent', () => {
  it('refuses without consent, round-trips with it', async () => {
    expect(() => plaintextSecretBox({ operatorAccepted: false })).toThrow(SecretBoxError)
    expect(() => plaintextSecretBox(undefined as unknown as { operatorAccepted: boolean })).toThrow(/UNAVAILABLE/)
    const box = plaintextSecretBox({ operatorAccepted: true })
    const sealed = await box.seal('a', 'b')
    expect(await box.open('a', sealed)).toBe('b')
    expect(await codeOf(box.open('c', sealed))).toBe('TAMPERED')
  })

  it('selectSecretBox: keychain first, then key file, never plain text unless accepted', async () => {
    const log = memoryLogger('secrets')
    const dir = tmp()
    expect((await selectSecretBox({ safeStorage: fakeSafeStorage('kwallet5'), log, platform: 'linux' })).scheme).toBe(
      'safestorage',
    )
    expect(
      (
        await selectSecretBox({
          safeStorage: fakeSafeStorage('basic_text'),
          keyFile: join(dir, 'k.key'),
          log,
          platform: 'linux',
        })
      ).scheme,
    ).toBe('aes256gcm')
    expect(await codeOf(selectSecretBox({ safeStorage: fakeSafeStorage('basic_text'), log, platform: 'linux' }))).toBe(
      'UNAVAILABLE',
    )
    expect(log.records.some((r) => r.level === 'error' && /refusing plain text/.test(r.msg))).toBe(true)
    const accepted = await selectSecretBox({ acceptPlaintext: true, log })
    expect(accepted.scheme).toBe('plain')
    expect(log.records.some((r) => r.level === 'warn' && /PLAIN TEXT/.test(r.msg))).toBe(true)
  })
})

describe('secret store', () => {
  it('keeps only sealed text on disk, survives reopen, deletes', async () => {
    const dir = tmp()
    const log = memoryLogger('secrets')
    const box = await openFileKeySecretBox({ keyFile: join(dir, 'secret.key') })
    const store = await openSecretStore({ dir, box, log })
    await store.put(SecretSlots.lpNwc('ana'), NWC_URI)
    await store.put(SecretSlots.consoleKey, 'cd'.repeat(32))
    const onDisk = readFileSync(join(dir, SECRETS_FILE), 'utf8')
    expect(onDisk).not.toContain('walletconnect')
    expect(onDisk).not.toContain('cd'.repeat(32))
    if (process.platform !== 'win32') expect(statSync(join(dir, SECRETS_FILE)).mode & 0o777).toBe(0o600)
    for (const r of log.records) expect(JSON.stringify(r.fields)).not.toContain('secret=')

    const again = await openSecretStore({ dir, box, log })
    expect(again.names()).toEqual(['console-key', 'nwc:lp:ana'])
    expect(await again.get('nwc:lp:ana')).toBe(NWC_URI)
    expect(await again.get('nwc:lp:nobody')).toBeUndefined()
    expect(await again.delete('nwc:lp:ana')).toBe(true)
    expect(await again.delete('nwc:lp:ana')).toBe(false)
    expect((await openSecretStore({ dir, box, log })).has('nwc:lp:ana')).toBe(false)
  })

  it('a tampered file is reported on read, a foreign file is refused at open, never overwritten', async () => {
    const dir = tmp()
    const log = memoryLogger('secrets')
    const box = aesGcmSecretBox(new Uint8Array(32).fill(9))
    const store = await openSecretStore({ dir, box, log })
    await store.put('console-key', 'ef'.repeat(32))
    const path = join(dir, SECRETS_FILE)
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { secrets: Record<string, string> }
    doc.secrets['console-key'] = flip(doc.secrets['console-key']!, -3)
    writeFileSync(path, JSON.stringify(doc))
    const reopened = await openSecretStore({ dir, box, log })
    expect(await codeOf(reopened.get('console-key'))).toBe('TAMPERED')
    expect(log.records.some((r) => r.msg === 'secret cannot be opened' && r.fields.slot === 'console-key')).toBe(true)

    writeFileSync(path, JSON.stringify({ version: 1, secrets: { 'console-key': 'plain-hex' } }))
    expect(await codeOf(openSecretStore({ dir, box, log }))).toBe('FORMAT')
    expect(readFileSync(path, 'utf8')).toContain('plain-hex')
  })
})

describe('console key and the lazy store', () => {
  it('creates the console key once, sealed, and returns the same key after reopening', async () => {
    const dir = tmp()
    const log = memoryLogger('secrets')
    const keyFile = join(dir, 'keys', 'secret.key')
    const open = lazySecretStore({ dataDir: dir, keyFile, log })
    const store = await open()
    expect(await open()).toBe(store)
    const random = (n: number) => new Uint8Array(n).fill(0xab)
    const first = await loadOrCreateConsoleKey(store, random)
    expect(first.created).toBe(true)
    expect(readFileSync(join(dir, SECRETS_FILE), 'utf8')).not.toContain('ab'.repeat(32))
    const reopened = await lazySecretStore({ dataDir: dir, keyFile, log })()
    const second = await loadOrCreateConsoleKey(reopened, () => new Uint8Array(32))
    expect(second.created).toBe(false)
    expect(Buffer.from(second.secretKey).toString('hex')).toBe('ab'.repeat(32))
  })

  it('does not cache a refusal: a keychain that comes up later is used', async () => {
    const dir = tmp()
    const log = memoryLogger('secrets')
    let up = false
    const base = fakeSafeStorage('gnome_libsecret')
    const keychain: SafeStorageLike = { ...base, isEncryptionAvailable: () => up }
    const open = lazySecretStore({ dataDir: dir, safeStorage: keychain, log, platform: 'linux' })
    expect(await codeOf(open())).toBe('UNAVAILABLE')
    up = true
    expect((await open()).box.scheme).toBe('safestorage')
  })
})
