// Following the main side's live pushes (`fleet.changed`, `lps.changed`, `payouts.changed`, `worklist.changed`,
// `settlements.changed`; src-shared/ipc/live.ts) from a store: a screen that shows something subscribes while it is
// mounted, and the store reloads by itself, so no screen needs a Refresh button.
//
// Reloads are coalesced here too (the main side already coalesces its pushes): one reload in flight at a time, and
// pushes that land meanwhile queue exactly one more, because the reload already running may have read the ledger
// before their change. However many pushes arrive, a screen asks at most twice per burst.
import type { EventName } from '../../src-shared/ipc/contract'
import { api } from '../api'

/** Wraps `reload` so overlapping calls run it at most once more after the one in flight. */
export function coalescedReload(reload: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | null = null
  let queued = false
  const run = (): Promise<void> => {
    if (running) {
      queued = true
      return running
    }
    running = (async () => {
      try {
        await reload()
      } catch {
        // The store keeps its own error state; a failed reload must not end the following.
      } finally {
        running = null
        if (queued) {
          queued = false
          void run()
        }
      }
    })()
    return running
  }
  return run
}

/** Subscribes to `events` and runs `reload` (coalesced) on each; returns the unsubscribe of all of them. */
export function followPushes(events: readonly EventName[], reload: () => Promise<unknown>): () => void {
  const run = coalescedReload(reload)
  const offs = events.map((e) => api().on(e, () => void run()))
  return () => {
    for (const off of offs.splice(0)) off()
  }
}
