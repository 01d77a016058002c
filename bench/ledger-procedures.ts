// Tables and procedures for the ledger benchmark (bench/ledger.bench.ts), bundled into the benchmark's
// worker only. A settlement-like transaction: one settlement row, four legs, four balance upserts.
import { defineMigration, defineProcedure } from '../src-main/ledger/define'

defineMigration({
  version: 900_101,
  name: 'ledgerbench',
  up: (db) =>
    db.run(`
      CREATE TABLE bench_settlement (id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, machine TEXT NOT NULL,
        wire_msat INTEGER NOT NULL, fiat_minor INTEGER NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE bench_leg (id INTEGER PRIMARY KEY,
        settlement_id INTEGER NOT NULL REFERENCES bench_settlement(id), kind TEXT NOT NULL,
        recipient TEXT NOT NULL, amount_msat INTEGER NOT NULL);
      CREATE INDEX bench_leg_by_settlement ON bench_leg (settlement_id);
      CREATE INDEX bench_leg_by_recipient ON bench_leg (recipient, id);
      CREATE TABLE bench_balance (recipient TEXT PRIMARY KEY, accrued_msat INTEGER NOT NULL);
    `),
})

/** Stores `rows` rows in one statement pair: rows/5 settlements and 4 legs each. */
defineProcedure('ledgerbench.bulk', (db, a: { rows: number }) => {
  const settlements = Math.max(1, Math.floor(a.rows / 5))
  db.run(
    `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
     INSERT INTO bench_settlement (id, ref, machine, wire_msat, fiat_minor, created_at)
     SELECT i, 'bulk-' || i, 'atm-' || (i % 17), 100000000 + i, 5000 + (i % 900), 1700000000 + i FROM c`,
    [settlements],
  )
  db.run(
    `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
     INSERT INTO bench_leg (settlement_id, kind, recipient, amount_msat)
     SELECT 1 + i / 4, CASE i % 4 WHEN 0 THEN 'platform' WHEN 1 THEN 'operator' ELSE 'lp' END,
            'npub-' || (i % 97), 1000 + i FROM c`,
    [settlements * 4 - 1],
  )
  return settlements * 5
})

defineProcedure('ledgerbench.settle', (db, a: { ref: string; wireMsat: bigint; createdAt: number }) => {
  const { lastInsertRowid: id } = db.run(
    'INSERT INTO bench_settlement (ref, machine, wire_msat, fiat_minor, created_at) VALUES (?, ?, ?, ?, ?)',
    [a.ref, 'atm-1', a.wireMsat, 5000, a.createdAt],
  )
  const quarter = a.wireMsat / 4n
  const legs: [string, string, bigint][] = [
    ['platform', 'npub-platform', quarter],
    ['operator', 'npub-operator', quarter],
    ['lp', 'npub-lp1', quarter],
    ['lp', 'npub-lp2', a.wireMsat - 3n * quarter],
  ]
  for (const [kind, who, msat] of legs) {
    db.run('INSERT INTO bench_leg (settlement_id, kind, recipient, amount_msat) VALUES (?, ?, ?, ?)', [
      id,
      kind,
      who,
      msat,
    ])
    db.run(
      `INSERT INTO bench_balance (recipient, accrued_msat) VALUES (?, ?)
       ON CONFLICT (recipient) DO UPDATE SET accrued_msat = accrued_msat + excluded.accrued_msat`,
      [who, msat],
    )
  }
  return id
})
