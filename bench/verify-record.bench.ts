// Focused bench for the acceptance pipeline alone (src-shared/nostr/verify-record.ts): no relay, no wallet round
// trip, no ledger. It isolates what `pureVerifyRecordPerSec_noWalletNoLedger` of bench/fleet.bench.ts measures
// (about five minutes to run) so the cost of the signature checks can be compared quickly: the default pure-JS
// (@noble/curves) verifier against the relay pool's WASM verifier with the delegation-token memo.
import { hexToBytes } from '@noble/hashes/utils.js'
import { expect, it } from 'vitest'
import { quote } from '../src-main/atm-sim/simulator'
import { wasmVerifier } from '../src-main/nostr/event-verifier'
import { createSoftwareSigner } from '../src-main/signer/software-signer'
import { nowSec, systemClock } from '../src-shared/clock'
import { type AtmRecordV1, createAtmRecord } from '../src-shared/nostr/atm-record'
import type { NostrEvent } from '../src-shared/nostr/event'
import { parseMachineConfigEvent } from '../src-shared/nostr/machine-config'
import { DelegationTokenMemo } from '../src-shared/nostr/nip26'
import { createPairing } from '../src-shared/nostr/pairing'
import { parseRosterEvent } from '../src-shared/nostr/roster'
import { type InvoiceLookup, type VerifyRecordContext, verifyRecord } from '../src-shared/nostr/verify-record'
import { FEES, LIMITS } from '../test/support/fleet-harness'
import { LightningNetwork } from '../test/support/lightning'
import { recordBench, round } from './lib'

const N = Number(process.env.VERIFY_RECORD_BENCH_RECORDS ?? 2000)

/** The variants measured; each gets the same events and the same context apart from `extra`. */
async function variants(): Promise<{ name: string; extra: () => Partial<VerifyRecordContext> }[]> {
  const wasm = await wasmVerifier()
  // One memo for the whole run, as the fleet service keeps one for its lifetime.
  const memo = new DelegationTokenMemo()
  const nobleMemo = new DelegationTokenMemo()
  return [
    { name: 'default_nobleNoMemo', extra: () => ({}) },
    { name: 'noble_withDelegationMemo', extra: () => ({ delegationMemo: nobleMemo }) },
    { name: 'wasm_noMemo', extra: () => ({ verifySignature: wasm.verifySchnorr }) },
    { name: 'wasm_withDelegationMemo', extra: () => ({ verifySignature: wasm.verifySchnorr, delegationMemo: memo }) },
  ]
}

it(`verifyRecord alone: ${N} records`, async () => {
  const createdBase = nowSec(systemClock) - 3600
  let simNowSec = createdBase
  const net = new LightningNetwork({ nowSec: () => simNowSec })
  const opWallet = net.createWallet('operator', 0n)
  const customer = net.createWallet('customer', 10n ** 18n)
  const operator = createSoftwareSigner(hexToBytes('5a'.repeat(32)))
  const operatorPubkey = await operator.getPublicKey()
  const consoleSigner = createSoftwareSigner(hexToBytes('6b'.repeat(32)))
  const consolePubkey = await consoleSigner.getPublicKey()
  const atm = createSoftwareSigner(hexToBytes('7c'.repeat(32)))
  const atmPubkey = await atm.getPublicKey()
  const pairing = await createPairing(
    {
      atmNpubOrHex: atmPubkey,
      operatorPubkey,
      consolePubkey,
      relays: ['ws://127.0.0.1:1'],
      machineId: 'atm-bench-01',
      name: 'Bench ATM',
      currency: 'EUR',
      fees: FEES,
      discountPpm: 0,
      limits: LIMITS,
      currentMembers: [],
    },
    operator,
    { nowMs: () => (createdBase - 2 * 3600) * 1000 },
  )
  const rate = 5_000_000n
  const events: NostrEvent[] = []
  for (let i = 0; i < N; i++) {
    const createdAt = createdBase + Math.floor(i / 4)
    const fiat = 2_000n + BigInt(i % 500)
    const q = quote('cash_out', fiat, rate, FEES.cash_out, 0)
    simNowSec = createdAt - 1
    const inv = opWallet.makeInvoice(q.wireMsat, { description: `bench ${i}` })
    customer.payInvoice(inv.invoice!)
    const record: AtmRecordV1 = {
      v: 1,
      txId: `bench-${i}`,
      machineId: 'atm-bench-01',
      direction: 'cash_out',
      status: 'completed',
      fiatMinor: fiat,
      fiatDispensedMinor: fiat,
      currency: 'EUR',
      wireMsat: q.wireMsat,
      principalMsat: q.principalMsat,
      feeMsat: q.feeMsat,
      paymentHash: inv.paymentHash,
      bolt11: inv.invoice!,
      feePpm: 60_000,
      discountPpm: 0,
      rateMinorPerBtc: rate,
      startedAt: createdAt - 3,
      paidAt: createdAt - 2,
      finishedAt: createdAt - 1,
    }
    events.push(await createAtmRecord({ record, consolePubkey, delegation: pairing.delegation, createdAt }, atm))
  }
  const roster = parseRosterEvent(pairing.rosterEvent!, operatorPubkey)
  const config = parseMachineConfigEvent(pairing.configEvent, operatorPubkey)
  const lookups = new Map<string, InvoiceLookup>(
    opWallet.transactions.map((tx) => [
      tx.paymentHash,
      { found: true, settled: true, amountMsat: tx.amountMsat, preimage: tx.preimage, settledAt: tx.settledAtSec },
    ]),
  )
  const base = (): VerifyRecordContext => ({
    operatorPubkey,
    consolePubkey,
    nowSec: nowSec(systemClock),
    rosters: [roster],
    isEventKnown: () => false,
    decrypt: (s, p) => consoleSigner.nip44Decrypt(s, p),
    machineConfig: () => config,
    lookupInvoice: async (h) => lookups.get(h) ?? { found: false },
    isBooked: () => null,
    bookedVersionOf: () => null,
  })

  const data: Record<string, number | string> = {
    records: N,
    note: 'verifyRecord only (id, signature, roster, NIP-26 token, NIP-44 decrypt, schema, lookup from a map)',
  }
  for (const v of await variants()) {
    // Warm-up so JIT and first-use costs do not count against the first variant.
    for (const e of events.slice(0, 50)) await verifyRecord(e, { ...base(), ...v.extra() })
    const extra = v.extra()
    const t = performance.now()
    for (const e of events) {
      const r = await verifyRecord(e, { ...base(), ...extra })
      expect(r.ok).toBe(true)
    }
    data[`${v.name}_recordsPerSec`] = round(N / ((performance.now() - t) / 1000), 1)
  }
  console.log('[verify-record bench]', data)
  recordBench('verify-record', data)
})
