// The relay pool's CursorStore (src-main/nostr/relay-pool.ts) backed by the ledger (`fleet_cursor`, written by the
// `fleet.setCursor` procedure), so a restarted console resumes each subscription where it stopped (NIP-01 `since`).
//
// Why a hold: the fleet service takes records off the pool's delivery path at once and verifies several in
// parallel (a lookup_invoice round trip each), so the pool may consider an event delivered before its outcome is
// in the ledger. A hold provider names the oldest created_at still in flight; the stored cursor never passes it,
// so after a crash the re-fetch (since = cursor − overlap) brings every unfinished record back.
import type { Clock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import type { LedgerStore } from '../ledger/types'
import type { CursorStore } from '../nostr/relay-pool'

export interface LedgerCursorStore extends CursorStore {
  /**
   * Installs the hold for cursor keys starting with `keyPrefix`: `hold()` returns the oldest created_at (seconds)
   * not yet final, or undefined when nothing is in flight. Returns an uninstall function.
   */
  setHold(keyPrefix: string, hold: () => number | undefined): () => void
}

export function createLedgerCursorStore(
  ledger: () => LedgerStore,
  opts: { clock: Clock; log?: Logger },
): LedgerCursorStore {
  const holds = new Map<string, () => number | undefined>()
  return {
    async get(key) {
      const rows = await ledger().query<{ created_at: number }>('SELECT created_at FROM fleet_cursor WHERE key = ?', [
        key,
      ])
      return rows[0]?.created_at
    },
    async set(key, createdAtSec) {
      let at = createdAtSec
      for (const [prefix, hold] of holds) {
        if (!key.startsWith(prefix)) continue
        const h = hold()
        // Strictly below the oldest unfinished record: `since` is inclusive, so cursor = h − 1 re-fetches it.
        if (h !== undefined && h - 1 < at) at = Math.max(0, h - 1)
      }
      await ledger().call('fleet.setCursor', { key, createdAt: at, atMs: opts.clock.nowMs() })
    },
    setHold(keyPrefix, hold) {
      holds.set(keyPrefix, hold)
      return () => {
        if (holds.get(keyPrefix) === hold) holds.delete(keyPrefix)
      }
    },
  }
}
