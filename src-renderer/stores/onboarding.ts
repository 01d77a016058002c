// Onboarding store: the first-run wizard's state (docs/onboarding.md). Where the operator stands is kept by the
// main side (`onboarding.status` / `onboarding.save`), so leaving a step and coming back — in another window or
// after a restart — resumes it. The live checks (a relay, a wallet connection) and the default fees go through
// their own methods; the operator key, the relays and the wallet are saved by the same methods the Settings
// screen uses (`setup.setOperator`, `settings.set`, `setup.setOperatorWallet`). A wallet URI is only ever sent.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type {
  OnboardingFees,
  OnboardingStatusView,
  OnboardingStep,
  RelayCheckView,
  WalletCheckView,
} from '../../src-shared/ipc/onboarding'
import { ONBOARDING_STEPS } from '../../src-shared/ipc/onboarding'
import { api, fieldReason, toApiError } from '../api'

export type { OnboardingFees, OnboardingStatusView, OnboardingStep, RelayCheckView, WalletCheckView }
export { ONBOARDING_STEPS }

export const STEP_LABELS: Record<OnboardingStep, string> = {
  signer: 'Signer',
  relays: 'Relays',
  wallet: 'Operator wallet',
  fees: 'Fees and splits',
  machine: 'First machine',
}

/** A refusal shown under the field it names (the main side's argument path without `args[0].`), or for the step. */
export interface StepError {
  field: string | null
  message: string
}

export const useOnboardingStore = defineStore('onboarding', () => {
  const status = ref<OnboardingStatusView | null>(null)
  const loadError = ref<string | null>(null)
  const busy = ref<string | null>(null)
  const error = ref<StepError | null>(null)

  async function load(): Promise<OnboardingStatusView | null> {
    try {
      status.value = await api()['onboarding.status']()
      loadError.value = null
    } catch (e) {
      loadError.value = toApiError(e).message
    }
    return status.value
  }

  /** Runs one action; a refusal lands in `error` (by field) and the action answers null. */
  async function run<T>(what: string, call: () => Promise<T>): Promise<T | null> {
    busy.value = what
    error.value = null
    try {
      return await call()
    } catch (e) {
      const err = toApiError(e)
      const field = err.field?.replace(/^args\[0\]\.?/, '') || null
      error.value = { field, message: err.field ? fieldReason(err) : err.message }
      return null
    } finally {
      busy.value = null
    }
  }

  async function save(change: { step?: OnboardingStep; done?: OnboardingStep; dismissed?: boolean }) {
    const s = await run('save', () => api()['onboarding.save'](change))
    if (s) status.value = s
    return s
  }

  /** Marks `step` done and moves to the next one (or stays on the last). */
  async function finish(step: OnboardingStep) {
    const i = ONBOARDING_STEPS.indexOf(step)
    return save({ done: step, step: ONBOARDING_STEPS[Math.min(i + 1, ONBOARDING_STEPS.length - 1)] })
  }

  const checkRelay = (url: string) => run(`relay:${url}`, () => api()['onboarding.checkRelay']({ url }))
  const checkWallet = (nwcUri: string) => run('wallet', () => api()['onboarding.checkWallet']({ nwcUri }))

  async function setFees(fees: OnboardingFees) {
    const s = await run('fees', () => api()['onboarding.setFees'](fees))
    if (s) status.value = s
    return s
  }

  async function pinOperator(operatorNpub: string) {
    const r = await run('operator', () => api()['setup.setOperator']({ operatorNpub }))
    if (r) await load()
    return r
  }

  async function saveRelays(relays: string[]) {
    const r = await run('relays', () => api()['settings.set']({ relays }))
    if (r) await load()
    return r
  }

  async function saveWallet(nwcUri: string) {
    const r = await run('saveWallet', () => api()['setup.setOperatorWallet']({ nwcUri }))
    if (r) await load()
    return r
  }

  /**
   * After the first machine is paired: its own fee configuration (signed at pairing) reaches the ledger through the
   * fleet service, and it carries no commission split. Once the machine is listed with its configuration, the
   * split chosen in the wizard is applied to every configuration in force (`recipients.setSplitWeights`, a logged
   * config change). Answers what happened, in operator words.
   */
  async function applySplitToMachine(atmPubkey: string, timeoutMs = 30_000): Promise<string | null> {
    const splits = status.value?.fees?.splits ?? []
    if (splits.length === 0) return null
    busy.value = 'split'
    // Looks again on each `fleet.changed` push (the configuration arriving is one), subscribed before the first
    // look so a push during a look is not missed; no polling.
    let pushes = 0
    let wake: (() => void) | null = null
    const off = api().on('fleet.changed', () => {
      pushes++
      wake?.()
    })
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const seen = pushes
        const machines = await api()['fleet.machines']()
        if (machines.some((m) => m.atmPubkey === atmPubkey && m.configEventId !== null)) break
        if (Date.now() > deadline)
          return 'The machine’s configuration has not arrived yet; set the split later under Settings → Recipients.'
        if (pushes === seen)
          await new Promise<void>((r) => {
            wake = r
            timer = setTimeout(r, Math.max(0, deadline - Date.now()) + 1)
          })
        clearTimeout(timer)
        wake = null
      }
      await api()['recipients.setSplitWeights']({ splits, note: 'commission split chosen in the first-run wizard' })
      return 'Your commission split applies to this machine.'
    } catch (e) {
      return `The commission split could not be applied: ${toApiError(e).message}`
    } finally {
      off()
      clearTimeout(timer)
      busy.value = null
    }
  }

  return {
    applySplitToMachine,
    status,
    loadError,
    busy,
    error,
    load,
    save,
    finish,
    checkRelay,
    checkWallet,
    setFees,
    pinOperator,
    saveRelays,
    saveWallet,
  }
})
