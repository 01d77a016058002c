// Settlements store: the history list (server-paged with a keyset cursor, `settlements.list`), its filter form and
// sort, the detail drawer (`settlements.get`, notes through `settlements.addNote`) and the CSV export. The form
// holds what the operator typed; `apply()` turns it into the contract's filter and the main side checks it again.
// Pages are a stack of cursors (Previous pops, Next pushes), so moving back never re-reads from the start. The
// `settlements.changed` push reloads the page in view and the open drawer, so nothing needs a Refresh button.
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import type {
  SettlementCountView,
  SettlementDetailView,
  SettlementFilter,
  SettlementPageView,
  SettlementSort,
} from '../../src-shared/ipc/settlements'
import { localDayStartMs } from '../../src-shared/notices/period'
import { api, fieldReason, toApiError } from '../api'

export type {
  SettlementDetailView,
  SettlementLegView,
  SettlementPageView,
  SettlementRowView,
  SettlementSort,
} from '../../src-shared/ipc/settlements'

export const PAGE_SIZE = 50

export interface FilterForm {
  machineId: string
  direction: '' | 'cash_out' | 'cash_in'
  status: '' | 'pending' | 'processing' | 'processed' | 'errored' | 'rejected'
  /** YYYY-MM-DD in the operator's time zone; the range is [from 00:00, to 24:00). */
  from: string
  to: string
  lpId: string
  minAmount: string
  maxAmount: string
  feeMismatch: boolean
  refundDue: boolean
  search: string
}

export const emptyForm = (): FilterForm => ({
  machineId: '',
  direction: '',
  status: '',
  from: '',
  to: '',
  lpId: '',
  minAmount: '',
  maxAmount: '',
  feeMismatch: false,
  refundDue: false,
  search: '',
})

/** The instant local midnight starts `day` (YYYY-MM-DD) in `timeZone` (the shared rule); null for a malformed day. */
export function localMidnightMs(day: string, timeZone: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null
  try {
    const t = localDayStartMs(day, timeZone)
    return Number.isNaN(t) ? null : t
  } catch {
    return null
  }
}

