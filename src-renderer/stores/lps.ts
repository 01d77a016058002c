// Liquidity providers store (LpsView.vue; the LP lifecycle is docs/settlement.md and src-main/lps/): the LP list,
// the selected LP's deposits, history and payouts, and every action on it through `lps.*` and `payouts.list`.
// The renderer does no money math of its own: amounts the operator types are turned into integer minor units by
// digit shifting, the dust preview calls the shared money code (src-shared/money/dust-rate.ts), and every figure
// shown comes from the main side. An error keeps the form it came from (`key`) and the field it names, in the
// main side's operator wording (fieldReason drops the argument path).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { DepositView, DestinationInput, LpHistoryView, LpStatementView, LpView } from '../../src-shared/ipc/lps'
import type { LpStatementSentView } from '../../src-shared/ipc/lps-screen'
import type { PayoutListItem } from '../../src-shared/ipc/recipients'
import { dustPreview, rateMsatPerMajorFromBtcPrice } from '../../src-shared/money/dust-rate'
import { currencyExponent, isCurrency } from '../../src-shared/money/iso4217'
import { localDayStartMs } from '../../src-shared/notices/period'
import { ApiError, api, fieldReason, toApiError } from '../api'
import { followPushes } from './follow'

/** Which form an error belongs to. */
export type LpFormKey = 'add' | 'edit' | 'destination' | 'deposit' | 'reverse' | 'statement' | 'dust' | 'deactivate'

export interface LpError {
  key: LpFormKey | 'list'
  /** The last segment of the field the main side named (`address`, `amountMinor`, `npub`), or null. */
  field: string | null
  message: string
}

/** A refusal of the operator's own typing, before anything is sent. */
export class LpInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
    this.name = 'LpInputError'
  }
}

/** "1,000.50" in major units of `currency` → "100050" minor units, by string arithmetic (never a float). */
export function majorToMinor(text: string, currency: string, field: string, what = 'an amount'): string {
  const e = isCurrency(currency) ? currencyExponent(currency) : 2
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(text.trim().replace(/[,\s]/g, ''))
  if (!m?.[1]) throw new LpInputError(field, `Must be ${what} in ${currency}, such as 500${e > 0 ? ' or 12.50' : ''}.`)
  const frac = m[2] ?? ''
  if (frac.length > e)
    throw new LpInputError(field, e === 0 ? `${currency} has no decimals.` : `At most ${e} decimals.`)
  return BigInt(m[1] + frac.padEnd(e, '0')).toString()
}

/** "10,000" whole sats → msat, as the payout policy wants it. */
export function satsToMsat(text: string, field: string): string {
  const m = /^\d{1,13}$/.exec(text.trim().replace(/[,\s]/g, ''))
  if (!m || BigInt(m[0]) < 1n) throw new LpInputError(field, 'Must be a whole number of sats, at least 1.')
  return (BigInt(m[0]) * 1000n).toString()
}

/** "0.5" percent → ppm (the routing-fee cap of one payout), up to 4 decimals. */
export function percentToPpm(text: string, field: string): number {
  const m = /^(\d{1,3})(?:[.,](\d{1,4}))?$/.exec(text.trim())
  if (!m?.[1]) throw new LpInputError(field, 'Must be a percentage such as 0.5 (up to 4 decimals).')
  const ppm = Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'))
  if (ppm > 1_000_000) throw new LpInputError(field, 'Must be at most 100%.')
  return ppm
}

export type DestinationKind = DestinationInput['kind']

export interface DestinationDraft {
  kind: DestinationKind
  value: string
  thresholdSat: string
  schedule: 'threshold' | 'daily' | 'weekly'
  maxFeePercent: string
}

export interface AddDraft extends DestinationDraft {
  npub: string
  name: string
  currency: string
  mode: 'flow' | 'fixed'
  dailyLimit: string
}

export function emptyAddDraft(currency = 'USD'): AddDraft {
  return {
    npub: '',
    name: '',
    currency,
    mode: 'flow',
    dailyLimit: '',
    kind: 'lightning_address',
    value: '',
    thresholdSat: '10000',
    schedule: 'threshold',
    maxFeePercent: '1',
  }
}

export function destinationInput(d: DestinationDraft): DestinationInput {
  const v = d.value.trim()
  if (!v) {
    const field = d.kind === 'lightning_address' ? 'address' : d.kind === 'nwc' ? 'uri' : 'nodeId'
    throw new LpInputError(field, 'Enter where this provider is paid.')
  }
  if (d.kind === 'lightning_address') return { kind: 'lightning_address', address: v }
  if (d.kind === 'nwc') return { kind: 'nwc', uri: v }
  return { kind: 'keysend', nodeId: v.toLowerCase() }
}

export function payoutInput(d: DestinationDraft) {
  return {
    thresholdMsat: satsToMsat(d.thresholdSat, 'thresholdMsat'),
    schedule: d.schedule,
    maxFeePpm: percentToPpm(d.maxFeePercent, 'maxFeePpm'),
  }
}

