// IPC shapes of the onboarding wizard (docs/onboarding.md): where a new operator stands in the first-run steps
// (kept by the main side, so a step left half-way is resumed in any window and after a restart), the live checks
// of a relay and of a wallet connection, the operator signer's state, and the default fees and commission split.
// Pure: imports only the schema helpers (the preload bundles this file).
import { array, boolean, int, object, oneOf, optional, string } from './schema'

/** The wizard's steps, in order. */
export const ONBOARDING_STEPS = ['signer', 'relays', 'wallet', 'fees', 'machine'] as const
export type OnboardingStep = (typeof ONBOARDING_STEPS)[number]

/** Fee fractions of one direction, in ppm (1,000,000 = 100 %). */
export interface DirectionFees {
  platformPpm: number
  operatorPpm: number
}

export interface OnboardingFees {
  cashOut: DirectionFees
  cashIn: DirectionFees
  /** The operator commission's recipients; weights sum to 1,000,000 (empty: all to the operator). */
  splits: { id: string; weightPpm: number }[]
}

/** The operator signer as the console sees it through its provider (device, remote bunker, demo software signer). */
export interface OnboardingSignerView {
  connected: boolean
  /** x-only hex and npub of the connected signer's key, or null. */
  pubkey: string | null
  npub: string | null
  /** One line for the operator: which signer this is, or why there is none. */
  description: string
  /** True when a signer is connected and its key is the pinned operator key. */
  matchesOperator: boolean
}

export interface OnboardingStatusView {
  /** The step to show (the one the operator was on). */
  step: OnboardingStep
  /** Steps the operator finished (saved or chose to skip). */
  done: OnboardingStep[]
  /** The operator closed the wizard ("set up later"); it opens again only from Settings. */
  dismissed: boolean
  /** The fleet and payout pipeline have all they need (`setup.status` misses nothing). */
  configured: boolean
  /** What `setup.status` still misses: `operator`, `operatorWallet`, `relays`, `secrets`. */
  missing: string[]
  signer: OnboardingSignerView
  /** The fees and split saved in the wizard, or null before that step. */
  fees: OnboardingFees | null
}

export interface RelayCheckView {
  url: string
  ok: boolean
  /** Time from opening the connection to the relay's end-of-stored-events answer. */
  latencyMs: number | null
  /** Why the check failed, in operator words. */
  error: string | null
}

export interface WalletCheckView {
  walletPubkey: string
  alias: string | null
  /** The NIP-47 methods the connection allows. */
  methods: string[]
  /** Decimal string. */
  balanceMsat: string
  /** Methods the console needs for payouts that the connection does not allow. */
  missingMethods: string[]
}

const ppm = int(0, 1_000_000)
const directionFees = object({ platformPpm: ppm, operatorPpm: ppm })

export const onboardingSaveInput = object({
  step: optional(oneOf(...ONBOARDING_STEPS)),
  done: optional(oneOf(...ONBOARDING_STEPS)),
  dismissed: optional(boolean()),
})
export const onboardingCheckRelayInput = object({ url: string({ min: 1, max: 300 }) })
export const onboardingCheckWalletInput = object({ nwcUri: string({ min: 1, max: 4000 }) })
export const onboardingFeesInput = object({
  cashOut: directionFees,
  cashIn: directionFees,
  splits: array(object({ id: string({ min: 1, max: 64 }), weightPpm: ppm }), { max: 10 }),
})
