// The audit module's ledger parts, for src-main/ledger/registry.ts: the log's migration, commit hook and check
// (log.ts), the incremental check against a start-up checkpoint (incremental.ts) and the quarter-close procedures
// (period.ts).
import './incremental'
import './log'
import './period'
