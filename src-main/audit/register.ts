// The audit module's ledger parts, for src-main/ledger/registry.ts: the log's migration, commit hook and check
// (log.ts) and the quarter-close procedures (period.ts).
import './log'
import './period'
