// Procedures and a migration used only by the ledger's own worker tests and the crash test; bundled into the
// test worker by test-support.ts, never into the app. Migration versions sit far above real ones so they
// never clash with feature modules registered in registry.ts.
import { defineMigration, defineProcedure } from './define'

defineMigration({
  version: 900_001,
  name: 'ledgertest',
  up: (db) =>
    db.run(`
      CREATE TABLE ledgertest_tx (n INTEGER PRIMARY KEY, wire_msat INTEGER NOT NULL);
      CREATE TABLE ledgertest_leg (n INTEGER NOT NULL REFERENCES ledgertest_tx(n), part INTEGER NOT NULL,
        amount_msat INTEGER NOT NULL, PRIMARY KEY (n, part));
    `),
})

class TestRefusal extends Error {
  override name = 'TestRefusal'
  readonly code = 'E_TEST'
  constructor(readonly field: string) {
    super(`refused at ${field}`)
  }
}

/** Books transaction `n`: one header row and three legs that must always appear together. */
defineProcedure('ledgertest.book', (db, a: { n: number; wireMsat: bigint; fail?: boolean }) => {
  db.run('INSERT INTO ledgertest_tx (n, wire_msat) VALUES (?, ?)', [a.n, a.wireMsat])
  const third = a.wireMsat / 3n
  const parts = [third, third, a.wireMsat - 2n * third]
  parts.forEach((m, i) => {
    db.run('INSERT INTO ledgertest_leg (n, part, amount_msat) VALUES (?, ?, ?)', [a.n, i, m])
  })
  if (a.fail) throw new TestRefusal('args.fail')
  return { n: a.n, parts }
})

defineProcedure('ledgertest.bulk', (db, a: { rows: number }) => {
  for (let n = 1; n <= a.rows; n++) {
    db.run('INSERT INTO ledgertest_tx (n, wire_msat) VALUES (?, ?)', [-n, BigInt(n) * 1000n])
  }
  return a.rows
})
