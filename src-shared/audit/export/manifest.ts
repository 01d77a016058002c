// manifest.json of an audit export (docs/audit-export.md "manifest.json"): the period, whether it is a draft, the
// signed head the export commits to, and every file's SHA-256, size and row count. Its bytes are deterministic —
// fixed key order, no generation time — so exporting the same closed quarter twice gives the same manifest, and
// the SHA-256 of those bytes is what the operator's quarter attestation signs. Pure.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'

export const MANIFEST_FORMAT = 'satmachine-audit-export/1'
export const MANIFEST_FILE = 'manifest.json'

export interface ManifestFile {
  name: string
  sha256: string
  bytes: number
  /** Data rows (CSV: without the header; JSON lines: lines). */
  rows: number
}

export interface ManifestHead {
  eventId: string
  treeSize: number
  rootHex: string
}

export interface Manifest {
  format: string
  quarter: string
  fromUtc: string
  untilUtc: string
  draft: boolean
  appVersion: string
  schemaVersion: number
  consolePubkey: string | null
  operatorPubkey: string | null
  currencies: string[]
  head: ManifestHead | null
  files: ManifestFile[]
}

export class ManifestError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`manifest.json: ${field}: ${message}`)
    this.name = 'ManifestError'
  }
}

export const sha256Hex = (bytes: Uint8Array): string => bytesToHex(sha256(bytes))

/** The manifest's bytes: keys in the interface's order, two-space indent, final newline. */
export function encodeManifest(m: Manifest): Uint8Array {
  const ordered = {
    format: m.format,
    quarter: m.quarter,
    fromUtc: m.fromUtc,
    untilUtc: m.untilUtc,
    draft: m.draft,
    appVersion: m.appVersion,
    schemaVersion: m.schemaVersion,
    consolePubkey: m.consolePubkey,
    operatorPubkey: m.operatorPubkey,
    currencies: m.currencies,
    head: m.head ? { eventId: m.head.eventId, treeSize: m.head.treeSize, rootHex: m.head.rootHex } : null,
    files: m.files.map((f) => ({ name: f.name, sha256: f.sha256, bytes: f.bytes, rows: f.rows })),
  }
  return new TextEncoder().encode(`${JSON.stringify(ordered, null, 2)}\n`)
}

const HEX64 = /^[0-9a-f]{64}$/
const SAFE_NAME = /^[a-z0-9][a-z0-9.-]{0,80}$/

/** Parses and checks a manifest's shape; the error names the field. */
export function parseManifest(text: string): Manifest {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    throw new ManifestError('(file)', `not JSON (${(e as Error).message})`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ManifestError('(file)', 'not an object')
  const o = raw as Record<string, unknown>
  const str = (k: string): string => {
    if (typeof o[k] !== 'string') throw new ManifestError(k, 'must be a string')
    return o[k] as string
  }
  const nullableHex = (k: string): string | null => {
    if (o[k] === null) return null
    if (typeof o[k] !== 'string' || !HEX64.test(o[k] as string)) throw new ManifestError(k, 'must be 64 hex or null')
    return o[k] as string
  }
  if (o.format !== MANIFEST_FORMAT) throw new ManifestError('format', `must be ${MANIFEST_FORMAT}`)
  if (typeof o.draft !== 'boolean') throw new ManifestError('draft', 'must be true or false')
  if (!Number.isSafeInteger(o.schemaVersion)) throw new ManifestError('schemaVersion', 'must be an integer')
  if (!Array.isArray(o.currencies) || !o.currencies.every((c) => typeof c === 'string' && /^[A-Z]{3}$/.test(c)))
    throw new ManifestError('currencies', 'must be a list of ISO 4217 codes')
  let head: ManifestHead | null = null
  if (o.head !== null) {
    const h = o.head as Record<string, unknown>
    if (typeof h !== 'object' || h === null) throw new ManifestError('head', 'must be an object or null')
    if (typeof h.eventId !== 'string' || !HEX64.test(h.eventId))
      throw new ManifestError('head.eventId', 'must be 64 hex')
    if (!Number.isSafeInteger(h.treeSize) || (h.treeSize as number) < 0)
      throw new ManifestError('head.treeSize', 'must be an integer ≥ 0')
    if (typeof h.rootHex !== 'string' || !HEX64.test(h.rootHex))
      throw new ManifestError('head.rootHex', 'must be 64 hex')
    head = { eventId: h.eventId, treeSize: h.treeSize as number, rootHex: h.rootHex }
  }
  if (!Array.isArray(o.files)) throw new ManifestError('files', 'must be a list')
  const names = new Set<string>()
  const files = o.files.map((x, i): ManifestFile => {
    const fo = x as Record<string, unknown>
    const at = `files[${i}]`
    if (typeof fo !== 'object' || fo === null) throw new ManifestError(at, 'must be an object')
    if (typeof fo.name !== 'string' || !SAFE_NAME.test(fo.name))
      throw new ManifestError(`${at}.name`, 'must be a plain file name (no folders)')
    if (names.has(fo.name)) throw new ManifestError(`${at}.name`, `${fo.name} is listed twice`)
    names.add(fo.name)
    if (typeof fo.sha256 !== 'string' || !HEX64.test(fo.sha256))
      throw new ManifestError(`${at}.sha256`, 'must be 64 hex')
    if (!Number.isSafeInteger(fo.bytes) || (fo.bytes as number) < 0)
      throw new ManifestError(`${at}.bytes`, 'must be an integer ≥ 0')
    if (!Number.isSafeInteger(fo.rows) || (fo.rows as number) < 0)
      throw new ManifestError(`${at}.rows`, 'must be an integer ≥ 0')
    return { name: fo.name, sha256: fo.sha256, bytes: fo.bytes as number, rows: fo.rows as number }
  })
  return {
    format: MANIFEST_FORMAT,
    quarter: str('quarter'),
    fromUtc: str('fromUtc'),
    untilUtc: str('untilUtc'),
    draft: o.draft,
    appVersion: str('appVersion'),
    schemaVersion: o.schemaVersion as number,
    consolePubkey: nullableHex('consolePubkey'),
    operatorPubkey: nullableHex('operatorPubkey'),
    currencies: o.currencies as string[],
    head,
    files,
  }
}
