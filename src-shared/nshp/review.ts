// What an NSHP/1 device shows for each command, page by page and field by field (docs/signer-protocol.md §6), and
// the 6-character compare code. Pure. The emulator's device core renders its screen with these functions and the
// console's "confirm on your signer" dialog renders the same ReviewScreen from the same inputs, so the two always
// show the same text and the same code.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import type { ParsedDelegation } from './policy'
import type { ReviewLine, ReviewPage, ReviewScreen } from './types'

/** Crockford base32 (no I, L, O, U): unambiguous when read aloud or off a small screen. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** The first 30 bits of a 32-byte hash (hex) as 6 Crockford base32 characters, most significant first. */
export function compareCode(hashHex: string): string {
  const b = hexToBytes(hashHex)
  if (b.length !== 32) throw new RangeError('compareCode: hash must be 32 bytes')
  const bits = (((b[0] ?? 0) << 22) | ((b[1] ?? 0) << 14) | ((b[2] ?? 0) << 6) | ((b[3] ?? 0) >> 2)) >>> 0
  let out = ''
  for (let i = 5; i >= 0; i--) out += CROCKFORD[(bits >>> (i * 5)) & 31]
  return out
}

/** sha256("nostr:delegation:<delegatee>:<conditions>"), lowercase hex. */
export const delegationHash = (delegatee: string, conditions: string): string =>
  bytesToHex(sha256(utf8ToBytes(`nostr:delegation:${delegatee}:${conditions}`)))

const KIND_NAMES: Record<number, string> = {
  0: 'profile',
  1: 'note',
  3: 'follow list',
  3079: 'settlement receipt',
  3080: 'quarter-close attestation',
  24133: 'signer message',
  30000: 'follow set (fleet roster)',
  30078: 'app config',
  30079: 'ATM record',
}

export const kindLabel = (kind: number): string => {
  const n = KIND_NAMES[kind]
  return n ? `${kind} (${n})` : `${kind}`
}

/** "2026-12-02 15:33:23 UTC". */
export function utcText(seconds: number): string {
  const d = new Date(seconds * 1000)
  if (Number.isNaN(d.getTime())) return `${seconds} (out of range)`
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** Characters per content page; a page break never splits a surrogate pair. */
export const CONTENT_PAGE_CHARS = 240

function chunks(s: string, size: number): string[] {
  const cps = [...s]
  const out: string[] = []
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''))
  return out.length === 0 ? [''] : out
}

/** Control characters drawn visibly, so a newline or tab cannot hide text on the screen. */
export const visible = (s: string): string =>
  s.replace(/[\n\r\t\b\f]/g, (c) => ({ '\n': '⏎', '\r': '␍', '\t': '⇥', '\b': '␈', '\f': '␌' })[c] ?? c)

const utf8Bytes = (s: string): number => utf8ToBytes(s).length

export interface SignEventFields {
  account: number
  pubkey: string
  createdAt: number
  kind: number
  tags: string[][]
  content: string
  clientLabel?: string
}