/** The statement period the operator picks: whole local days, both included. */
export function periodMs(fromDay: string, toDay: string, timeZone: string): { fromMs: number; toMs: number } {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(fromDay)) throw new LpInputError('fromMs', 'Pick the first day of the period.')
  if (!/^\d{4}-\d{2}-\d{2}$/.test(toDay)) throw new LpInputError('toMs', 'Pick the last day of the period.')
  const fromMs = localDayStartMs(fromDay, timeZone)
  const lastStart = localDayStartMs(toDay, timeZone)
  // The day after the last one, found from its own start (a DST day is not 24 h long).
  const toMs = localDayStartMs(new Date(lastStart + 36 * 3_600_000).toISOString().slice(0, 10), timeZone)
  if (toMs <= fromMs) throw new LpInputError('toMs', 'The last day must not be before the first day.')
  return { fromMs, toMs }
}

function errorOf(key: LpFormKey | 'list', e: unknown): LpError {
  if (e instanceof LpInputError) return { key, field: e.field, message: e.message }
  const err = toApiError(e)
  const field = err instanceof ApiError && err.field ? (err.field.split('.').pop() ?? null) : null
  return { key, field, message: err.field ? fieldReason(err) : err.message }
}

export const useLpsStore = defineStore('lps', () => {
  const list = ref<LpView[] | null>(null)
  const includeInactive = ref(false)
  const selectedId = ref<string | null>(null)
  const history = ref<LpHistoryView | null>(null)
  const payouts = ref<PayoutListItem[]>([])
  const statement = ref<LpStatementView | null>(null)
  const sent = ref<LpStatementSentView | null>(null)
  const busy = ref<LpFormKey | null>(null)
  const error = ref<LpError | null>(null)
  /** The last action that went through, in words (shown as a status line). */
  const done = ref<string | null>(null)

  const selected = computed(() => list.value?.find((l) => l.id === selectedId.value) ?? null)
  const deposits = computed<DepositView[]>(() => history.value?.deposits ?? [])

  async function load(): Promise<void> {
    try {
      list.value = await api()['lps.list']({ includeInactive: includeInactive.value })
      if (error.value?.key === 'list') error.value = null
    } catch (e) {
      error.value = { key: 'list', field: null, message: `The providers could not be loaded: ${toApiError(e).message}` }
    }
  }

  async function loadDetail(): Promise<void> {
    const id = selectedId.value
    if (!id) return
    const [h, p] = await Promise.all([
      api()['lps.history']({ lpId: id, limit: 50 }),
      api()['payouts.list']({ recipientKind: 'lp', recipientId: id, limit: 50 }),
    ])
    if (selectedId.value !== id) return
    history.value = h
    payouts.value = p.items
  }

  async function select(id: string | null): Promise<void> {
    selectedId.value = id
    history.value = null
    payouts.value = []
    statement.value = null
    sent.value = null
    error.value = null
    done.value = null
    if (id) {
      try {
        await loadDetail()
      } catch (e) {
        error.value = {
          key: 'list',
          field: null,
          message: `The provider could not be loaded: ${toApiError(e).message}`,
        }
      }
    }
  }

  /**
   * Loads the list now and keeps it and the open provider current on every `lps.changed` (deposit recorded or
   * confirmed, accrual, destination check) and `payouts.changed` (a payout planned, sent, paid, failed) push, so
   * the screen needs no Refresh button. The forms in the detail are the operator's own copies and stay as typed.
   */
  function follow(): () => void {
    const off = followPushes(['lps.changed', 'payouts.changed'], async () => {
      await load()
      if (selectedId.value !== null) await loadDetail()
    })
    void load()
    return off
  }

  /** Runs one action for form `key`; true when it went through (list and detail are reloaded). */
  async function run(key: LpFormKey, f: () => Promise<string | undefined>): Promise<boolean> {
    busy.value = key
    error.value = null
    done.value = null
    try {
      const what = await f()
      await load()
      await loadDetail()
      done.value = what ?? null
      return true
    } catch (e) {
      error.value = errorOf(key, e)
      return false
    } finally {
      busy.value = null
    }
  }

  async function register(d: AddDraft): Promise<boolean> {
    let newId: string | null = null
    const ok = await run('add', async () => {
      const currency = d.currency.trim().toUpperCase()
      const lp = await api()['lps.register']({
        npub: d.npub.trim(),
        name: d.name.trim(),
        currency,
        mode: d.mode,
        ...(d.mode === 'fixed'
          ? { dailyLimitMinor: majorToMinor(d.dailyLimit, currency, 'dailyLimitMinor', 'a daily limit') }
          : {}),
        destination: destinationInput(d),
        payout: payoutInput(d),
      })
      newId = lp.id
      return `${lp.name} added; ${lp.health?.text ?? 'destination saved'}`
    })
    if (ok && newId) {
      const msg = done.value
      await select(newId)
      done.value = msg
    }
    return ok
  }

  return {
    list,
    includeInactive,
    selectedId,
    selected,
    history,
    deposits,
    payouts,
    statement,
    sent,
    busy,
    error,
    done,
    load,
    follow,
    select,
    register,
    update: (lpId: string, o: { name?: string; mode?: 'flow' | 'fixed'; dailyLimit?: string; currency: string }) =>
      run('edit', async () => {
        const lp = await api()['lps.update']({
          lpId,
          ...(o.name === undefined ? {} : { name: o.name.trim() }),
          ...(o.mode === undefined ? {} : { mode: o.mode }),
          ...(o.mode === 'fixed' && o.dailyLimit !== undefined
            ? { dailyLimitMinor: majorToMinor(o.dailyLimit, o.currency, 'dailyLimitMinor', 'a daily limit') }
            : {}),
        })
        return `${lp.name} saved`
      }),
    setDestination: (lpId: string, d: DestinationDraft) =>
      run('destination', async () => {
        const lp = await api()['lps.setDestination']({ lpId, destination: destinationInput(d), payout: payoutInput(d) })
        return `Destination saved: ${lp.health?.text ?? 'checked'}`
      }),
    /** The live check again on the current destination; its outcome becomes the destination's health. */
    checkAgain: (lpId: string) =>
      run('destination', async () => {
        const lp = await api()['lps.checkDestination']({ lpId })
        return lp.health ? `${lp.health.ok ? 'Reachable' : 'Not reachable'}: ${lp.health.text}` : undefined
      }),
    recordDeposit: (lp: LpView, amount: string, note: string) =>
      run('deposit', async () => {
        const amountMinor = majorToMinor(amount, lp.currency, 'amountMinor')
        await api()['lps.deposit.record']({ lpId: lp.id, amountMinor, ...(note.trim() ? { note: note.trim() } : {}) })
        return 'Deposit recorded; confirm it once the cash is in the machine'
      }),
    confirmDeposit: (depositId: string) =>
      run('deposit', async () => {
        await api()['lps.deposit.confirm']({ depositId })
        return 'Deposit confirmed; it now counts in the balance'
      }),
    /** A pending deposit is cancelled whole; a confirmed one gets a reversing entry (never an edit). */
    reverseDeposit: (lp: LpView, depositId: string, reason: string, amount: string) =>
      run('reverse', async () => {
        const r = await api()['lps.deposit.reverse']({
          depositId,
          reason: reason.trim(),
          ...(amount.trim() ? { amountMinor: majorToMinor(amount, lp.currency, 'amountMinor') } : {}),
        })
        return r.status === 'cancelled' ? 'Deposit cancelled' : 'Correction booked as a reversing entry'
      }),
    showStatement: (lpId: string, fromDay: string, toDay: string, timeZone: string) =>
      run('statement', async () => {
        sent.value = null
        statement.value = await api()['lps.statement']({ lpId, ...periodMs(fromDay, toDay, timeZone) })
        return undefined
      }),
    sendStatement: (lpId: string, fromDay: string, toDay: string, timeZone: string) =>
      run('statement', async () => {
        sent.value = await api()['lps.statement.send']({ lpId, ...periodMs(fromDay, toDay, timeZone) })
        return `Statement ${sent.value.period} sent to the provider by encrypted Nostr message`
      }),
    /** What a dust settlement at `price` (per bitcoin) would do; throws LpInputError on bad typing. */
    dustPreview(lp: LpView, price: string, amount: string) {
      const priceMinor = BigInt(majorToMinor(price, lp.currency, 'rateMsatPerMajor', 'a bitcoin price'))
      if (priceMinor <= 0n) throw new LpInputError('rateMsatPerMajor', 'The bitcoin price must be more than 0.')
      const rate = rateMsatPerMajorFromBtcPrice(priceMinor, lp.currency)
      const fiat = amount.trim() ? BigInt(majorToMinor(amount, lp.currency, 'fiatMinor')) : null
      try {
        return { rate, ...dustPreview(BigInt(lp.balanceMinor), fiat, rate, lp.currency) }
      } catch (e) {
        throw new LpInputError(
          'fiatMinor',
          (e as Error).message === 'nothing to settle'
            ? 'There is no remaining balance to settle.'
            : 'That is more than the remaining balance.',
        )
      }
    },
    dustSettle: (lp: LpView, rate: bigint, fiatMinor: bigint, note: string) =>
      run('dust', async () => {
        await api()['lps.dustSettle']({
          lpId: lp.id,
          rateMsatPerMajor: rate.toString(),
          fiatMinor: fiatMinor.toString(),
          ...(note.trim() ? { note: note.trim() } : {}),
        })
        return `Dust settled; the sats are added to what ${lp.name} is owed`
      }),
    deactivate: (lp: LpView, reason: string) =>
      run('deactivate', async () => {
        await api()['lps.deactivate']({ lpId: lp.id, reason: reason.trim() })
        // Keep the provider on screen, now marked deactivated.
        includeInactive.value = true
        return `${lp.name} deactivated; sats already accrued are still paid out`
      }),
    setError: (key: LpFormKey, e: unknown) => {
      error.value = errorOf(key, e)
    },
    clearError: () => {
      error.value = null
    },
  }
})