/** The form as the contract's filter; `to` is inclusive for the operator, so the range ends at the next midnight. */
export function toFilter(
  f: FilterForm,
  timeZone: string,
): SettlementFilter | { error: string; field: keyof FilterForm } {
  const out: NonNullable<SettlementFilter> = {}
  if (f.machineId) out.machineId = f.machineId
  if (f.direction) out.direction = f.direction
  if (f.status) out.status = f.status
  if (f.from) {
    const ms = localMidnightMs(f.from, timeZone)
    if (ms === null) return { error: 'From: Pick a date.', field: 'from' }
    out.fromMs = ms
  }
  if (f.to) {
    const ms = localMidnightMs(f.to, timeZone)
    if (ms === null) return { error: 'To: Pick a date.', field: 'to' }
    const next = localMidnightMs(
      new Date(Date.parse(`${f.to}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10),
      timeZone,
    )
    out.toMs = next ?? ms + 86_400_000
  }
  if (out.fromMs !== undefined && out.toMs !== undefined && out.toMs <= out.fromMs)
    return { error: 'To: The end of the range is before its start.', field: 'to' }
  if (f.lpId) out.lpId = f.lpId
  const amount = /^\s*\d{1,15}([.,]\d{1,4})?\s*$/
  if (f.minAmount.trim()) {
    if (!amount.test(f.minAmount))
      return { error: 'Smallest amount: Type an amount such as 12.50.', field: 'minAmount' }
    out.minAmount = f.minAmount.trim()
  }
  if (f.maxAmount.trim()) {
    if (!amount.test(f.maxAmount)) return { error: 'Largest amount: Type an amount such as 250.', field: 'maxAmount' }
    out.maxAmount = f.maxAmount.trim()
  }
  if (f.feeMismatch) out.feeMismatch = true
  if (f.refundDue) out.refundDue = true
  if (f.search.trim()) out.search = f.search.trim()
  return out
}

const FIELD_OF_ARG: Record<string, keyof FilterForm> = {
  toMs: 'to',
  fromMs: 'from',
  minAmount: 'minAmount',
  maxAmount: 'maxAmount',
  search: 'search',
}

export const useSettlementsStore = defineStore('settlements', () => {
  const form = reactive<FilterForm>(emptyForm())
  const applied = ref<SettlementFilter>({})
  const sort = ref<SettlementSort>('booked_desc')
  const page = ref<SettlementPageView | null>(null)
  /** How many settlements the applied filter matches (asked after the first page is on screen). */
  const count = ref<SettlementCountView | null>(null)
  /** Cursors of the pages before the one shown (undefined = the first page). */
  const cursors = ref<Array<string | undefined>>([])
  const current = ref<string | undefined>(undefined)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const formError = ref<{ field: keyof FilterForm; message: string } | null>(null)
  /** How long the last list call took in the browser, ms (shown nowhere; the benchmark reads it). */
  const lastLoadMs = ref<number | null>(null)

  const detailId = ref<number | null>(null)
  const detail = ref<SettlementDetailView | null>(null)
  const detailError = ref<string | null>(null)
  const noteError = ref<string | null>(null)
  const noteBusy = ref(false)

  const pageNumber = computed(() => cursors.value.length + 1)
  /** Choices for the machine and LP filters. */
  const machineOptions = ref<Array<{ id: string; name: string }>>([])
  const lpOptions = ref<Array<{ id: string; name: string }>>([])

  async function loadOptions(): Promise<void> {
    const [machines, lps] = await Promise.all([
      api()
        ['fleet.machines']()
        .catch(() => []),
      api()
        ['lps.list']({ includeInactive: true })
        .catch(() => []),
    ])
    const seen = new Map<string, string>()
    for (const m of machines) if (m.machineId) seen.set(m.machineId, m.name ?? m.machineId)
    for (const r of page.value?.rows ?? [])
      if (!seen.has(r.machineId)) seen.set(r.machineId, r.machineName ?? r.machineId)
    machineOptions.value = [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name))
    lpOptions.value = lps.map((l) => ({ id: l.id, name: l.name })).sort((a, b) => a.name.localeCompare(b.name))
  }

  let seq = 0
  async function fetchPage(after: string | undefined): Promise<boolean> {
    const mine = ++seq
    loading.value = true
    const t0 = performance.now()
    try {
      const p = await api()['settlements.list']({
        filter: applied.value,
        sort: sort.value,
        limit: PAGE_SIZE,
        ...(after ? { after } : {}),
      })
      if (mine !== seq) return false
      page.value = p
      current.value = after
      error.value = null
      lastLoadMs.value = performance.now() - t0
      if (after === undefined) void fetchCount(mine)
      return true
    } catch (e) {
      if (mine !== seq) return false
      const a = toApiError(e)
      const arg = /^args\[0\]\.filter\.(\w+)/.exec(a.field ?? '')?.[1]
      const field = arg ? FIELD_OF_ARG[arg] : undefined
      if (field) formError.value = { field, message: fieldReason(a) }
      else error.value = a.message
      return false
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  async function fetchCount(mine: number): Promise<void> {
    try {
      const c = await api()['settlements.count']({ filter: applied.value })
      if (mine === seq) count.value = c
    } catch {
      if (mine === seq) count.value = null
    }
  }

  /** Applies the typed filter (refusing what cannot be right before asking) and shows the first page. */
  async function apply(timeZone: string): Promise<void> {
    const f = toFilter(form, timeZone)
    if ('error' in f && typeof f.error === 'string') {
      formError.value = { field: f.field as keyof FilterForm, message: f.error }
      return
    }
    formError.value = null
    count.value = null
    applied.value = f as SettlementFilter
    cursors.value = []
    await fetchPage(undefined)
  }

  async function reset(timeZone: string): Promise<void> {
    Object.assign(form, emptyForm())
    await apply(timeZone)
  }

  async function setSort(s: SettlementSort): Promise<void> {
    sort.value = s
    cursors.value = []
    await fetchPage(undefined)
  }

  async function next(): Promise<void> {
    const n = page.value?.next
    if (!n) return
    const before = current.value
    if (await fetchPage(n)) cursors.value = [...cursors.value, before]
  }

  async function previous(): Promise<void> {
    if (cursors.value.length === 0) return
    const prev = cursors.value[cursors.value.length - 1]
    if (await fetchPage(prev)) cursors.value = cursors.value.slice(0, -1)
  }

  async function open(id: number): Promise<void> {
    detailId.value = id
    detail.value = null
    detailError.value = null
    noteError.value = null
    await loadDetail()
  }

  async function loadDetail(): Promise<void> {
    const id = detailId.value
    if (id === null) return
    try {
      const d = await api()['settlements.get']({ settlementId: id })
      if (detailId.value === id) detail.value = d
    } catch (e) {
      if (detailId.value === id) detailError.value = toApiError(e).message
    }
  }

  function close(): void {
    detailId.value = null
    detail.value = null
  }

  async function addNote(text: string): Promise<boolean> {
    const id = detailId.value
    if (id === null) return false
    if (!text.trim()) {
      noteError.value = 'Note: Write something first.'
      return false
    }
    noteBusy.value = true
    try {
      await api()['settlements.addNote']({ settlementId: id, text })
      noteError.value = null
      await loadDetail()
      return true
    } catch (e) {
      const a = toApiError(e)
      noteError.value = a.field ? `Note: ${fieldReason(a)}` : a.message
      return false
    } finally {
      noteBusy.value = false
    }
  }

  /** The current filter and order as CSV plus its column dictionary, both saved through the browser's download. */
  async function exportCsv(): Promise<{ rows: number; truncated: boolean; maxRows: number } | null> {
    try {
      const r = await api()['settlements.csv']({ filter: applied.value, sort: sort.value })
      download(r.fileName, r.csv)
      download(r.fileName.replace(/\.csv$/, '-columns.csv'), r.dictionaryCsv)
      return { rows: r.rows, truncated: r.truncated, maxRows: r.maxRows }
    } catch (e) {
      error.value = toApiError(e).message
      return null
    }
  }

  /** Keeps the page in view and the open drawer current; returns the unsubscribe. */
  function follow(timeZone: () => string): () => void {
    const off = api().on('settlements.changed', () => {
      void fetchPage(current.value)
      if (detailId.value !== null) void loadDetail()
    })
    if (page.value === null) void apply(timeZone())
    else void fetchPage(current.value)
    return off
  }

  return {
    form,
    applied,
    sort,
    page,
    count,
    pageNumber,
    loading,
    error,
    formError,
    lastLoadMs,
    detailId,
    detail,
    detailError,
    noteError,
    noteBusy,
    apply,
    reset,
    setSort,
    next,
    previous,
    open,
    close,
    addNote,
    exportCsv,
    follow,
    machineOptions,
    lpOptions,
    loadOptions,
  }
})

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
