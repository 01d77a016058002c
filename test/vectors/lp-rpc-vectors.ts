// Generates the test vectors of docs/lp-rpc.md §8 from fixed keys, nonces and times: the NIP-44 conversation key,
// a getBalance and a getStatement request (kind 25079), a balance answer and a `replayed` refusal (kind 25080).
// Signatures use 32 zero bytes of BIP-340 aux randomness, so every byte is reproducible.
import { hexToBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { buildRequestTemplate, KIND_LP_RPC_RESPONSE } from '../../src-shared/lp-service/rpc'
import { publicKeyHex, signTemplateWithKey } from '../../src-shared/nostr/event'

export const LP_SK = '7f'.repeat(32)
export const CONSOLE_SK = '3c'.repeat(32)
export const CREATED_AT = 1_796_083_200 // 2026-12-01T00:00:00Z
const ZERO = new Uint8Array(32)

export function generateLpRpcVectors(): Record<string, unknown> {
  const lpSk = hexToBytes(LP_SK)
  const consoleSk = hexToBytes(CONSOLE_SK)
  const lpPk = publicKeyHex(lpSk)
  const consolePk = publicKeyHex(consoleSk)
  const conv = nip44.getConversationKey(lpSk, consolePk)
  const request = (nonceHex: string, body: { id: string; method: string; params: Record<string, unknown> }) => {
    const plaintext = JSON.stringify(body)
    const t = buildRequestTemplate(lpSk, consolePk, body, CREATED_AT, CREATED_AT + 60, { nonce: hexToBytes(nonceHex) })
    return { nonce: nonceHex, plaintext, event: signTemplateWithKey(t, lpSk, ZERO) }
  }
  const response = (nonceHex: string, requestId: string, body: unknown) => {
    const plaintext = JSON.stringify(body)
    const ev = signTemplateWithKey(
      {
        kind: KIND_LP_RPC_RESPONSE,
        created_at: CREATED_AT + 1,
        tags: [
          ['p', lpPk],
          ['e', requestId],
          ['expiration', String(CREATED_AT + 1 + 120)],
        ],
        content: nip44.encrypt(plaintext, nip44.getConversationKey(consoleSk, lpPk), hexToBytes(nonceHex)),
      },
      consoleSk,
      ZERO,
    )
    return { nonce: nonceHex, plaintext, event: ev }
  }
  const getBalance = request('01'.repeat(32), { id: 'req-1', method: 'getBalance', params: {} })
  const getStatement = request('02'.repeat(32), { id: 'req-2', method: 'getStatement', params: { period: '2026-Q4' } })
  const balance = response('03'.repeat(32), getBalance.event.id, {
    id: 'req-1',
    result: {
      lpId: 'lp-a',
      name: 'Ana',
      currency: 'GTQ',
      active: true,
      balanceMinor: '788500',
      pendingDepositsMinor: '0',
      accruedMsat: '148000456',
      earnedMsat: '298000456',
      paidMsat: '150000000',
      lastPayouts: [
        {
          payoutId: 'lp:lp-a:1',
          paidAtMs: 1_795_996_800_000,
          amountMsat: '150000000',
          paymentHash: 'cd'.repeat(32),
          receiptIds: ['e1'.repeat(32)],
        },
      ],
      asOfMs: (CREATED_AT + 1) * 1000,
    },
  })
  const replayed = response('04'.repeat(32), getBalance.event.id, {
    id: 'req-1',
    error: { code: 'replayed', message: 'replayed' },
  })
  return {
    keys: {
      lp: { secretKey: LP_SK, publicKey: lpPk },
      console: { secretKey: CONSOLE_SK, publicKey: consolePk },
      conversationKey: Buffer.from(conv).toString('hex'),
    },
    'request-get-balance': getBalance,
    'request-get-statement': getStatement,
    'response-balance': balance,
    'response-replayed': replayed,
  }
}
