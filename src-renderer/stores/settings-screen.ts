// Settings screen store (issue 9c): live relay checks, the operator wallet's state, the fleet default fees with the
// live preview, and ledger backup / restore. Every money figure in the preview comes from the shared settlement
// engine (src-shared/money/fee-preview.ts); this store only holds what the operator typed and what the main side
// answered. A refusal keeps its field and is shown as a sentence under it (the field path dropped).
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import type { BackupProgressView } from '../../src-shared/ipc/live'
import type {
  BackupView,
  FeesView,
  RelayCheckView,
  RestoreView,
  WalletCheckView,
} from '../../src-shared/ipc/settings-screen'
import { feePreview, parsePercent, ppmToPercentText } from '../../src-shared/money/fee-preview'
import type { Direction } from '../../src-shared/money/settlement'
import { api, fieldReason, toApiError } from '../api'

export type RelayCheckState =
  | { state: 'checking'; startedAtMs: number }
  | { state: 'ok'; latencyMs: number | null }
  | { state: 'failed'; error: string }

export interface FeeDraft {
  direction: Direction
  amount: string
  btcPrice: string
  cashOutPlatform: string
  cashOutCommission: string
  cashInPlatform: string
  cashInCommission: string
}

export type FeeField = 'cashOutPlatform' | 'cashOutCommission' | 'cashInPlatform' | 'cashInCommission'

