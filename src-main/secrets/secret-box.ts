// Secrets at rest (docs/architecture.md §3, the Electron security rule "secrets encrypted at rest"): the one small interface every
// secret goes through before it touches the disk — NWC connection URIs (the operator's and each LP's own) and the
// console key. Two real implementations: Electron's OS keychain (`safe-storage.ts`, the desktop app) and an
// AES-256-GCM file key (`file-key.ts`, headless `satmachine serve` and tests). A third, `plaintextSecretBox`,
// exists only behind an explicit operator consent, because docs/architecture.md §3 says to refuse a plain-text fallback unless
// the operator accepts it knowingly.
//
// A sealed secret is a printable string `sm1.<scheme>.<base64url>` so it can live in JSON files. Every seal binds
// the secret's *name* (its slot, e.g. `nwc:lp:ana`): opening it under another name fails, so a blob copied into the
// wrong slot (a swap attack, or a bug) is detected rather than paying the wrong wallet.

/** The scheme a sealed secret was written with. `plain` is readable by anyone with the file. */
export type SecretScheme = 'aes256gcm' | 'safestorage' | 'plain'

export interface SecretBox {
  readonly scheme: SecretScheme
  /** A one-line description for the settings screen and the log (never key material). */
  readonly description: string
  /** Seals `plaintext` for the slot `name`. */
  seal(name: string, plaintext: string): Promise<string>
  /** Opens a sealed secret of slot `name`; throws SecretBoxError('TAMPERED' | 'WRONG_KEY' | 'FORMAT' | …). */
  open(name: string, sealed: string): Promise<string>
}

export type SecretBoxErrorCode =
  /** The sealed text is not one of ours (bad prefix, bad base64, too short). */
  | 'FORMAT'
  /** Sealed by another scheme than this box opens. */
  | 'SCHEME'
  /** Sealed under a different key (the key file was replaced, or another machine's keychain). */
  | 'WRONG_KEY'
  /** The authentication tag does not verify: the blob or its slot name was altered. */
  | 'TAMPERED'
  /** No usable encryption (no keychain, key file unreadable) and plain text was not accepted. */
  | 'UNAVAILABLE'
  /** The key file is readable by other users; refused rather than trusted. */
  | 'KEY_FILE_PERMISSIONS'
  /** A slot name or value outside the accepted shape. */
  | 'INPUT'

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError'
  constructor(
    readonly code: SecretBoxErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`)
  }
}

export const SEALED_PREFIX = 'sm1'

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9:._@-]{0,199}$/

/** Checks a slot name: printable, bounded, so it can be used as AAD and as a JSON key. */
export function checkSlotName(name: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new SecretBoxError('INPUT', 'slot name must be 1–200 chars of [A-Za-z0-9:._@-]')
  }
  return name
}

/** Splits `sm1.<scheme>.<payload>`; throws FORMAT / SCHEME. */
export function splitSealed(sealed: string, expected: SecretScheme): Uint8Array {
  if (typeof sealed !== 'string') throw new SecretBoxError('FORMAT', 'sealed secret must be a string')
  const parts = sealed.split('.')
  if (parts.length !== 3 || parts[0] !== SEALED_PREFIX) throw new SecretBoxError('FORMAT', 'not a sealed secret')
  if (parts[1] !== expected) {
    throw new SecretBoxError('SCHEME', `sealed with ${parts[1]}, this box opens ${expected}`)
  }
  const b64 = parts[2]!
  if (!/^[A-Za-z0-9_-]*$/.test(b64)) throw new SecretBoxError('FORMAT', 'payload is not base64url')
  return new Uint8Array(Buffer.from(b64, 'base64url'))
}

export function joinSealed(scheme: SecretScheme, payload: Uint8Array): string {
  return `${SEALED_PREFIX}.${scheme}.${Buffer.from(payload).toString('base64url')}`
}

/** The scheme of a sealed secret, or null when it is not one of ours. */
export function sealedScheme(sealed: string): SecretScheme | null {
  const m = /^sm1\.(aes256gcm|safestorage|plain)\./.exec(sealed)
  return m ? (m[1] as SecretScheme) : null
}

/**
 * The plain-text "box": stores secrets readable by anyone who can read the data directory. It can only be built
 * with the operator's explicit consent (`{ operatorAccepted: true }`, which the UI asks for with a warning and the
 * CLI with `--accept-plaintext-secrets`); without it, construction throws UNAVAILABLE. The slot name is still
 * bound, so a swapped blob is still detected.
 */
export function plaintextSecretBox(consent: { operatorAccepted: boolean }): SecretBox {
  if (consent?.operatorAccepted !== true) {
    throw new SecretBoxError(
      'UNAVAILABLE',
      'no encryption is available and the operator has not accepted storing secrets in plain text',
    )
  }
  return {
    scheme: 'plain',
    description: 'plain text (accepted by the operator; anyone who can read the data folder can read the secrets)',
    async seal(name, plaintext) {
      checkSlotName(name)
      return joinSealed('plain', new TextEncoder().encode(JSON.stringify({ n: name, v: plaintext })))
    },
    async open(name, sealed) {
      checkSlotName(name)
      const bytes = splitSealed(sealed, 'plain')
      let doc: unknown
      try {
        doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
      } catch {
        throw new SecretBoxError('FORMAT', 'plain payload is not JSON')
      }
      const d = doc as { n?: unknown; v?: unknown }
      if (typeof d.v !== 'string') throw new SecretBoxError('FORMAT', 'plain payload has no value')
      if (d.n !== name) throw new SecretBoxError('TAMPERED', 'sealed for another slot')
      return d.v
    },
  }
}
