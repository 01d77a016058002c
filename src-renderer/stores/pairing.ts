// Pairing store: adding an ATM (`fleet.pair`), renewing its delegation (`fleet.renew`), revoking it from the roster
// (`fleet.revoke`) and the delegations issued so far (`fleet.delegations`); shapes in src-shared/ipc/fleet-pairing.ts.
// The operator's signer signs on the main side; without one the main side answers `unavailable` and this store
// keeps that sentence so the view shows it instead of a form that cannot work.
//
// The one-shot payload (URI + QR) may carry the delegation and a receive-only NWC secret: it lives only in memory
// here, is shown once, and is dropped when the operator closes it. It is never written to storage or logged.
//
// Money and fees are typed as text and converted by string arithmetic: percent → integer ppm, major fiat units →
// decimal minor units. No floats touch them.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { type ConfigDifference, configDifferences } from '../../src-shared/fleet/config-words'
import { walletConnectionProblem } from '../../src-shared/fleet/wallet-connection'
import type { MachineConfigView, WalletRevocationView } from '../../src-shared/ipc/fleet-machine'
import type { DelegationView, FleetPairView, FleetRenewView, FleetRevokeView } from '../../src-shared/ipc/fleet-pairing'
import { currencyExponent, isCurrency } from '../../src-shared/money/iso4217'
import { type ApiError, api, fieldReason, toApiError } from '../api'
import { followPushes } from './follow'

export type { DelegationView, FleetPairView, FleetRenewView, FleetRevokeView }

/** The pairing form as typed: every field is text, keyed by the main side's argument path. */
export interface PairForm {
  atm: string
  machineId: string
  name: string
  currency: string
  'fees.cash_out.platformPpm': string
  'fees.cash_out.operatorPpm': string
  'fees.cash_in.platformPpm': string
  'fees.cash_in.operatorPpm': string
  discountPpm: string
  'limits.cash_out.minFiatMinor': string
  'limits.cash_out.maxFiatMinor': string
  'limits.cash_in.minFiatMinor': string
  'limits.cash_in.maxFiatMinor': string
  windowDays: string
  nwcReceiveOnlyUri: string
  nwcCashInUri: string
}
export type PairField = keyof PairForm

export function emptyPairForm(): PairForm {
  return {
    atm: '',
    machineId: '',
    name: '',
    currency: 'EUR',
    'fees.cash_out.platformPpm': '0',
    'fees.cash_out.operatorPpm': '5',
    'fees.cash_in.platformPpm': '0',
    'fees.cash_in.operatorPpm': '5',
    discountPpm: '0',
    'limits.cash_out.minFiatMinor': '20',
    'limits.cash_out.maxFiatMinor': '1000',
    'limits.cash_in.minFiatMinor': '5',
    'limits.cash_in.maxFiatMinor': '1000',
    windowDays: '90',
    nwcReceiveOnlyUri: '',
    nwcCashInUri: '',
  }
}

/** The form's labels, used to name a field in an error line. */
export const PAIR_LABELS: Record<PairField, string> = {
  atm: 'ATM public key',
  machineId: 'Machine id',
  name: 'Name',
  currency: 'Currency',
  'fees.cash_out.platformPpm': 'Cash-out platform fee',
  'fees.cash_out.operatorPpm': 'Cash-out operator fee',
  'fees.cash_in.platformPpm': 'Cash-in platform fee',
  'fees.cash_in.operatorPpm': 'Cash-in operator fee',
  discountPpm: 'Discount',
  'limits.cash_out.minFiatMinor': 'Cash-out minimum',
  'limits.cash_out.maxFiatMinor': 'Cash-out maximum',
  'limits.cash_in.minFiatMinor': 'Cash-in minimum',
  'limits.cash_in.maxFiatMinor': 'Cash-in maximum',
  windowDays: 'Delegation window',
  nwcReceiveOnlyUri: 'Receive-only wallet',
  nwcCashInUri: 'Cash-in wallet',
}

const PERCENT_FIELDS: PairField[] = [
  'fees.cash_out.platformPpm',
  'fees.cash_out.operatorPpm',
  'fees.cash_in.platformPpm',
  'fees.cash_in.operatorPpm',
  'discountPpm',
]
const LIMIT_FIELDS: PairField[] = [
  'limits.cash_out.minFiatMinor',
  'limits.cash_out.maxFiatMinor',
  'limits.cash_in.minFiatMinor',
  'limits.cash_in.maxFiatMinor',
]

