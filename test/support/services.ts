// The app's services (src-main/services.ts) as the headless runtime runs them, for the cross-module suites:
// runtime 'node', a fresh app log, no renderer (events dropped unless `emit` is given) and the ledger in-process in
// `dataDir` unless `openLedger` is given. Resolves once the ledger is ready, so a test starts on an open store.
import { createAppLog } from '../../src-main/app-log'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { createServices, type Services, type ServicesOptions } from '../../src-main/services'

export async function startNodeServices(o: Partial<ServicesOptions> & { dataDir: string }): Promise<Services> {
  const services = await createServices({
    runtime: 'node',
    appLog: createAppLog(),
    emit: () => {},
    openLedger: ({ dir, log }) => openLedgerInProcess({ dir, logger: log }),
    ...o,
  })
  await services.ledgerReady
  return services
}
