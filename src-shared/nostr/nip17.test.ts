// NIP-17 / NIP-59 unit tests: layers, timestamps, every unwrap check, and interop with nostr-tools' own nip17
// implementation in both directions (their unwrap opens our wraps; our unwrap opens theirs).

import * as toolsNip17 from 'nostr-tools/nip17'
import * as nip44 from 'nostr-tools/nip44'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { checkEvent, computeEventId, signTemplateWithKey } from './event'
import {
  GiftWrapError,
  giftWrapSeal,
  KIND_GIFT_WRAP,
  KIND_SEAL,
  parseDmRelayList,
  randomPastTimestamp,
  TIMESTAMP_WINDOW_SEC,
  unwrapGiftWrap,
  wrapDirectMessage,
} from './nip17'

const NOW = 1_800_000_000

function party() {
  const sk = generateSecretKey()
  return { sk, pk: getPublicKey(sk), signer: createSoftwareSigner(sk) }
}

async function reason(p: Promise<unknown>): Promise<GiftWrapError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(GiftWrapError)
    return e as GiftWrapError
  }
  throw new Error('expected a GiftWrapError')
}

describe('wrapDirectMessage', () => {
  it('builds rumor → seal (sender-signed, no tags) → wrap (one-time key, p tag) with past timestamps', async () => {
    const console_ = party()
    const lp = party()
    const { rumor, wraps } = await wrapDirectMessage(
      console_.signer,
      [lp.pk],
      { content: 'Paid 1,000 sats', subject: 'Payout' },
      {
        nowSec: NOW,
      },
    )
    expect(rumor).toMatchObject({ kind: 14, pubkey: console_.pk, created_at: NOW, content: 'Paid 1,000 sats' })
    expect(rumor.tags).toEqual([
      ['p', lp.pk],
      ['subject', 'Payout'],
    ])
    expect(rumor).not.toHaveProperty('sig')
    expect(wraps).toHaveLength(1)
    const wrap = wraps[0]!.wrap
    expect(checkEvent(wrap).ok).toBe(true)
    expect(wrap.kind).toBe(KIND_GIFT_WRAP)
    expect(wrap.tags).toEqual([['p', lp.pk]])
    expect(wrap.pubkey).not.toBe(console_.pk)
    expect(wrap.created_at).toBeLessThanOrEqual(NOW)
    expect(wrap.created_at).toBeGreaterThanOrEqual(NOW - TIMESTAMP_WINDOW_SEC)
    // Peel the wrap by hand to look at the seal.
    const seal = JSON.parse(nip44.decrypt(wrap.content, nip44.getConversationKey(lp.sk, wrap.pubkey)))
    expect(seal.kind).toBe(KIND_SEAL)
    expect(seal.pubkey).toBe(console_.pk)
    expect(seal.tags).toEqual([])
    expect(checkEvent(seal).ok).toBe(true)
    expect(seal.created_at).toBeLessThanOrEqual(NOW)
  })

  it('uses a different one-time key for every wrap, and adds the sender copy when asked', async () => {
    const s = party()
    const a = party()
    const b = party()
    const { wraps } = await wrapDirectMessage(
      s.signer,
      [a.pk, b.pk],
      { content: 'hi' },
      { nowSec: NOW, senderCopy: true },
    )
    expect(wraps.map((w) => w.recipientPubkey)).toEqual([a.pk, b.pk, s.pk])
    expect(new Set(wraps.map((w) => w.wrap.pubkey)).size).toBe(3)
    const own = await unwrapGiftWrap(wraps[2]!.wrap, s.signer)
    expect(own.rumor.tags.filter((t) => t[0] === 'p').map((t) => t[1])).toEqual([a.pk, b.pk])
  })

  it('puts a NIP-40 expiration on seal and wrap for a disappearing message', async () => {
    const s = party()
    const r = party()
    const { wraps } = await wrapDirectMessage(s.signer, [r.pk], { content: 'x', expiration: NOW + 60 }, { nowSec: NOW })
    expect(wraps[0]!.wrap.tags).toContainEqual(['expiration', String(NOW + 60)])
    const opened = await unwrapGiftWrap(wraps[0]!.wrap, r.signer)
    expect(opened.rumor.content).toBe('x')
  })

  it('refuses bad input naming the field', async () => {
    const s = party()
    expect((await reason(wrapDirectMessage(s.signer, [], { content: 'x' }, { nowSec: NOW }))).field).toBe('recipients')
    expect((await reason(wrapDirectMessage(s.signer, ['ab'], { content: 'x' }, { nowSec: NOW }))).field).toBe(
      'recipients[0]',
    )
    expect((await reason(wrapDirectMessage(s.signer, [s.pk], { content: '' }, { nowSec: NOW }))).field).toBe('content')
  })
})

