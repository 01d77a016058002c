// Ledger worker entry, built by electron-vite to out/main/ledger-worker.js (see electron.vite.config.ts) and
// started by `openLedger()` in worker-host.ts. It imports the registry first so every feature module's
// procedures and migrations are registered before the ledger opens and migrates.
import './registry'
import { runLedgerWorker } from './worker-main'

runLedgerWorker()
