// The list of feature modules whose procedures and migrations the ledger runs. The ledger worker imports this
// file, so every procedure a service may `call()` must be reachable from here. To add a module, add one
// side-effect import line below (e.g. `import '../accounting/procedures'`); that module registers itself with
// `defineProcedure` / `defineMigration` from `./define`. Keep `./define` first so the registry exists before
// any feature module evaluates.
export { defineMigration, defineProcedure, registeredMigrations, registeredProcedures } from './define'

// Feature modules (one line each, keep sorted):
import '../accounting/procedures'
import '../audit/register'
import '../fleet/procedures'
import '../fleet/store'
import '../fleet/wallet-revocations'
import '../lp-service/procedures'
import '../lps/register'
import '../notices/procedures'
import '../payouts/procedures'
import '../payouts/waiting'
import '../receipts/procedures'
import '../recipients/register'
import '../reconcile/procedures'
import '../settlements/schema'