describe('unwrapGiftWrap', () => {
  it('opens for the recipient and refuses everyone else', async () => {
    const s = party()
    const r = party()
    const stranger = party()
    const { wraps, rumor } = await wrapDirectMessage(s.signer, [r.pk], { content: 'secret' }, { nowSec: NOW })
    const got = await unwrapGiftWrap(wraps[0]!.wrap, r.signer)
    expect(got.rumor).toEqual(rumor)
    expect(got.senderPubkey).toBe(s.pk)
    expect((await reason(unwrapGiftWrap(wraps[0]!.wrap, stranger.signer))).reason).toBe('not_for_us')
    // Even pretending to be addressed, the stranger cannot decrypt it.
    const readdressed = signTemplateWithKey({ ...wraps[0]!.wrap, tags: [['p', stranger.pk]] }, generateSecretKey())
    expect((await reason(unwrapGiftWrap(readdressed, stranger.signer))).reason).toBe('decrypt_failed')
  })

  it('rejects a tampered wrap, a seal signed by someone other than the rumor author, and a bad rumor id', async () => {
    const s = party()
    const r = party()
    const mallory = party()
    const { wraps } = await wrapDirectMessage(s.signer, [r.pk], { content: 'x' }, { nowSec: NOW })
    const tampered = { ...wraps[0]!.wrap, content: `${wraps[0]!.wrap.content.slice(0, -4)}AAAA` }
    expect((await reason(unwrapGiftWrap(tampered, r.signer))).reason).toBe('bad_wrap')

    // Mallory seals a rumor that claims to be from s.
    const rumor = { pubkey: s.pk, created_at: NOW, kind: 14, tags: [['p', r.pk]], content: 'pay me' }
    const fullRumor = { id: computeEventId(rumor), ...rumor }
    const seal = signTemplateWithKey(
      {
        kind: KIND_SEAL,
        created_at: NOW,
        tags: [],
        content: await mallory.signer.nip44Encrypt(r.pk, JSON.stringify(fullRumor)),
      },
      mallory.sk,
    )
    const forged = giftWrapSeal(seal, r.pk, { nowSec: NOW })
    const e = await reason(unwrapGiftWrap(forged, r.signer))
    expect(e.reason).toBe('impersonation')

    // A rumor whose id does not match its fields.
    const badRumor = { ...fullRumor, pubkey: mallory.pk, content: 'changed' }
    const seal2 = signTemplateWithKey(
      {
        kind: KIND_SEAL,
        created_at: NOW,
        tags: [],
        content: await mallory.signer.nip44Encrypt(r.pk, JSON.stringify(badRumor)),
      },
      mallory.sk,
    )
    expect((await reason(unwrapGiftWrap(giftWrapSeal(seal2, r.pk, { nowSec: NOW }), r.signer))).reason).toBe(
      'bad_rumor',
    )

    // A seal with tags.
    const seal3 = signTemplateWithKey(
      {
        kind: KIND_SEAL,
        created_at: NOW,
        tags: [['p', r.pk]],
        content: await s.signer.nip44Encrypt(r.pk, JSON.stringify(fullRumor)),
      },
      s.sk,
    )
    const e3 = await reason(unwrapGiftWrap(giftWrapSeal(seal3, r.pk, { nowSec: NOW }), r.signer))
    expect(e3).toMatchObject({ reason: 'bad_seal', field: 'seal.tags' })
  })

  it('refuses a non-gift-wrap kind', async () => {
    const r = party()
    const ev = signTemplateWithKey({ kind: 1, created_at: NOW, tags: [['p', r.pk]], content: 'x' }, r.sk)
    expect((await reason(unwrapGiftWrap(ev, r.signer))).reason).toBe('not_a_gift_wrap')
  })
})

describe('interop with nostr-tools nip17', () => {
  it('nostr-tools opens our wraps, and we open theirs', async () => {
    const s = party()
    const r = party()
    const { wraps } = await wrapDirectMessage(s.signer, [r.pk], { content: 'from us' }, { nowSec: NOW })
    const theirView = toolsNip17.unwrapEvent(wraps[0]!.wrap, r.sk)
    expect(theirView.content).toBe('from us')
    expect(theirView.pubkey).toBe(s.pk)

    const theirs = toolsNip17.wrapEvent(s.sk, { publicKey: r.pk }, 'from them', 'Subj')
    const ours = await unwrapGiftWrap(theirs, r.signer)
    expect(ours.rumor.content).toBe('from them')
    expect(ours.senderPubkey).toBe(s.pk)
    expect(ours.rumor.tags).toContainEqual(['subject', 'Subj'])
  })
})

describe('randomPastTimestamp and parseDmRelayList', () => {
  it('stays inside the window, covers both ends, and rejects bad input', () => {
    let counter = 0
    const bytes = (n: number) => {
      const out = new Uint8Array(n)
      const v = counter++
      out[n - 1] = v & 0xff
      out[n - 2] = (v >> 8) & 0xff
      return out
    }
    const seen = new Set<number>()
    for (let i = 0; i < 20; i++) seen.add(randomPastTimestamp(NOW, bytes, 9))
    expect([...seen].every((t) => t <= NOW && t >= NOW - 9)).toBe(true)
    expect(seen.has(NOW)).toBe(true)
    expect(seen.has(NOW - 9)).toBe(true)
    expect(() => randomPastTimestamp(-1)).toThrow(/nowSec/)
  })

  it('reads relay tags of a 10050 list', () => {
    const k = party()
    const ev = signTemplateWithKey(
      {
        kind: 10050,
        created_at: NOW,
        tags: [
          ['relay', 'wss://a.example'],
          ['relay', 'wss://a.example'],
          ['relay', 'http://nope'],
          ['r', 'wss://b.example'],
          ['relay', 'ws://127.0.0.1:7000'],
        ],
        content: '',
      },
      k.sk,
    )
    expect(parseDmRelayList(ev)).toEqual(['wss://a.example', 'ws://127.0.0.1:7000'])
    expect(() => parseDmRelayList({ ...ev, kind: 10002 })).toThrow(GiftWrapError)
  })
})