export class FormFieldError extends Error {
  constructor(
    readonly field: PairField,
    message: string,
  ) {
    super(message)
    this.name = 'FormFieldError'
  }
}

/** "1.5" (percent, up to 4 decimals) → 15000 ppm, by string arithmetic. */
export function percentToPpm(text: string, field: PairField): number {
  const m = /^(\d{1,3})(?:[.,](\d{1,4}))?$/.exec(text.trim())
  if (!m?.[1]) throw new FormFieldError(field, 'Must be a percentage such as 5 or 1.25 (up to 4 decimals).')
  const ppm = Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'))
  if (ppm > 1_000_000) throw new FormFieldError(field, 'Must be at most 100%.')
  return ppm
}

/** "1,000.50" in major units of `currency` → "100050" minor units, by string arithmetic. */
export function majorToMinor(text: string, currency: string, field: PairField): string {
  const e = isCurrency(currency) ? currencyExponent(currency) : 2
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(text.trim().replace(/,/g, ''))
  if (!m?.[1]) throw new FormFieldError(field, `Must be an amount in ${currency || 'the currency'}, such as 500.`)
  const frac = m[2] ?? ''
  if (frac.length > e)
    throw new FormFieldError(field, e === 0 ? `${currency} has no decimals.` : `At most ${e} decimals.`)
  return BigInt(m[1] + frac.padEnd(e, '0')).toString()
}

/** Builds `fleet.pair`'s argument from the typed form; throws FormFieldError naming the first bad field. */
export function pairInput(f: PairForm) {
  const currency = f.currency.trim().toUpperCase()
  const ppm = Object.fromEntries(PERCENT_FIELDS.map((k) => [k, percentToPpm(f[k], k)])) as Record<PairField, number>
  const minor = Object.fromEntries(LIMIT_FIELDS.map((k) => [k, majorToMinor(f[k], currency, k)])) as Record<
    PairField,
    string
  >
  const windowText = f.windowDays.trim()
  if (windowText !== '' && !/^\d{1,3}$/.test(windowText))
    throw new FormFieldError('windowDays', 'Must be a whole number of days.')
  const nwc = f.nwcReceiveOnlyUri.trim()
  const nwcPay = f.nwcCashInUri.trim()
  // The same whole-URI check the main side runs, so a connection the ATM cannot use is named before sending.
  for (const [field, uri] of [
    ['nwcReceiveOnlyUri', nwc],
    ['nwcCashInUri', nwcPay],
  ] as const) {
    const why = uri === '' ? null : walletConnectionProblem(field, uri)
    if (why) throw new FormFieldError(field, why)
  }
  return {
    atm: f.atm.trim(),
    machineId: f.machineId.trim(),
    name: f.name.trim(),
    currency,
    fees: {
      cash_out: {
        platformPpm: ppm['fees.cash_out.platformPpm'],
        operatorPpm: ppm['fees.cash_out.operatorPpm'],
      },
      cash_in: { platformPpm: ppm['fees.cash_in.platformPpm'], operatorPpm: ppm['fees.cash_in.operatorPpm'] },
    },
    discountPpm: ppm.discountPpm,
    limits: {
      cash_out: {
        minFiatMinor: minor['limits.cash_out.minFiatMinor'],
        maxFiatMinor: minor['limits.cash_out.maxFiatMinor'],
      },
      cash_in: {
        minFiatMinor: minor['limits.cash_in.minFiatMinor'],
        maxFiatMinor: minor['limits.cash_in.maxFiatMinor'],
      },
    },
    ...(windowText === '' ? {} : { windowDays: Number(windowText) }),
    ...(nwc === '' ? {} : { nwcReceiveOnlyUri: nwc }),
    ...(nwcPay === '' ? {} : { nwcCashInUri: nwcPay }),
  }
}

/** Labels of the renew/revoke arguments, for errors shown beside those actions. */
const OTHER_LABELS: Record<string, string> = { atmPubkey: 'ATM public key', reason: 'Reason' }

export interface PairError {
  /** The form field the main side named, or null for a refusal of the whole action. */
  field: PairField | null
  message: string
  code: string
}