/** Review of SIGN_EVENT; `id` is the event id the device computed from these fields. */
export function reviewSignEvent(f: SignEventFields, id: string): ReviewScreen {
  const first: ReviewLine[] = [{ label: 'Kind', value: kindLabel(f.kind) }]
  const d = f.tags.find((t) => t[0] === 'd')?.[1]
  if (f.kind === 30078 && d !== undefined) first.push({ label: 'App config for', value: d })
  else if (f.kind === 30000 && d !== undefined) first.push({ label: 'Follow set', value: d })
  first.push({ label: 'Signed by', value: npubEncode(f.pubkey) }, { label: 'Account', value: String(f.account) })
  if (f.clientLabel !== undefined) first.push({ label: 'Requested by (per computer)', value: visible(f.clientLabel) })
  const pages: ReviewPage[] = [
    { title: 'Sign event', lines: first },
    { title: 'Date', lines: [{ label: 'Created at', value: `${utcText(f.createdAt)} (${f.createdAt})` }] },
  ]
  const tagLines: ReviewLine[] = [{ label: 'Count', value: String(f.tags.length) }]
  for (const [i, t] of f.tags.entries())
    tagLines.push({ label: `Tag ${i + 1}`, value: t.map((x) => JSON.stringify(visible(x))).join(', ') })
  pages.push({ title: 'Tags', lines: tagLines })
  const parts = chunks(f.content, CONTENT_PAGE_CHARS)
  for (const [i, p] of parts.entries())
    pages.push({
      title: parts.length === 1 ? 'Content' : `Content (${i + 1}/${parts.length})`,
      lines: [
        ...(i === 0 ? [{ label: 'Length', value: `${utf8Bytes(f.content)} bytes` }] : []),
        { label: 'Text', value: visible(p) },
      ],
    })
  const code = compareCode(id)
  pages.push({
    title: 'Approve?',
    lines: [
      { label: 'Compare code', value: code },
      { label: 'Event id', value: id },
    ],
  })
  return { command: 'SIGN_EVENT', pages, compareCode: code }
}

export interface DelegationFields {
  account: number
  delegatee: string
  conditions: string
}

/** Review of SIGN_DELEGATION (only shown when the device policy accepted `parsed`). */
export function reviewDelegation(f: DelegationFields, parsed: ParsedDelegation): ReviewScreen {
  const code = compareCode(delegationHash(f.delegatee, f.conditions))
  const days = (parsed.until - parsed.from) / 86_400
  const kinds: ReviewLine =
    parsed.kinds.length === 0
      ? { label: 'Allowed kinds', value: 'ALL KINDS', warn: true }
      : { label: 'Allowed kinds', value: parsed.kinds.map(kindLabel).join(', ') }
  return {
    command: 'SIGN_DELEGATION',
    compareCode: code,
    pages: [
      {
        title: 'Delegate signing',
        lines: [
          { label: 'Delegate signing to', value: npubEncode(f.delegatee) },
          { label: 'Account', value: String(f.account) },
        ],
      },
      { title: 'Allowed kinds', lines: [kinds] },
      {
        title: 'Valid',
        lines: [
          { label: 'From', value: utcText(parsed.from) },
          { label: 'Until', value: utcText(parsed.until) },
          { label: 'Length', value: `${Number.isInteger(days) ? days : days.toFixed(2)} days` },
        ],
      },
      { title: 'Conditions', lines: [{ label: 'Raw', value: f.conditions }] },
      { title: 'Approve?', lines: [{ label: 'Compare code', value: code }] },
    ],
  }
}

export function reviewPublicKey(pubkey: string, account: number): ReviewScreen {
  return {
    command: 'GET_PUBLIC_KEY',
    pages: [
      {
        title: 'Matches your app?',
        lines: [
          { label: 'Account', value: String(account) },
          { label: 'npub', value: npubEncode(pubkey) },
        ],
      },
    ],
  }
}

export const NIP44_PREVIEW_CHARS = 120

export function reviewNip44Encrypt(peer: string, plaintext: string, account: number): ReviewScreen {
  const cps = [...plaintext]
  const preview = cps.slice(0, NIP44_PREVIEW_CHARS).join('') + (cps.length > NIP44_PREVIEW_CHARS ? '…' : '')
  return {
    command: 'NIP44_ENCRYPT',
    pages: [
      {
        title: 'Encrypt message',
        lines: [
          { label: 'To', value: npubEncode(peer) },
          { label: 'Account', value: String(account) },
          { label: 'Length', value: `${utf8Bytes(plaintext)} bytes` },
          { label: 'Preview', value: visible(preview) },
        ],
      },
    ],
  }
}

export function reviewNip44Decrypt(peer: string, account: number): ReviewScreen {
  return {
    command: 'NIP44_DECRYPT',
    pages: [
      {
        title: 'Reveal message to the computer?',
        lines: [
          { label: 'From', value: npubEncode(peer) },
          { label: 'Account', value: String(account) },
        ],
      },
    ],
  }
}
