// Secret box over Electron's `safeStorage` (OS keychain: macOS Keychain, Windows DPAPI, libsecret/kwallet on Linux).
// The safeStorage object is passed in by the shell (`src-main/index.ts`), so this file never imports electron and
// is unit-tested with a stand-in. On Linux without a keyring, Electron falls back to the `basic_text` backend, which
// encrypts with a hard-coded password — plain text in all but name. That backend is refused (UNAVAILABLE) like an
// absent keychain: docs/architecture.md §3 allows a plain-text fallback only with the operator's explicit consent, and then the
// honest `plaintextSecretBox` is used instead of a disguised one.
//
// Payload: safeStorage.encryptString(JSON {n: slot name, v: value}); the slot name is checked on open, so a blob
// copied into another slot is detected (the keychain's own encryption is authenticated on every platform).

import { checkSlotName, joinSealed, type SecretBox, SecretBoxError, splitSealed } from './secret-box'

/** The part of Electron's `safeStorage` we use (same names and shapes as Electron 45). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  encryptString(plainText: string): Uint8Array
  decryptString(encrypted: Uint8Array): string
  /** Linux only in Electron; absent elsewhere. */
  getSelectedStorageBackend?(): string
}

/** Linux backends that do not protect anything (Electron's names). */
const WEAK_BACKENDS = new Set(['basic_text', 'unknown'])

/** Why safeStorage cannot be used, or null when it can. */
export function safeStorageProblem(s: SafeStorageLike, platform = process.platform): string | null {
  if (!s.isEncryptionAvailable()) return 'the OS keychain is not available'
  if (platform === 'linux' && typeof s.getSelectedStorageBackend === 'function') {
    const backend = s.getSelectedStorageBackend()
    if (WEAK_BACKENDS.has(backend)) {
      return `the keychain backend is ${backend} (no keyring running): secrets would be protected only by a fixed password`
    }
  }
  return null
}

export function safeStorageSecretBox(s: SafeStorageLike, platform = process.platform): SecretBox {
  const problem = safeStorageProblem(s, platform)
  if (problem) throw new SecretBoxError('UNAVAILABLE', problem)
  const backend = typeof s.getSelectedStorageBackend === 'function' ? s.getSelectedStorageBackend() : 'os'
  return {
    scheme: 'safestorage',
    description: `OS keychain (${backend})`,
    async seal(name, plaintext) {
      checkSlotName(name)
      if (typeof plaintext !== 'string') throw new SecretBoxError('INPUT', 'plaintext must be a string')
      return joinSealed('safestorage', s.encryptString(JSON.stringify({ n: name, v: plaintext })))
    },
    async open(name, sealed) {
      checkSlotName(name)
      const bytes = splitSealed(sealed, 'safestorage')
      let text: string
      try {
        text = s.decryptString(Buffer.from(bytes))
      } catch (e) {
        throw new SecretBoxError('TAMPERED', `the keychain could not decrypt it: ${(e as Error).message}`)
      }
      let doc: { n?: unknown; v?: unknown }
      try {
        doc = JSON.parse(text) as { n?: unknown; v?: unknown }
      } catch {
        throw new SecretBoxError('FORMAT', 'decrypted payload is not JSON')
      }
      if (typeof doc.v !== 'string') throw new SecretBoxError('FORMAT', 'decrypted payload has no value')
      if (doc.n !== name) throw new SecretBoxError('TAMPERED', 'sealed for another slot')
      return doc.v
    },
  }
}
