// Test support for the accounting suites (not bundled into the app: only *.test.ts files import it). Opens a real
// ledger store in a temporary directory with the accounting migrations and procedures, and seeds the README
// scenario: one GTQ machine, the fleet fee config, a flow and a fixed LP with confirmed deposits.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
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

/** 2026-03-02 12:00:00 in Guatemala (18:00Z), the seeded scenario's "now". */
export const T0_MS = Date.UTC(2026, 2, 2, 18, 0, 0)

/** A 64-hex payment hash derived from a number, for readable tests. */
export function hashOf(n: number): string {
  return n.toString(16).padStart(64, '0')
}

export async function seedReadme(store: InProcessLedger): Promise<void> {
  await store.call('accounting.upsertMachine', {
    id: 'atm-1',
    name: 'Lobby',
    currency: 'GTQ',
    atMs: T0_MS - 86_400_000,
  })
  await store.call('accounting.setConfig', {
    machineId: null,
    effectiveFromMs: 0,
    atMs: T0_MS - 86_400_000,
    cashOutPlatformPpm: 30_000,
    cashOutOperatorPpm: 20_000,
    cashInPlatformPpm: 10_000,
    cashInOperatorPpm: 20_000,
    splits: [
      { id: 'owner', weightPpm: 700_000 },
      { id: 'tech', weightPpm: 300_000 },
    ],
    timeZone: 'America/Guatemala',
    author: 'operator',
  })
  await store.call('accounting.upsertLp', { id: 'lp-a', name: 'Ana', currency: 'GTQ', mode: 'flow', atMs: T0_MS })
  await store.call('accounting.upsertLp', {
    id: 'lp-b',
    name: 'Beto',
    currency: 'GTQ',
    mode: 'fixed',
    dailyLimitMinor: '50000',
    atMs: T0_MS,
  })
  for (const [id, lpId, amountMinor] of [
    ['d-a', 'lp-a', '900000'],
    ['d-b', 'lp-b', '100000'],
  ] as const) {
    await store.call('accounting.createDeposit', { id, lpId, amountMinor, atMs: T0_MS })
    await store.call('accounting.confirmDeposit', { depositId: id, atMs: T0_MS })
  }
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
