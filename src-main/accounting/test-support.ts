// Test support for the accounting suites (not bundled into the app: only *.test.ts files import it). Opens a real
// ledger store in a temporary directory with the accounting migrations and procedures, and seeds the README
// scenario: one GTQ machine, the fleet fee config, a flow and a fixed LP with confirmed deposits.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { README_SPLITS } from '../../src-shared/money/readme-example'
import type { SplitInput } from '../../src-shared/money/settlement'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import { accountingMigrations, accountingProcedures } from './procedures'

export interface TestLedger {
  store: InProcessLedger
  dir: string
  reopen(): Promise<InProcessLedger>
  dispose(): Promise<void>
}

export async function openTestLedger(): Promise<TestLedger> {
  const dir = mkdtempSync(join(tmpdir(), 'acct-'))
  const open = () =>
    openLedgerInProcess({
      dir,
      migrations: accountingMigrations,
      procedures: new Map(Object.entries(accountingProcedures)),
      autoSnapshot: false,
    })
  const t: TestLedger = {
    store: await open(),
    dir,
    async reopen() {
      await t.store.close()
      t.store = await open()
      return t.store
    },
    async dispose() {
      await t.store.close().catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return t
}

/**
 * Awaits a ledger call that must be refused and answers what the refusal said: the procedure error's `code`, the
 * `field` it named and its message. A call that succeeds fails the test.
 */
export async function refusal(p: Promise<unknown>): Promise<{ code?: string; field?: string; message: string }> {
  const e = (await p.then(
    () => {
      throw new Error('expected a refusal')
    },
    (err: unknown) => err,
  )) as { details?: { field?: string }; code?: string; message: string }
  return { code: e.code, field: e.details?.field, message: e.message }
}

/** 2026-03-02 12:00:00 in Guatemala (18:00Z), the seeded scenario's "now". */
export const T0_MS = Date.UTC(2026, 2, 2, 18, 0, 0)

/** A 64-hex payment hash derived from a number, for readable tests. */
export function hashOf(n: number): string {
  return n.toString(16).padStart(64, '0')
}

/**
 * The README fleet fee config (docs/settlement.md) as `accounting.setConfig` arguments: cash-out 3 % platform + 2 %
 * operator, cash-in 1 % + 2 %, days counted in Guatemala. `splits` (e.g. README_SPLITS) is left out unless given,
 * so the operator fee goes to one split.
 */
export function readmeConfigArgs(
  atMs: number,
  o: { author?: string; splits?: readonly SplitInput[] } = {},
): Record<string, unknown> {
  return {
    machineId: null,
    effectiveFromMs: 0,
    atMs,
    cashOutPlatformPpm: 30_000,
    cashOutOperatorPpm: 20_000,
    cashInPlatformPpm: 10_000,
    cashInOperatorPpm: 20_000,
    ...(o.splits === undefined ? {} : { splits: o.splits }),
    timeZone: 'America/Guatemala',
    author: o.author ?? 'operator',
  }
}

/** What differs between the suites that seed the README fleet: times, lp-b's daily limit and the deposits. */
export interface ReadmeSeed {
  /** When the machine and the fee config were recorded. */
  configAtMs: number
  /** When the LPs and their deposits were recorded. */
  lpAtMs: number
  lpBDailyLimitMinor: string
  depositAMinor: string
  depositBMinor: string
}

/**
 * One GTQ machine `atm-1`, the README fee config with its owner/tech splits, a flow LP `lp-a` and a fixed LP
 * `lp-b`, each with one confirmed deposit (`d-a`, `d-b`).
 */
export async function seedReadmeFleet(store: LedgerStore, o: ReadmeSeed): Promise<void> {
  await store.call('accounting.upsertMachine', { id: 'atm-1', name: 'Lobby', currency: 'GTQ', atMs: o.configAtMs })
  await store.call('accounting.setConfig', readmeConfigArgs(o.configAtMs, { splits: README_SPLITS }))
  await store.call('accounting.upsertLp', { id: 'lp-a', name: 'Ana', currency: 'GTQ', mode: 'flow', atMs: o.lpAtMs })
  await store.call('accounting.upsertLp', {
    id: 'lp-b',
    name: 'Beto',
    currency: 'GTQ',
    mode: 'fixed',
    dailyLimitMinor: o.lpBDailyLimitMinor,
    atMs: o.lpAtMs,
  })
  for (const [id, lpId, amountMinor] of [
    ['d-a', 'lp-a', o.depositAMinor],
    ['d-b', 'lp-b', o.depositBMinor],
  ] as const) {
    await store.call('accounting.createDeposit', { id, lpId, amountMinor, atMs: o.lpAtMs })
    await store.call('accounting.confirmDeposit', { depositId: id, atMs: o.lpAtMs })
  }
}

/** The README scenario: configured the day before T0_MS, LPs with 9,000 and 1,000 GTQ (500 a day for lp-b). */
export function seedReadme(store: LedgerStore): Promise<void> {
  return seedReadmeFleet(store, {
    configAtMs: T0_MS - 86_400_000,
    lpAtMs: T0_MS,
    lpBDailyLimitMinor: '50000',
    depositAMinor: '900000',
    depositBMinor: '100000',
  })
}

/** The README cash-out as a verified record. */
export function readmeRecord(n: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    machineId: 'atm-1',
    direction: 'cash_out',
    paymentHash: hashOf(n),
    wireMsat: '266800000',
    fiatMinor: '200000',
    currency: 'GTQ',
    atmEventId: `ev-${n}`,
    createdAt: Math.floor(T0_MS / 1000),
    bookedAtMs: T0_MS + 1000,
    ...over,
  }
}
