// NIP-17 private direct messages over NIP-59 gift wrap, pure (no I/O). Sending: an unsigned kind 14 "rumor" by the
// sender, NIP-44 v2 encrypted into a kind 13 "seal" signed by the sender THROUGH THE SIGNER (so the console key, or
// a hardware signer, never hands its secret to this code), then NIP-44 encrypted again into a kind 1059 "gift wrap"
// signed by a fresh one-time key that is forgotten right after. Seal and wrap carry created_at randomised up to two
// days into the past (NIP-59/NIP-17), so relays cannot correlate the message with the moment it was sent; only the
// rumor carries the true time. Receiving: every layer is checked (wrap signature and `p` tag, seal kind, signature
// and empty tags, rumor id, and rumor author = seal signer, which NIP-17 requires to stop impersonation).
//
// Why not nostr-tools' nip17/nip59 helpers: they take a raw secret key for the seal and the unwrap, which our Signer
// interface deliberately never exposes; their unwrap also skips the wrap signature and the rumor id. We use
// nostr-tools' NIP-44 primitives only for the one-time wrap key, which is ours by construction.
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import type { Signer } from '../signer'
import { signEventChecked } from '../signer'
import { checkEvent, computeEventId, type EventTemplate, isHex64, type NostrEvent, signTemplateWithKey } from './event'

export const KIND_SEAL = 13
export const KIND_PRIVATE_DM = 14
export const KIND_GIFT_WRAP = 1059
/** NIP-17 "DM relays" list: the relays a user wants to receive gift wraps on. */
export const KIND_DM_RELAYS = 10050
/** NIP-17: seal and wrap timestamps are drawn uniformly from [now − 2 days, now]. */
export const TIMESTAMP_WINDOW_SEC = 2 * 24 * 60 * 60
/** Refuse gift-wrap content beyond this many characters before decrypting (a DM is a few hundred bytes). */
export const MAX_WRAP_CONTENT_CHARS = 256 * 1024

/** An unsigned event that still has its id (NIP-59). Never published on its own. */
export interface Rumor {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
}

export interface DirectMessage {
  /** Plain-text body of the kind 14 rumor. */
  content: string
  /** NIP-17 `subject` tag (conversation title). */
  subject?: string
  /** NIP-40 expiration (unix seconds) put on seal and wrap, for disappearing messages. */
  expiration?: number
}

export interface WrapOptions {
  /** The true time of the message (rumor created_at), unix seconds. */
  nowSec: number
  /** Randomness source; defaults to crypto.getRandomValues through @noble/hashes. */
  randomBytes?: (n: number) => Uint8Array
}

export interface WrappedMessage {
  rumor: Rumor
  /** One gift wrap per recipient, in the order asked, then the sender's own copy when `senderCopy` is set. */
  wraps: Array<{ recipientPubkey: string; wrap: NostrEvent }>
}

export type GiftWrapErrorReason =
  | 'bad_input'
  | 'not_a_gift_wrap'
  | 'bad_wrap'
  | 'not_for_us'
  | 'decrypt_failed'
  | 'bad_seal'
  | 'bad_rumor'
  | 'impersonation'

/** Why a message could not be built or opened; `field` names the offending field or layer. */
export class GiftWrapError extends Error {
  override readonly name = 'GiftWrapError'
  constructor(
    readonly reason: GiftWrapErrorReason,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
  }
}

/** A uniformly random timestamp in [nowSec − windowSec, nowSec] (rejection sampling, so no modulo bias). */
export function randomPastTimestamp(
  nowSec: number,
  randomBytes: (n: number) => Uint8Array = nobleRandomBytes,
  windowSec = TIMESTAMP_WINDOW_SEC,
): number {
  if (!Number.isSafeInteger(nowSec) || nowSec < 0)
    throw new GiftWrapError('bad_input', 'nowSec', 'must be unix seconds')
  if (!Number.isSafeInteger(windowSec) || windowSec < 0 || windowSec >= 2 ** 32)
    throw new GiftWrapError('bad_input', 'windowSec', 'must be an integer 0..2^32-1')
  const span = windowSec + 1
  const limit = 2 ** 32 - (2 ** 32 % span)
  for (;;) {
    const b = randomBytes(4)
    const x = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
    if (x < limit) return Math.max(0, nowSec - (x % span))
  }
}

