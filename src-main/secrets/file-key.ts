// AES-256-GCM secret box over a key file (NIST SP 800-38D via node:crypto), for headless mode (`satmachine serve`)
// and for machines without an OS keychain. The key is 32 random bytes in a file of its own, created with mode 0600
// (owner read/write only); a key file that group or others can read is refused (KEY_FILE_PERMISSIONS) instead of
// trusted, like ssh refuses a world-readable private key. Operators should keep the key file off the data folder's
// backups (e.g. `--secret-key-file /etc/satmachine/secret.key`): the sealed secrets are useless without it.
//
// Sealed payload: version (1 byte = 1) ‖ key id (8 bytes = first 8 bytes of sha256("satmachine-secret-key" ‖ key))
// ‖ nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes). The additional authenticated data is
// "satmachine-secret:" ‖ slot name, so a blob only opens in the slot it was sealed for. The key id lets a wrong key
// be reported as WRONG_KEY instead of the misleading TAMPERED.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { checkSlotName, joinSealed, type SecretBox, SecretBoxError, splitSealed } from './secret-box'

const VERSION = 1
const KEY_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16
const KEY_ID_BYTES = 8

function keyId(key: Uint8Array): Buffer {
  return createHash('sha256').update('satmachine-secret-key').update(key).digest().subarray(0, KEY_ID_BYTES)
}

function aad(name: string): Buffer {
  return Buffer.from(`satmachine-secret:${name}`, 'utf8')
}

/** A secret box over a 32-byte key held in memory (the file-backed constructor below is the normal entry). */
export function aesGcmSecretBox(key: Uint8Array, description = 'AES-256-GCM with a key file'): SecretBox {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new SecretBoxError('INPUT', `key must be ${KEY_BYTES} bytes`)
  }
  const k = Buffer.from(key)
  const id = keyId(k)
  return {
    scheme: 'aes256gcm',
    description,
    async seal(name, plaintext) {
      checkSlotName(name)
      if (typeof plaintext !== 'string') throw new SecretBoxError('INPUT', 'plaintext must be a string')
      const nonce = randomBytes(NONCE_BYTES)
      const c = createCipheriv('aes-256-gcm', k, nonce, { authTagLength: TAG_BYTES })
      c.setAAD(aad(name))
      const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()])
      const out = Buffer.concat([Buffer.from([VERSION]), id, nonce, body, c.getAuthTag()])
      return joinSealed('aes256gcm', out)
    },
    async open(name, sealed) {
      checkSlotName(name)
      const b = Buffer.from(splitSealed(sealed, 'aes256gcm'))
      if (b.length < 1 + KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES) throw new SecretBoxError('FORMAT', 'too short')
      if (b[0] !== VERSION) throw new SecretBoxError('FORMAT', `unknown version ${b[0]}`)
      if (!b.subarray(1, 1 + KEY_ID_BYTES).equals(id)) {
        throw new SecretBoxError('WRONG_KEY', 'sealed under another key (was the key file replaced?)')
      }
      const nonce = b.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + NONCE_BYTES)
      const body = b.subarray(1 + KEY_ID_BYTES + NONCE_BYTES, b.length - TAG_BYTES)
      const tag = b.subarray(b.length - TAG_BYTES)
      const d = createDecipheriv('aes-256-gcm', k, nonce, { authTagLength: TAG_BYTES })
      d.setAAD(aad(name))
      d.setAuthTag(tag)
      try {
        return Buffer.concat([d.update(body), d.final()]).toString('utf8')
      } catch {
        throw new SecretBoxError('TAMPERED', 'authentication failed: the sealed secret or its slot was altered')
      }
    },
  }
}

export interface FileKeyOptions {
  /** Path of the key file; created (0600, parent 0700) when absent unless `create` is false. */
  keyFile: string
  /** Create the key when the file does not exist. Default true. */
  create?: boolean
}

/**
 * Loads (or creates) the key file and returns the box. Refuses a key file of the wrong size (FORMAT) or, on POSIX,
 * one that group/others may read (KEY_FILE_PERMISSIONS).
 */
export async function openFileKeySecretBox(opts: FileKeyOptions): Promise<SecretBox> {
  let key: Buffer
  try {
    key = await readKey(opts.keyFile)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || opts.create === false) {
      if (e instanceof SecretBoxError) throw e
      throw new SecretBoxError('UNAVAILABLE', `key file cannot be read: ${(e as Error).message}`)
    }
    key = await createKey(opts.keyFile)
  }
  return aesGcmSecretBox(key, `AES-256-GCM, key file ${opts.keyFile}`)
}

async function readKey(path: string): Promise<Buffer> {
  const st = await stat(path)
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new SecretBoxError(
      'KEY_FILE_PERMISSIONS',
      `key file ${path} is accessible by group/others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    )
  }
  const key = await readFile(path)
  if (key.length !== KEY_BYTES) throw new SecretBoxError('FORMAT', `key file must hold exactly ${KEY_BYTES} bytes`)
  return key
}

async function createKey(path: string): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const key = randomBytes(KEY_BYTES)
  // 'wx' fails if another process created the file meanwhile; then that file's key wins.
  let fh: Awaited<ReturnType<typeof open>>
  try {
    fh = await open(path, 'wx', 0o600)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readKey(path)
    throw e
  }
  try {
    await fh.writeFile(key)
    await fh.sync()
  } finally {
    await fh.close()
  }
  // The umask may have widened nothing (0600 only narrows), but chmod makes the mode explicit on every platform.
  await chmod(path, 0o600).catch(() => undefined)
  return key
}
