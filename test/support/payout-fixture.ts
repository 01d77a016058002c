// Shared set-up for the payout suites (fault tests, crash harness, bench): the accounting seed the payouts are
// planned from, recipient payout policies, and a DestinationResolver that asks each recipient's simulated wallet
// for an invoice over NIP-47 make_invoice (the recipient's own NWC connection, through the real relay and the
// real @getalby/sdk wallet service). Nothing here is mocked except the Lightning network (test/support/lightning).

import { seedReadmeFleet } from '../../src-main/accounting/test-support'
import type { LedgerStore } from '../../src-main/ledger/types'
import type {
  DestinationResolver,
  PayoutRecipient,
  ResolvedDestination,
} from '../../src-main/payouts/destinations/types'
import { NwcClient } from '../../src-main/wallet/nwc-client'
import type { Clock } from '../../src-shared/clock'

/** The recipients the seeded fee config and LPs produce (docs/settlement.md): platform fee, two splits, two LPs. */
export const SEEDED_RECIPIENTS: ReadonlyArray<{ kind: 'platform' | 'split' | 'lp'; id: string }> = [
  { kind: 'platform', id: 'platform' },
  { kind: 'split', id: 'owner' },
  { kind: 'split', id: 'tech' },
  { kind: 'lp', id: 'lp-a' },
  { kind: 'lp', id: 'lp-b' },
]

export const recipientKey = (r: { kind: string; id: string }) => `${r.kind}:${r.id}`

/** One machine, a fee config with two commission splits, a flow LP and a fixed LP with large confirmed deposits. */
export function seedAccounting(store: LedgerStore, atMs: number): Promise<void> {
  return seedReadmeFleet(store, {
    configAtMs: atMs,
    lpAtMs: atMs,
    lpBDailyLimitMinor: '100000000000',
    depositAMinor: '1000000000000',
    depositBMinor: '1000000000000',
  })
}

/** A verified cash-out record number `n` (distinct payment hash, odd msat amount so sub-sat remainders occur). */
export function cashOutRecord(n: number, atMs: number, wireMsat?: bigint): Record<string, unknown> {
  const wire = wireMsat ?? 1_000_000n + BigInt((n * 7919) % 4_000_000) * 7n + 3n
  return {
    machineId: 'atm-1',
    direction: 'cash_out',
    paymentHash: (n + 1).toString(16).padStart(64, '0'),
    wireMsat: wire.toString(),
    fiatMinor: '1000',
    currency: 'GTQ',
    atmEventId: `ev-${n}`,
    createdAt: Math.floor(atMs / 1000),
    bookedAtMs: atMs,
  }
}

/** Sets every seeded recipient's payout policy. */
export async function setPolicies(
  store: LedgerStore,
  atMs: number,
  p: { thresholdMsat?: bigint; minIntervalMs?: number; maxFeeBaseMsat?: bigint; maxFeePpm?: number } = {},
  recipients: ReadonlyArray<{ kind: string; id: string }> = SEEDED_RECIPIENTS,
): Promise<void> {
  for (const r of recipients) {
    await store.call('payouts.setRecipient', {
      recipientKind: r.kind,
      recipientId: r.id,
      thresholdMsat: p.thresholdMsat ?? 1000n,
      minIntervalMs: p.minIntervalMs ?? 0,
      maxFeeBaseMsat: p.maxFeeBaseMsat ?? 10_000n,
      maxFeePpm: p.maxFeePpm ?? 5_000,
      destination: { kind: 'nwc', test: recipientKey(r) },
      atMs,
    })
  }
}

/**
 * A resolver that creates the invoice on the recipient's own simulated wallet through its NWC connection
 * (make_invoice). `uris` maps `kind:id` to the recipient's connection URI.
 */
export function walletInvoiceResolver(
  uris: Record<string, string>,
  opts: { clock?: Clock; expirySec?: number } = {},
): DestinationResolver & { close(): void; calls: number } {
  const clients = new Map<string, NwcClient>()
  const r = {
    calls: 0,
    async resolveInvoice(recipient: PayoutRecipient, amountMsat: bigint): Promise<ResolvedDestination> {
      r.calls++
      const key = `${recipient.recipientKind}:${recipient.recipientId}`
      const uri = uris[key]
      if (!uri) throw new Error(`no destination for ${key}`)
      let c = clients.get(key)
      if (!c) {
        c = new NwcClient({
          connection: uri,
          replyTimeoutMs: 10_000,
          ...(opts.clock ? { clock: opts.clock } : {}),
        })
        clients.set(key, c)
      }
      const tx = await c.makeInvoice({ amountMsat, description: `payout ${key}`, expirySec: opts.expirySec ?? 3600 })
      return { kind: 'invoice', bolt11: tx.invoice!, paymentHash: tx.paymentHash, amountMsat }
    },
    close() {
      for (const c of clients.values()) c.close()
      clients.clear()
    },
  }
  return r
}
