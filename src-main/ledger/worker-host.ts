// openLedger(): the LedgerStore services use in the app (docs/architecture.md §2-6). The ledger runs in a worker_threads
// Worker so sql.js work and snapshot exports never block the Electron main thread. Requests are numbered
// messages; replies arrive only after the worker's journal fsync covers them. Worker logs are re-emitted on
// the caller's logger, and status changes are pushed to `onStatus` listeners.
//
// Where the worker code comes from: in the built app, `out/main/ledger-worker.js` beside the main bundle
// (the default below resolves it from this module's URL once bundled). From TypeScript sources (vitest),
// pass `workerUrl` from `buildLedgerWorker()` in test-support.ts, which bundles the entry on the fly.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createLogger, type Logger, type LogRecord } from '../../src-shared/log'
import { LedgerStateError, reviveLedgerError, type SerializedError } from './errors'
import type { LedgerStatus, LedgerStore, Page, Row, SqlParams, TxStep } from './types'
import type { WorkerLedgerOptions, WorkerRequest } from './worker-main'

export interface OpenLedgerOptions extends WorkerLedgerOptions {
  logger?: Logger
  /** The bundled worker entry. Default: `./ledger-worker.js` next to the bundle this code is in. */
  workerUrl?: URL | string
}

type WorkerMessage =
  | { t: 'res'; id: number; ok: true; value: unknown }
  | { t: 'res'; id: number; ok: false; error: SerializedError }
  | { t: 'log'; record: LogRecord }
  | { t: 'status'; status: LedgerStatus }
  | { t: 'ready'; status: LedgerStatus }
  | { t: 'openFailed'; error: SerializedError }

/**
 * The built worker beside the main bundle: `out/main/ledger-worker.js`. This module may land in the entry file
 * (out/main/index.js) or in a shared chunk one directory down (out/main/chunks/…), so both are tried.
 */
export function defaultWorkerUrl(): URL {
  const candidates = [new URL('./ledger-worker.js', import.meta.url), new URL('../ledger-worker.js', import.meta.url)]
  return candidates.find((u) => u.protocol === 'file:' && existsSync(fileURLToPath(u))) ?? candidates[0]!
}

/** Starts the ledger worker on `opts.dir` and resolves once it has recovered, migrated and is ready. */
export function openLedger(opts: OpenLedgerOptions): Promise<LedgerStore> {
  const { logger, workerUrl, ...workerOpts } = opts
  const log = logger ?? createLogger(() => {}, 'ledger')
  // Worker takes a URL object or a path; a file: URL given as a string must become a URL object.
  const url =
    typeof workerUrl === 'string' && workerUrl.startsWith('file:')
      ? new URL(workerUrl)
      : (workerUrl ?? defaultWorkerUrl())
  const worker = new Worker(url, { workerData: { opts: workerOpts } })
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const listeners = new Set<(s: LedgerStatus) => void>()
  let nextId = 1
  let last: LedgerStatus = {
    state: 'opening',
    dir: opts.dir,
    schemaVersion: 0,
    seq: 0,
    journalBytes: 0,
    snapshotSeq: 0,
    lastSnapshotAtMs: null,
  }
  let dead: Error | null = null

  const publish = (s: LedgerStatus) => {
    last = s
    for (const l of listeners) l(s)
  }
  const request = <T>(op: WorkerRequest['op'], ...args: unknown[]): Promise<T> => {
    if (dead) return Promise.reject(dead)
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      try {
        worker.postMessage({ id, op, args } satisfies WorkerRequest)
      } catch (e) {
        pending.delete(id)
        reject(e as Error)
      }
    })
  }

  const store: LedgerStore = {
    call: <R>(procedure: string, args?: unknown) => request<R>('call', procedure, args),
    transaction: (steps: readonly TxStep[]) => request<{ changes: number[] }>('transaction', steps),
    query: <T extends Row = Row>(sql: string, params?: SqlParams, o?: { bigint?: boolean }) =>
      request<T[]>('query', sql, params, o),
    page: <T extends Row = Row>(
      sql: string,
      params: SqlParams,
      o: { limit: number; after?: string; key: string; bigint?: boolean; desc?: boolean },
    ) => request<Page<T>>('page', sql, params, o),
    status: () => (dead ? Promise.resolve(last) : request<LedgerStatus>('status')),
    onStatus: (cb) => {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
    snapshot: () => request<void>('snapshot'),
    bulkLoad: <R>(procedure: string, args?: unknown) => request<R>('bulkLoad', procedure, args),
    close: async () => {
      if (dead) return
      await request<void>('close')
      dead = new LedgerStateError('ledger is closed')
      await worker.terminate()
      publish({ ...last, state: 'closed' })
    },
  }

  return new Promise<LedgerStore>((resolveOpen, rejectOpen) => {
    let opened = false
    worker.on('message', (m: WorkerMessage) => {
      switch (m.t) {
        case 'res': {
          const p = pending.get(m.id)
          if (!p) return
          pending.delete(m.id)
          if (m.ok) p.resolve(m.value)
          else p.reject(reviveLedgerError(m.error))
          return
        }
        case 'log': {
          const r = m.record
          const l = r.scope.startsWith('ledger.') ? log.child(r.scope.slice('ledger.'.length)) : log
          l[r.level](r.msg, r.fields)
          return
        }
        case 'status':
          publish(m.status)
          return
        case 'ready':
          opened = true
          publish(m.status)
          resolveOpen(store)
          return
        case 'openFailed':
          dead = reviveLedgerError(m.error)
          rejectOpen(dead)
          return
      }
    })
    const die = (e: Error) => {
      if (!dead) {
        dead = e
        log.error('ledger worker stopped', { reason: e.message })
        publish({ ...last, state: 'failed', error: e.message })
      }
      for (const p of pending.values()) p.reject(dead)
      pending.clear()
      if (!opened) rejectOpen(dead)
    }
    worker.on('error', (e) => die(e))
    worker.on('exit', (code) => die(new LedgerStateError(`ledger worker exited with code ${code}`)))
  })
}