export const useSettingsScreenStore = defineStore('settingsScreen', () => {
  // ---- relays --------------------------------------------------------------------------------------------------
  const relayChecks = reactive<Record<string, RelayCheckState>>({})

  /** Checks one relay live; answers the check (ok or why not). A malformed address is refused by the schema. */
  async function checkRelay(url: string): Promise<RelayCheckView> {
    relayChecks[url] = { state: 'checking', startedAtMs: Date.now() }
    try {
      const r = await api()['settings.checkRelay']({ url })
      relayChecks[url] = r.ok ? { state: 'ok', latencyMs: r.latencyMs } : { state: 'failed', error: r.error ?? '' }
      return r
    } catch (e) {
      const err = toApiError(e)
      const error = err.code === 'bad_args' ? fieldReason(err) : err.message
      relayChecks[url] = { state: 'failed', error }
      return { url, ok: false, latencyMs: null, error }
    }
  }

  // ---- wallet --------------------------------------------------------------------------------------------------
  const wallet = ref<WalletCheckView | null>(null)
  const walletError = ref<string | null>(null)
  const walletChecking = ref(false)
  async function checkWallet(): Promise<void> {
    walletChecking.value = true
    walletError.value = null
    try {
      wallet.value = await api()['settings.checkWallet']()
    } catch (e) {
      wallet.value = null
      walletError.value = toApiError(e).message
    } finally {
      walletChecking.value = false
    }
  }

  // ---- fees ----------------------------------------------------------------------------------------------------
  const fees = ref<FeesView | null>(null)
  const feesLoadError = ref<string | null>(null)
  const feesSaving = ref(false)
  const feesError = ref<{ field: FeeField | null; message: string } | null>(null)
  const draft = reactive<FeeDraft>({
    direction: 'cash_out',
    amount: '200',
    btcPrice: '60000',
    cashOutPlatform: '0',
    cashOutCommission: '0',
    cashInPlatform: '0',
    cashInCommission: '0',
  })

  function adopt(v: FeesView): void {
    fees.value = v
    draft.cashOutPlatform = ppmToPercentText(v.cashOut.platformPpm)
    draft.cashOutCommission = ppmToPercentText(v.cashOut.operatorPpm)
    draft.cashInPlatform = ppmToPercentText(v.cashIn.platformPpm)
    draft.cashInCommission = ppmToPercentText(v.cashIn.operatorPpm)
  }

  async function loadFees(): Promise<void> {
    try {
      adopt(await api()['fees.get']())
      feesLoadError.value = null
    } catch (e) {
      feesLoadError.value = toApiError(e).message
    }
  }

  /** The preview for the direction shown, from the engine; `currency` comes from the settings. */
  function preview(currency: string) {
    const out = draft.direction === 'cash_out'
    return feePreview({
      direction: draft.direction,
      currency,
      amount: draft.amount,
      btcPrice: draft.btcPrice,
      platformPercent: out ? draft.cashOutPlatform : draft.cashInPlatform,
      commissionPercent: out ? draft.cashOutCommission : draft.cashInCommission,
      splits: fees.value?.splits ?? [],
    })
  }

  const feesDirty = computed(() => {
    const f = fees.value
    if (!f) return false
    const same = (text: string, ppm: number) => {
      const p = parsePercent(text, '')
      return p.ok && p.ppm === ppm
    }
    return !(
      same(draft.cashOutPlatform, f.cashOut.platformPpm) &&
      same(draft.cashOutCommission, f.cashOut.operatorPpm) &&
      same(draft.cashInPlatform, f.cashIn.platformPpm) &&
      same(draft.cashInCommission, f.cashIn.operatorPpm)
    )
  })

  const FEE_LABELS: Record<FeeField, string> = {
    cashOutPlatform: 'Cash-out platform fee',
    cashOutCommission: 'Cash-out commission',
    cashInPlatform: 'Cash-in platform fee',
    cashInCommission: 'Cash-in commission',
  }

  async function saveFees(): Promise<boolean> {
    feesError.value = null
    const ppm: Partial<Record<FeeField, number>> = {}
    for (const f of Object.keys(FEE_LABELS) as FeeField[]) {
      const p = parsePercent(draft[f], FEE_LABELS[f])
      if (!p.ok) {
        feesError.value = { field: f, message: p.message }
        return false
      }
      ppm[f] = p.ppm
    }
    feesSaving.value = true
    try {
      adopt(
        await api()['fees.set']({
          cashOut: { platformPpm: ppm.cashOutPlatform!, operatorPpm: ppm.cashOutCommission! },
          cashIn: { platformPpm: ppm.cashInPlatform!, operatorPpm: ppm.cashInCommission! },
        }),
      )
      return true
    } catch (e) {
      const err = toApiError(e)
      const m = /^args\[0\]\.(cashOut|cashIn)\.(platformPpm|operatorPpm)$/.exec(err.field ?? '')
      const field = m ? (`${m[1]}${m[2] === 'platformPpm' ? 'Platform' : 'Commission'}` as FeeField) : null
      feesError.value = { field, message: err.field ? fieldReason(err) : err.message }
      return false
    } finally {
      feesSaving.value = false
    }
  }

  // ---- backup --------------------------------------------------------------------------------------------------
  const backupBusy = ref<'backup' | 'restore' | null>(null)
  const backupResult = ref<BackupView | null>(null)
  const restoreResult = ref<RestoreView | null>(null)
  const backupError = ref<{ action: 'backup' | 'restore'; message: string } | null>(null)
  /** The running operation's current step (`backup.progress` push), null while none runs. */
  const backupProgress = ref<BackupProgressView | null>(null)

  /** Runs `call` while following its `backup.progress` pushes; the progress goes when it ends. */
  async function withProgress<T>(operation: 'backup' | 'restore', call: () => Promise<T>): Promise<T> {
    backupProgress.value = { operation, step: 'Starting', fraction: 0, done: false }
    const off = api().on('backup.progress', (p) => {
      if (p.operation === operation && !p.done) backupProgress.value = p
    })
    try {
      return await call()
    } finally {
      off()
      backupProgress.value = null
    }
  }

  async function createBackup(folder: string): Promise<boolean> {
    backupBusy.value = 'backup'
    backupError.value = null
    backupResult.value = null
    try {
      backupResult.value = await withProgress('backup', () => api()['backup.create']({ folder: folder.trim() }))
      return true
    } catch (e) {
      const err = toApiError(e)
      backupError.value = { action: 'backup', message: err.field ? fieldReason(err) : err.message }
      return false
    } finally {
      backupBusy.value = null
    }
  }

  async function restore(folder: string): Promise<boolean> {
    backupBusy.value = 'restore'
    backupError.value = null
    restoreResult.value = null
    try {
      restoreResult.value = await withProgress('restore', () => api()['backup.restore']({ folder: folder.trim() }))
      return true
    } catch (e) {
      const err = toApiError(e)
      backupError.value = { action: 'restore', message: err.field ? fieldReason(err) : err.message }
      return false
    } finally {
      backupBusy.value = null
    }
  }

  return {
    relayChecks,
    checkRelay,
    wallet,
    walletError,
    walletChecking,
    checkWallet,
    fees,
    feesLoadError,
    feesSaving,
    feesError,
    draft,
    loadFees,
    preview,
    feesDirty,
    saveFees,
    backupBusy,
    backupResult,
    restoreResult,
    backupError,
    backupProgress,
    createBackup,
    restore,
  }
})