/** The kind 14 rumor: one `p` tag per recipient, then the optional `subject`. */
export function createDmRumor(
  senderPubkey: string,
  recipientPubkeys: readonly string[],
  message: DirectMessage,
  createdAt: number,
): Rumor {
  if (!isHex64(senderPubkey)) throw new GiftWrapError('bad_input', 'senderPubkey', 'must be 64 lowercase hex')
  if (recipientPubkeys.length === 0) throw new GiftWrapError('bad_input', 'recipients', 'at least one is required')
  recipientPubkeys.forEach((p, i) => {
    if (!isHex64(p)) throw new GiftWrapError('bad_input', `recipients[${i}]`, 'must be 64 lowercase hex')
  })
  if (typeof message.content !== 'string' || message.content.length === 0)
    throw new GiftWrapError('bad_input', 'content', 'must be a non-empty string')
  const tags = recipientPubkeys.map((p) => ['p', p])
  if (message.subject !== undefined) tags.push(['subject', message.subject])
  const unsigned = {
    pubkey: senderPubkey,
    created_at: createdAt,
    kind: KIND_PRIVATE_DM,
    tags,
    content: message.content,
  }
  return { id: computeEventId(unsigned), ...unsigned }
}

/**
 * Kind 13 seal of `rumor` for `recipientPubkey`: NIP-44 through the signer, signed through the signer, tags empty
 * (NIP-59) except an optional NIP-40 expiration for disappearing messages (NIP-17).
 */
export async function sealRumor(
  rumor: Rumor,
  sender: Signer,
  senderPubkey: string,
  recipientPubkey: string,
  opts: WrapOptions & { expiration?: number },
): Promise<NostrEvent> {
  if (rumor.pubkey !== senderPubkey)
    throw new GiftWrapError('bad_input', 'rumor.pubkey', 'a seal must be signed by the rumor author')
  const content = await sender.nip44Encrypt(recipientPubkey, JSON.stringify(rumor))
  const template: EventTemplate = {
    kind: KIND_SEAL,
    created_at: randomPastTimestamp(opts.nowSec, opts.randomBytes),
    tags: opts.expiration === undefined ? [] : [['expiration', String(opts.expiration)]],
    content,
  }
  return signEventChecked(sender, template, senderPubkey)
}

/** Kind 1059 gift wrap of `seal` for `recipientPubkey`, signed by a one-time key that is dropped on return. */
export function giftWrapSeal(
  seal: NostrEvent,
  recipientPubkey: string,
  opts: WrapOptions & { expiration?: number },
): NostrEvent {
  if (!isHex64(recipientPubkey)) throw new GiftWrapError('bad_input', 'recipientPubkey', 'must be 64 lowercase hex')
  const rnd = opts.randomBytes ?? nobleRandomBytes
  const oneTimeKey = rnd(32)
  try {
    const conv = nip44.getConversationKey(oneTimeKey, recipientPubkey)
    const tags = [['p', recipientPubkey]]
    if (opts.expiration !== undefined) tags.push(['expiration', String(opts.expiration)])
    return signTemplateWithKey(
      {
        kind: KIND_GIFT_WRAP,
        created_at: randomPastTimestamp(opts.nowSec, rnd),
        tags,
        content: nip44.encrypt(JSON.stringify(seal), conv, rnd(32)),
      },
      oneTimeKey,
      rnd(32),
    )
  } finally {
    oneTimeKey.fill(0)
  }
}

/**
 * Builds a NIP-17 message from the signer's key to every recipient: one rumor, sealed and wrapped separately per
 * recipient, plus (when `senderCopy`) one for the sender so its other clients can show what was sent.
 */
export async function wrapDirectMessage(
  sender: Signer,
  recipientPubkeys: readonly string[],
  message: DirectMessage,
  opts: WrapOptions & { senderCopy?: boolean },
): Promise<WrappedMessage> {
  const senderPubkey = await sender.getPublicKey()
  const rumor = createDmRumor(senderPubkey, recipientPubkeys, message, opts.nowSec)
  const targets = [...recipientPubkeys]
  if (opts.senderCopy && !targets.includes(senderPubkey)) targets.push(senderPubkey)
  const layerOpts = { ...opts, ...(message.expiration !== undefined ? { expiration: message.expiration } : {}) }
  const wraps: WrappedMessage['wraps'] = []
  for (const recipientPubkey of targets) {
    const seal = await sealRumor(rumor, sender, senderPubkey, recipientPubkey, layerOpts)
    wraps.push({ recipientPubkey, wrap: giftWrapSeal(seal, recipientPubkey, layerOpts) })
  }
  return { rumor, wraps }
}

export interface UnwrappedMessage {
  rumor: Rumor
  /** The real author (seal signer = rumor author, checked). */
  senderPubkey: string
  sealId: string
  wrapId: string
}

