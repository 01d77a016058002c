// One-shot relay query over the relay pool (NIP-01 REQ … EOSE): collects the verified events the given relays
// hold for the filters, and resolves once every relay has sent EOSE (all pages) or the deadline passes. Used to
// read a receipt back by id after publishing it, and to look up an LP's kind 10050 DM-relay list.
import type { Filter, PoolSubscription, SubscriptionSpec, VerifiedEvent } from '../nostr/relay-pool'

/** The part of the relay pool a query needs. */
export interface QueryPool {
  subscribe(spec: SubscriptionSpec): PoolSubscription
}

export interface QueryResult {
  /** Verified events, each once, in arrival order. */
  events: VerifiedEvent[]
  /** Relay (normalised URL) of each event's first copy, by event id. */
  foundOn: Map<string, string[]>
  /** Relays that reached EOSE before the deadline. */
  caughtUp: string[]
  timedOut: boolean
}

export async function queryOnce(
  pool: QueryPool,
  filters: Filter[],
  opts: { relays: readonly string[]; timeoutMs: number; stopWhen?: (events: VerifiedEvent[]) => boolean },
): Promise<QueryResult> {
  if (opts.relays.length === 0) throw new TypeError('relays must not be empty')
  const events: VerifiedEvent[] = []
  const foundOn = new Map<string, string[]>()
  const caughtUp = new Set<string>()
  return new Promise<QueryResult>((resolve, reject) => {
    let sub: PoolSubscription | undefined
    let done = false
    const finish = (timedOut: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      sub?.close()
      resolve({ events, foundOn, caughtUp: [...caughtUp], timedOut })
    }
    const timer = setTimeout(() => finish(true), opts.timeoutMs)
    try {
      sub = pool.subscribe({
        filters,
        relays: opts.relays,
        onEvent: (ev, ctx) => {
          const where = foundOn.get(ev.id)
          if (where) {
            if (!where.includes(ctx.relay)) where.push(ctx.relay)
            return
          }
          foundOn.set(ev.id, [ctx.relay])
          events.push(ev)
          if (opts.stopWhen?.(events)) queueMicrotask(() => finish(false))
        },
        onCaughtUp: (relay) => {
          caughtUp.add(relay)
          if (caughtUp.size >= opts.relays.length) queueMicrotask(() => finish(false))
        },
      })
    } catch (e) {
      clearTimeout(timer)
      done = true
      reject(e)
    }
  })
}
