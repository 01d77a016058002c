// The project README's worked example (docs/settlement.md), in one place for the tests, the benchmarks and the test
// ledgers that seed it: a GTQ cash-out of 266,800 sats for 2,000.00 GTQ at a 3 % platform fee and a 2 % operator
// fee split 70/30 between the owner and a technician, drawn from a flow LP (9,000.00 GTQ) and a fixed LP
// (1,000.00 GTQ, 500.00 GTQ a day). Every pinned number in the tests derives from these inputs.
import type { SettlementInput, SplitInput } from './settlement'

/** The operator commission split of the README fleet config: owner 70 %, technician 30 %. */
export const README_SPLITS: readonly SplitInput[] = [
  { id: 'owner', weightPpm: 700_000 },
  { id: 'tech', weightPpm: 300_000 },
]

/** The README cash-out as engine input. */
export const README_CASH_OUT: SettlementInput = {
  direction: 'cash_out',
  wireMsat: 266_800_000n,
  fiatMinor: 200_000n,
  fiatRequestedMinor: 200_000n,
  currency: 'GTQ',
  platformPpm: 30_000,
  operatorPpm: 20_000,
  discountPpm: 0,
  splits: README_SPLITS,
  lps: [
    { id: 'lp-a', mode: 'flow', remainingMinor: 900_000n },
    { id: 'lp-b', mode: 'fixed', remainingMinor: 100_000n, dailyLimitMinor: 50_000n, usedTodayMinor: 0n },
  ],
}
