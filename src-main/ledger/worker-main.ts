// The ledger worker's body (docs/architecture.md §2: the ledger runs off the main thread). It opens a LedgerCore in this
// thread and serves the request protocol of worker-host.ts. Every request is executed synchronously as soon
// as it arrives, so the order of commits is the order of messages; the reply is posted only after the
// journal covers the request (group commit: many requests can share one fsync). Procedures come from
// whatever the entry module imported before calling `runLedgerWorker` (see worker.ts and registry.ts).
import { parentPort, workerData } from 'node:worker_threads'
import { createLogger } from '../../src-shared/log'
import { LedgerCore, type LedgerOptions } from './core'
import { registeredProcedures } from './define'
import { LedgerInputError, serializeError } from './errors'
import type { Procedure } from './types'

/** Options that cross into the worker (functions cannot be cloned, so no logger/procedures/migrations). */
export type WorkerLedgerOptions = Omit<
  LedgerOptions,
  'logger' | 'procedures' | 'migrations' | 'commitHooks' | 'nowMs' | 'journalIo'
>

export interface WorkerRequest {
  id: number
  op: 'call' | 'transaction' | 'query' | 'page' | 'status' | 'snapshot' | 'bulkLoad' | 'close'
  args: unknown[]
}

export function runLedgerWorker(): void {
  const port = parentPort
  if (!port) throw new Error('runLedgerWorker must run in a worker thread')
  const opts = (workerData as { opts: WorkerLedgerOptions }).opts
  const logger = createLogger((record) => port.postMessage({ t: 'log', record }), 'ledger')
  LedgerCore.open({ ...opts, logger }).then(
    (core) => {
      core.onStatus((status) => port.postMessage({ t: 'status', status }))
      port.on('message', (m: WorkerRequest) => {
        serve(core, m).then(
          (value) => {
            try {
              port.postMessage({ t: 'res', id: m.id, ok: true, value })
            } catch (e) {
              port.postMessage({ t: 'res', id: m.id, ok: false, error: serializeError(e) })
            }
            if (m.op === 'close') port.close()
          },
          (e) => port.postMessage({ t: 'res', id: m.id, ok: false, error: serializeError(e) }),
        )
      })
      port.postMessage({ t: 'ready', status: core.status() })
    },
    (e) => {
      port.postMessage({ t: 'openFailed', error: serializeError(e) })
      port.close()
    },
  )
}

async function serve(core: LedgerCore, m: WorkerRequest): Promise<unknown> {
  const a = m.args
  switch (m.op) {
    case 'call': {
      const r = core.call(a[0] as string, a[1])
      await core.waitDurable(r.seq)
      return r.result
    }
    case 'transaction': {
      const r = core.transaction(a[0] as never)
      await core.waitDurable(r.seq)
      return r.result
    }
    case 'query': {
      const rows = core.query(a[0] as string, a[1] as never, a[2] as never)
      await core.waitDurable()
      return rows
    }
    case 'page': {
      const p = core.page(a[0] as string, a[1] as never, a[2] as never)
      await core.waitDurable()
      return p
    }
    case 'status':
      return core.status()
    case 'snapshot':
      return core.snapshot()
    case 'bulkLoad': {
      const fn: Procedure | undefined = registeredProcedures().get(a[0] as string)
      if (!fn) throw new LedgerInputError(`no procedure named ${JSON.stringify(a[0])}`, 'procedure')
      return core.bulkLoad(a[0] as string, (tx) => fn(tx, a[1]))
    }
    case 'close':
      return core.close()
    default:
      throw new LedgerInputError(`unknown operation ${String(m.op)}`, 'op')
  }
}
