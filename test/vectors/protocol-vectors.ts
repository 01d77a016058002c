// Generates the test vectors embedded in docs/protocol.md §12: every event is signed with fixed keys, zero BIP-340
// aux randomness and counter NIP-44 nonces, so the output is reproducible byte for byte. The vectors test checks
// the doc's blocks equal this output and re-verifies them; `UPDATE_VECTORS=1 npx vitest run test/vectors` rewrites
// the blocks after a deliberate protocol change.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { createAtmRecord, serializeAtmRecordContent } from '../../src-shared/nostr/atm-record'
import { publicKeyHex } from '../../src-shared/nostr/event'
import { buildMachineConfigTemplate } from '../../src-shared/nostr/machine-config'
import { delegationString } from '../../src-shared/nostr/nip26'
import { encodePairingUri } from '../../src-shared/nostr/pairing'
import { buildReceiptTemplate } from '../../src-shared/nostr/receipt'
import { buildRosterTemplate } from '../../src-shared/nostr/roster'
import {
  ATM_SK,
  baseConfig,
  baseRecord,
  CONSOLE_SK,
  DAY,
  delegate,
  keys,
  OPERATOR_SK,
  PAYMENT_HASH,
  PREIMAGE,
  signers,
  T0,
} from '../support/fleet-fixture'

export type Vectors = Record<string, unknown>

/**
 * The record vector's amounts agree with its rate and fees (docs/protocol.md §5.7): 10.50 EUR at 53,000.00 EUR/BTC
 * is a principal of floor(1,050 · 10^11 / 5,300,000) = 19,811,320 msat; with feePpm 60,000 the wire amount is
 * 21,000,000 msat, and §5.7 gives back P = 19,811,320 and C = 1,188,680.
 */
const VECTOR_AMOUNTS = {
  fiatMinor: 1_050n,
  fiatDispensedMinor: 1_050n,
  wireMsat: 21_000_000n,
  principalMsat: 19_811_320n,
  feeMsat: 1_188_680n,
  rateMinorPerBtc: 5_300_000n,
}
/** The revoked record names its own payment (it must not share the booked record's hash). */
const LATE_PREIMAGE = 'b2'.repeat(32)
const LATE_PAYMENT_HASH = bytesToHex(sha256(hexToBytes(LATE_PREIMAGE)))
/** A valid curve point for the pairing vector's NWC wallet key (public key of the test secret 07…07). */
const NWC_WALLET_PUBKEY = publicKeyHex(hexToBytes('07'.repeat(32)))

export async function generateVectors(): Promise<Vectors> {
  const s = signers(true)
  const createdAfter = T0 - 10 * DAY - 300
  const createdBefore = createdAfter + 90 * DAY
  const delegation = await delegate(s.operator, keys.atmPk, createdAfter, createdBefore)
  const roster = await s.operator.signEvent(buildRosterTemplate([keys.atmPk], T0 - 10 * DAY))
  const config = await s.operator.signEvent(buildMachineConfigTemplate(baseConfig(), T0 - 10 * DAY))
  const record = baseRecord(VECTOR_AMOUNTS)
  const recordEvent = await createAtmRecord(
    { record, consolePubkey: keys.consolePk, delegation, createdAt: T0 - 60 },
    s.atm,
  )
  const receipt = await s.console.signEvent(
    buildReceiptTemplate(
      {
        recordEventId: recordEvent.id,
        operatorPubkey: keys.operatorPk,
        atmPubkey: keys.atmPk,
        paymentHash: PAYMENT_HASH,
        preimage: PREIMAGE,
        amountMsat: record.wireMsat,
      },
      T0,
    ),
  )
  const revocation = await s.operator.signEvent(buildRosterTemplate([], T0 + DAY))
  const lateRecord = await createAtmRecord(
    {
      record: baseRecord({
        ...VECTOR_AMOUNTS,
        txId: 'tx-000043',
        paymentHash: LATE_PAYMENT_HASH,
        startedAt: T0 + DAY,
        paidAt: T0 + DAY + 60,
        finishedAt: T0 + DAY + 90,
      }),
      consolePubkey: keys.consolePk,
      delegation,
      createdAt: T0 + DAY + 100,
    },
    s.atm,
  )
  const pairingUri = encodePairingUri({
    v: 1,
    atmPubkey: keys.atmPk,
    operatorPubkey: keys.operatorPk,
    consolePubkey: keys.consolePk,
    machineId: record.machineId,
    conditions: delegation.conditions,
    token: delegation.token,
    relays: baseConfig().relays,
    configEventId: config.id,
    nwcUri: `nostr+walletconnect://${NWC_WALLET_PUBKEY}?relay=wss%3A%2F%2Frelay.example.org&secret=${'9'.repeat(64)}`,
    nwcCashInUri: `nostr+walletconnect://${NWC_WALLET_PUBKEY}?relay=wss%3A%2F%2Frelay.example.org&secret=${'8'.repeat(64)}`,
    currency: baseConfig().currency,
    expiresAt: T0 - 10 * DAY + 24 * 3600,
  })
  return {
    keys: {
      operator: { secretKey: OPERATOR_SK, publicKey: keys.operatorPk },
      console: { secretKey: CONSOLE_SK, publicKey: keys.consolePk },
      atm: { secretKey: ATM_SK, publicKey: keys.atmPk },
    },
    delegation: {
      delegator: keys.operatorPk,
      delegatee: keys.atmPk,
      conditions: delegation.conditions,
      delegationString: delegationString(keys.atmPk, delegation.conditions),
      token: delegation.token,
      tag: ['delegation', delegation.delegatorPubkey, delegation.conditions, delegation.token],
    },
    roster: roster,
    'machine-config': config,
    'atm-record': {
      consoleNowSec: T0,
      event: recordEvent,
      plaintext: serializeAtmRecordContent(record),
      lookupInvoice: {
        paymentHash: PAYMENT_HASH,
        settled: true,
        amountMsat: record.wireMsat.toString(),
        preimage: PREIMAGE,
        settledAt: T0 - 120,
        type: 'incoming',
      },
      expect: 'book',
    },
    receipt,
    'roster-revocation': revocation,
    'atm-record-after-revocation': {
      consoleNowSec: T0 + DAY + 200,
      event: lateRecord,
      expect: 'revoked',
    },
    'pairing-uri': { uri: pairingUri, parseAtSec: T0 - 10 * DAY + 60 },
  }
}