function parseJsonObject(text: string, reason: GiftWrapErrorReason, field: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new GiftWrapError(reason, field, 'decrypted content is not JSON')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new GiftWrapError(reason, field, 'decrypted content is not a JSON object')
  return v as Record<string, unknown>
}

function checkRumor(v: Record<string, unknown>): Rumor {
  const probe = { ...v, sig: '0'.repeat(128) }
  const check = checkEvent(probe)
  // The rumor has no signature, so only the shape and the id can be checked: a fake sig lets checkEvent do both
  // and we accept its verdict unless the only failure is the (fake) signature.
  if (!check.ok && check.reason !== 'bad_signature') throw new GiftWrapError('bad_rumor', 'rumor', check.detail)
  const r: Rumor = {
    id: v.id as string,
    pubkey: v.pubkey as string,
    created_at: v.created_at as number,
    kind: v.kind as number,
    tags: (v.tags as string[][]).map((t) => [...t]),
    content: v.content as string,
  }
  if (computeEventId(r) !== r.id) throw new GiftWrapError('bad_rumor', 'rumor.id', 'does not match its fields')
  return r
}

/**
 * Opens a gift wrap addressed to `receiver` and checks every layer. Throws GiftWrapError naming the layer; a
 * caller that reads many wraps logs the reason and moves on.
 */
export async function unwrapGiftWrap(
  wrap: unknown,
  receiver: Pick<Signer, 'nip44Decrypt' | 'getPublicKey'>,
): Promise<UnwrappedMessage> {
  const wrapCheck = checkEvent(wrap)
  if (!wrapCheck.ok) throw new GiftWrapError('bad_wrap', 'wrap', wrapCheck.detail)
  const w = wrap as NostrEvent
  if (w.kind !== KIND_GIFT_WRAP) throw new GiftWrapError('not_a_gift_wrap', 'wrap.kind', `must be ${KIND_GIFT_WRAP}`)
  const me = await receiver.getPublicKey()
  if (!w.tags.some((t) => t[0] === 'p' && t[1] === me))
    throw new GiftWrapError('not_for_us', 'wrap.tags.p', 'the wrap is not addressed to this key')
  if (w.content.length > MAX_WRAP_CONTENT_CHARS)
    throw new GiftWrapError('bad_wrap', 'wrap.content', `longer than ${MAX_WRAP_CONTENT_CHARS} characters`)
  let sealText: string
  try {
    sealText = await receiver.nip44Decrypt(w.pubkey, w.content)
  } catch (e) {
    throw new GiftWrapError('decrypt_failed', 'wrap.content', (e as Error).message)
  }
  const sealObj = parseJsonObject(sealText, 'bad_seal', 'seal')
  const sealCheck = checkEvent(sealObj)
  if (!sealCheck.ok) throw new GiftWrapError('bad_seal', 'seal', sealCheck.detail)
  const seal = sealObj as unknown as NostrEvent
  if (seal.kind !== KIND_SEAL) throw new GiftWrapError('bad_seal', 'seal.kind', `must be ${KIND_SEAL}`)
  if (seal.tags.some((t) => t[0] !== 'expiration'))
    throw new GiftWrapError('bad_seal', 'seal.tags', 'a seal carries no tags (NIP-59)')
  let rumorText: string
  try {
    rumorText = await receiver.nip44Decrypt(seal.pubkey, seal.content)
  } catch (e) {
    throw new GiftWrapError('decrypt_failed', 'seal.content', (e as Error).message)
  }
  const rumor = checkRumor(parseJsonObject(rumorText, 'bad_rumor', 'rumor'))
  if (rumor.pubkey !== seal.pubkey)
    throw new GiftWrapError('impersonation', 'rumor.pubkey', 'the rumor author is not the seal signer (NIP-17)')
  return { rumor, senderPubkey: seal.pubkey, sealId: seal.id, wrapId: w.id }
}

/** Relays of a kind 10050 DM-relay list (`relay` tags), deduplicated, ws/wss only, in order. */
export function parseDmRelayList(ev: NostrEvent): string[] {
  if (ev.kind !== KIND_DM_RELAYS) throw new GiftWrapError('bad_input', 'kind', `must be ${KIND_DM_RELAYS}`)
  const out: string[] = []
  for (const t of ev.tags) {
    if (t[0] !== 'relay' || typeof t[1] !== 'string') continue
    if (!/^wss?:\/\/[^\s]+$/.test(t[1]) || out.includes(t[1])) continue
    out.push(t[1])
  }
  return out
}