/** Maps the main side's refusal (`args[0].fees.cash_in.platformPpm: …`) to the form field it names. */
export function pairError(e: ApiError): PairError {
  const path = /^args\[0\]\.(.+)$/.exec(e.field ?? '')?.[1]
  if (path && path in PAIR_LABELS) return { field: path as PairField, code: e.code, message: fieldReason(e) }
  // A field outside the form (renew/revoke arguments, or a path the form has no input for): named in the sentence.
  if (path) return { field: null, code: e.code, message: `${OTHER_LABELS[path] ?? path}: ${fieldReason(e)}` }
  return { field: null, code: e.code, message: e.message }
}

/**
 * A pairing refused because the key is already paired: the machine it is paired as, and what replacing it would
 * change (old → new, in percent and currency amounts). The operator confirms with "Replace" or goes back.
 */
export interface ReplaceOffer {
  message: string
  machineId: string
  name: string
  rosterStatus: string
  differences: ConfigDifference[]
}

/** What replacing `existing` with the typed pairing would change, in the operator's words. */
export function replaceDifferences(
  existing: MachineConfigView,
  input: ReturnType<typeof pairInput>,
): ConfigDifference[] {
  return configDifferences(existing, { ...input, relays: existing.relays })
}

/** The one-shot payload as the view shows it: from a pairing or a renewal. */
export interface OneShot {
  kind: 'pair' | 'renew'
  machineId: string
  atmPubkey: string
  uri: string
  qrSvg: string
  untilSec: number
}

