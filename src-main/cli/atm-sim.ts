// `satmachine atm-sim`: a simulated ATM for people (docs/protocol.md §5, §10). It loads or creates its key file,
// prints its public key (to pair it in the console), and once given the pairing URI the console showed, sells:
// make_invoice on the operator's wallet over the receive-only NWC connection from the payload, the customer pays
// with `--pay-with <nostr+walletconnect URI>` (their own wallet), and the kind 30079 record is published.
// Exit codes: 0 all sales published, 1 a sale failed, 2 usage error. Thin shell over ../atm-sim/simulator.ts.
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { npubEncode } from 'nostr-tools/nip19'
import { createLogger, formatLogLine } from '../../src-shared/log'
import { publicKeyHex } from '../../src-shared/nostr/event'
import { parsePairingPayload } from '../../src-shared/nostr/pairing'
import {
  type AtmSimulator,
  createAtmSimulator,
  EXPECTED_OUTCOME,
  loadOrCreateAtmKey,
  SCENARIOS,
  type Scenario,
} from '../atm-sim/simulator'
import type { CliIo, Command } from '../cli'
import { NwcClient } from '../wallet/nwc-client'

export const ATM_SIM_USAGE = `usage: satmachine atm-sim --key FILE [--pair URI | --pair-file FILE] [options]

  --key FILE          the ATM's secret key (hex); created with mode 0600 if missing
  --pair URI          the satmachine-pair:?… URI the console showed (or --pair-file FILE holding it)
  --pay-with URI      the customer's wallet (nostr+walletconnect://…): pays cash-out invoices, issues cash-in ones
  --cash-in-nwc URI   the ATM's own pay connection for cash-in (budget set by the operator)
  --scenario NAME     one of: ${SCENARIOS.join(', ')} (default normal)
  --count N           sales to make (default 1)
  --fiat MINOR        fiat amount in minor units (default 2000)
  --rate MINOR        fiat minor units per BTC (default 5000000)

Without --pair it only prints the ATM's public key, to pair it in the console first.`

export async function runAtmSim(argv: string[], io: CliIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        key: { type: 'string' },
        pair: { type: 'string' },
        'pair-file': { type: 'string' },
        'pay-with': { type: 'string' },
        'cash-in-nwc': { type: 'string' },
        scenario: { type: 'string' },
        count: { type: 'string' },
        fiat: { type: 'string' },
        rate: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (e) {
    io.err(`satmachine atm-sim: ${(e as Error).message}`)
    return 2
  }
  if (values.help) {
    io.out(ATM_SIM_USAGE)
    return 0
  }
  const usage = (msg: string) => {
    io.err(`satmachine atm-sim: ${msg}`)
    io.err(ATM_SIM_USAGE)
    return 2
  }
  if (typeof values.key !== 'string') return usage('--key FILE is required')
  const scenario = (values.scenario ?? 'normal') as Scenario
  if (!(SCENARIOS as readonly string[]).includes(scenario)) return usage(`--scenario: unknown "${scenario}"`)
  const int = (v: unknown, dflt: bigint): bigint | null => {
    if (v === undefined) return dflt
    if (typeof v !== 'string' || !/^[1-9][0-9]{0,15}$/.test(v)) return null
    return BigInt(v)
  }
  const count = int(values.count, 1n)
  const fiat = int(values.fiat, 2_000n)
  const rate = int(values.rate, 5_000_000n)
  if (count === null || count > 100_000n) return usage('--count: a positive integer up to 100000')
  if (fiat === null) return usage('--fiat: a positive integer (minor units)')
  if (rate === null) return usage('--rate: a positive integer (minor units per BTC)')

  const { secretKey, created } = await loadOrCreateAtmKey(values.key)
  const pubkey = publicKeyHex(secretKey)
  io.out(`${created ? 'Created' : 'Loaded'} ATM key ${values.key}`)
  io.out(`ATM public key: ${npubEncode(pubkey)} (${pubkey})`)
  let uri = typeof values.pair === 'string' ? values.pair : undefined
  if (typeof values['pair-file'] === 'string') uri = (await readFile(values['pair-file'], 'utf8')).trim()
  if (uri === undefined) {
    io.out('Pair this key in the console, then run again with --pair URI.')
    return 0
  }
  const payWith = typeof values['pay-with'] === 'string' ? values['pay-with'] : undefined
  if (payWith === undefined && scenario !== 'duplicate')
    return usage('--pay-with URI (the customer wallet) is required')

  const log = createLogger((r) => io.err(formatLogLine(r)), 'atm-sim')
  let customerNwc: NwcClient | undefined
  let cashInNwc: NwcClient | undefined
  try {
    customerNwc = payWith ? new NwcClient({ connection: payWith, logger: log.child('customer') }) : undefined
    if (typeof values['cash-in-nwc'] === 'string')
      cashInNwc = new NwcClient({ connection: values['cash-in-nwc'], logger: log.child('cash-in') })
    parsePairingPayload(uri, { nowSec: Math.floor(Date.now() / 1000), expectAtmPubkey: pubkey })
  } catch (e) {
    customerNwc?.close()
    return usage((e as Error).message)
  }
  let sim: AtmSimulator | undefined
  try {
    sim = await createAtmSimulator({
      pairingUri: uri,
      atmSecretKey: secretKey,
      log,
      rateMinorPerBtc: rate,
      customer: {
        async payInvoice(invoice) {
          if (!customerNwc) throw new Error('--pay-with is required')
          const paid = await customerNwc.payInvoice(invoice)
          if (paid.proof.status !== 'verified') throw new Error(`customer payment not proven (${paid.proof.status})`)
        },
        async makeInvoice(amountMsat) {
          if (!customerNwc) throw new Error('--pay-with is required')
          const tx = await customerNwc.makeInvoice({ amountMsat, description: 'ATM cash-in' })
          if (tx.invoice === null) throw new Error('the customer wallet returned no invoice')
          return tx.invoice
        },
      },
      ...(cashInNwc ? { cashInWallet: { payInvoice: (invoice: string) => cashInNwc!.payInvoice(invoice) } } : {}),
    })
    const cfg = await sim.config()
    io.out(`Paired as machine ${cfg.machineId} (${cfg.name}), ${cfg.currency}; console ${sim.payload.consolePubkey}`)
    io.out(`Scenario ${scenario}: the console should answer ${EXPECTED_OUTCOME[scenario]}`)
    let failed = 0
    for (let i = 0n; i < count; i++) {
      const sale = await sim.sell({ scenario, fiatMinor: fiat })
      const relays = sale.published.map((r) => `${r.relay} ${r.outcome}${r.message ? ` (${r.message})` : ''}`)
      io.out(
        JSON.stringify({
          scenario,
          eventId: sale.event.id,
          txId: sale.record?.txId ?? null,
          paymentHash: sale.paymentHash,
          wireMsat: sale.record?.wireMsat.toString() ?? null,
          accepted: sale.accepted,
          relays,
        }),
      )
      if (!sale.accepted && scenario !== 'forged-signature') failed++
    }
    return failed === 0 ? 0 : 1
  } catch (e) {
    io.err(`satmachine atm-sim: ${(e as Error).message}`)
    return 1
  } finally {
    await sim?.close()
    customerNwc?.close()
    cashInNwc?.close()
  }
}

export const atmSimCommand: Command = {
  name: 'atm-sim',
  summary: 'a simulated ATM: pair with --pair URI, sell with --pay-with <customer NWC> (--help)',
  run: runAtmSim,
}
