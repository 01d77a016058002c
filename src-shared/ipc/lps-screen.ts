// IPC shapes the Liquidity providers screen adds to the LP lifecycle (`lps.*`, ./lps.ts): sending an LP its
// statement for any period as a NIP-17 DM from the console key, and editing an LP's name (and, while it has no
// deposits yet, its mode and daily limit), and checking a destination again without changing it. Pure TypeScript (only ./schema): the sandboxed
// preload bundles this file through contract.ts.
import { decimal, int, object, oneOf, optional, string } from './schema'

const ms = int(0, 8_640_000_000_000_000)
const lpId = string({ min: 1, max: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, patternName: 'an LP id' })

/** Mode and daily limit only while the LP is unused (`LpView.inUse` false); the currency and npub never change. */
export const lpUpdateInput = object({
  lpId,
  name: optional(string({ min: 1, max: 200 })),
  mode: optional(oneOf('flow', 'fixed')),
  dailyLimitMinor: optional(decimal(19)),
})

/** The period is half-open, [fromMs, toMs), like `lps.statement`. */
export const lpStatementSendInput = object({
  lpId,
  fromMs: ms,
  toMs: ms,
})

/** Runs the live check again on the LP's current destination and keeps the outcome as its health. */
export const lpCheckDestinationInput = object({ lpId })

export interface LpStatementSentView {
  /** The period as the message names it, in the operator's time zone ("2026-11-01 to 2026-11-30"). */
  period: string
  /** The LP's message relays that accepted it. */
  relays: string[]
  /** The message's id as the LP's client shows it. */
  rumorId: string | null
  sentAtMs: number
}