export const usePairingStore = defineStore('pairing', () => {
  const delegations = ref<DelegationView[]>([])
  const delegationsError = ref<string | null>(null)
  /** The main side's sentence while pairing cannot work (no signer, fleet not running), else null. */
  const unavailable = ref<string | null>(null)
  const busy = ref<string | null>(null)
  const formError = ref<PairError | null>(null)
  const actionErrors = ref<Record<string, string>>({})
  const oneShot = ref<OneShot | null>(null)
  const done = ref<string | null>(null)
  const replaceOffer = ref<ReplaceOffer | null>(null)
  const walletReminders = ref<WalletRevocationView[]>([])
  const remindersError = ref<string | null>(null)

  async function loadDelegations(): Promise<void> {
    try {
      delegations.value = await api()['fleet.delegations']()
      delegationsError.value = null
    } catch (e) {
      const err = toApiError(e)
      if (err.code === 'unavailable') unavailable.value = err.message
      else delegationsError.value = err.message
    }
  }

  /**
   * Pairs an ATM from the typed form; true on success (the one-shot payload is then set). A key that is already
   * paired comes back as a `replaceOffer` (nothing signed); `replace` is set only from that offer's "Replace".
   */
  async function pair(form: PairForm, replace = false): Promise<boolean> {
    formError.value = null
    done.value = null
    replaceOffer.value = null
    let input: ReturnType<typeof pairInput>
    try {
      input = pairInput(form)
    } catch (e) {
      if (e instanceof FormFieldError) {
        formError.value = { field: e.field, code: 'bad_args', message: e.message }
        return false
      }
      throw e
    }
    busy.value = 'pair'
    try {
      const r = await api()['fleet.pair'](replace ? { ...input, replace: true } : input)
      oneShot.value = {
        kind: 'pair',
        machineId: r.machineId,
        atmPubkey: r.atmPubkey,
        uri: r.uri,
        qrSvg: r.qrSvg,
        untilSec: r.delegation.untilSec,
      }
      unavailable.value = null
      await loadDelegations()
      return true
    } catch (e) {
      const err = toApiError(e)
      if (err.code === 'unavailable') unavailable.value = err.message
      else if (err.code === 'conflict' && err.field === 'args[0].atm') replaceOffer.value = await offerFor(err, input)
      else formError.value = pairError(err)
      return false
    } finally {
      busy.value = null
    }
  }

  async function offerFor(err: ApiError, input: ReturnType<typeof pairInput>): Promise<ReplaceOffer> {
    const message = fieldReason(err)
    try {
      const m = await api()['fleet.machine']({ atm: input.atm })
      return {
        message,
        machineId: m.config?.machineId ?? m.machine.machineId ?? '',
        name: m.config?.name ?? m.machine.name ?? '',
        rosterStatus: m.machine.rosterStatus,
        differences: m.config ? replaceDifferences(m.config, input) : [],
      }
    } catch {
      return { message, machineId: '', name: '', rosterStatus: 'member', differences: [] }
    }
  }

  function dismissReplace(): void {
    replaceOffer.value = null
  }

  async function loadWalletReminders(): Promise<void> {
    try {
      walletReminders.value = await api()['fleet.walletRevocations']()
      remindersError.value = null
    } catch (e) {
      remindersError.value = toApiError(e).message
    }
  }

  /** The operator says the ATM's wallet connection is revoked in the wallet: recorded, and the reminder goes. */
  const confirmWalletRevoked = (r: WalletRevocationView, note: string) =>
    act(`wallet:${r.atmPubkey}`, async () => {
      await api()['fleet.confirmWalletRevoked']({
        atmPubkey: r.atmPubkey,
        rosterEventId: r.rosterEventId,
        ...(note.trim() ? { note: note.trim() } : {}),
      })
      done.value = `Noted: the wallet connection of ${r.machineId ?? 'the machine'} is revoked in your wallet.`
      await loadWalletReminders()
    })

  async function act(key: string, call: () => Promise<void>): Promise<boolean> {
    busy.value = key
    done.value = null
    const { [key]: _dropped, ...rest } = actionErrors.value
    actionErrors.value = rest
    try {
      await call()
      await loadDelegations()
      return true
    } catch (e) {
      const err = toApiError(e)
      const p = pairError(err)
      actionErrors.value = { ...actionErrors.value, [key]: p.message }
      if (err.code === 'unavailable') unavailable.value = err.message
      return false
    } finally {
      busy.value = null
    }
  }

  const renew = (atmPubkey: string) =>
    act(`renew:${atmPubkey}`, async () => {
      const r = await api()['fleet.renew']({ atmPubkey })
      oneShot.value = {
        kind: 'renew',
        machineId: r.machineId,
        atmPubkey: r.atmPubkey,
        uri: r.uri,
        qrSvg: r.qrSvg,
        untilSec: r.delegation.untilSec,
      }
    })

  const revoke = (atmPubkey: string, reason: string) =>
    act(`revoke:${atmPubkey}`, async () => {
      await api()['fleet.revoke']({ atmPubkey, reason: reason.trim() })
      done.value =
        'Machine revoked: a new roster without it was signed and published. Now revoke its wallet connection in your wallet.'
      await loadWalletReminders()
    })

  /**
   * Forgets a previous `unavailable` answer so the form is offered again. Availability is only learnt by trying (the
   * signer may have been plugged in since), so the view calls this when it opens and from its "Try again" button.
   */
  function clearUnavailable(): void {
    unavailable.value = null
  }

  /** Drops the one-shot payload from memory; it cannot be shown again. */
  function dismissOneShot(): void {
    oneShot.value = null
  }

  /** Delegations and wallet reminders follow `fleet.changed` (pairing, renewal, revocation). Returns the stop. */
  function follow(): () => void {
    const off = followPushes(['fleet.changed'], () => Promise.all([loadDelegations(), loadWalletReminders()]))
    void loadDelegations()
    void loadWalletReminders()
    return off
  }

  return {
    follow,
    delegations,
    delegationsError,
    unavailable,
    busy,
    formError,
    actionErrors,
    oneShot,
    done,
    loadDelegations,
    pair,
    renew,
    revoke,
    dismissOneShot,
    clearUnavailable,
    replaceOffer,
    dismissReplace,
    walletReminders,
    remindersError,
    loadWalletReminders,
    confirmWalletRevoked,
  }
})

/** The `data:` URL for the QR image (CSP allows `img-src data:`; the SVG is never put into the DOM as markup). */
export function qrDataUrl(svg: string): string {
  const bytes = new TextEncoder().encode(svg)
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return `data:image/svg+xml;base64,${btoa(bin)}`
}

/** The newest delegation per ATM (the list is newest first; older ones are superseded). */
export function newestDelegations(list: DelegationView[]): Map<string, DelegationView> {
  const out = new Map<string, DelegationView>()
  for (const d of list) if (!out.has(d.atmPubkey) || d.newest) out.set(d.atmPubkey, d)
  return out
}
