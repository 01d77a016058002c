// Fleet store: the ATMs the console knows (`fleet.machines`: roster status, configuration, booked and rejected
// counts) and the records it refused (`fleet.rejected`, newest first, paged with `beforeId`). Nothing here is
// decided in the renderer: the main side verifies and books; this store only fetches, pages and keeps errors.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { FleetMachineView, RejectedRecordView } from '../../src-shared/ipc/contract'
import { api, toApiError } from '../api'
import { followPushes } from './follow'

export type { FleetMachineView, RejectedRecordView }

/** Rejected records fetched per page. */
export const REJECTED_PAGE = 25

/** Operator-facing words for the roster status of a machine, with the pill tone the table uses. */
export const ROSTER_STATUS: Record<
  FleetMachineView['rosterStatus'],
  { label: string; tone: 'ok' | 'warn' | 'danger' }
> = {
  member: { label: 'Active', tone: 'ok' },
  revoked: { label: 'Revoked', tone: 'danger' },
  not_listed: { label: 'Not in roster', tone: 'warn' },
  no_roster: { label: 'No roster yet', tone: 'warn' },
}

/**
 * Appends a page of rejected records to what is shown. Ids are unique and descending; a record already present
 * (a reload raced a page) is not shown twice, and the result stays newest first. `more` is true while the last page
 * was full, so a short page ends the paging.
 */
export function appendRejected(
  shown: RejectedRecordView[],
  page: RejectedRecordView[],
  pageSize: number,
): { items: RejectedRecordView[]; more: boolean } {
  const seen = new Set(shown.map((r) => r.id))
  const items = [...shown, ...page.filter((r) => !seen.has(r.id))].sort((a, b) => b.id - a.id)
  return { items, more: page.length >= pageSize }
}

/** Counts for the summary cards: machines by roster status and records in total. */
export function fleetSummary(machines: FleetMachineView[]): {
  total: number
  active: number
  revoked: number
  attention: number
  booked: number
  rejected: number
} {
  let active = 0
  let revoked = 0
  let booked = 0
  let rejected = 0
  for (const m of machines) {
    if (m.rosterStatus === 'member') active++
    else if (m.rosterStatus === 'revoked') revoked++
    booked += m.booked
    rejected += m.rejected
  }
  return { total: machines.length, active, revoked, attention: machines.length - active - revoked, booked, rejected }
}

/** A pubkey shortened for a table cell; the full key is in the cell's title. */
export function shortKey(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex
}

export const useFleetStore = defineStore('fleet', () => {
  const machines = ref<FleetMachineView[]>([])
  const machinesLoaded = ref(false)
  const machinesError = ref<string | null>(null)

  const rejected = ref<RejectedRecordView[]>([])
  const rejectedMore = ref(false)
  const rejectedLoading = ref(false)
  const rejectedError = ref<string | null>(null)

  const summary = computed(() => fleetSummary(machines.value))
  const machineName = computed(() => {
    const byKey = new Map(machines.value.map((m) => [m.atmPubkey, m.name ?? m.machineId ?? null]))
    return (pubkey: string) => byKey.get(pubkey) ?? null
  })

  async function loadMachines(): Promise<void> {
    try {
      machines.value = await api()['fleet.machines']()
      machinesError.value = null
    } catch (e) {
      machinesError.value = toApiError(e).message
    } finally {
      machinesLoaded.value = true
    }
  }

  /** First page of rejected records (replaces what is shown). */
  async function loadRejected(): Promise<void> {
    rejectedLoading.value = true
    try {
      const page = await api()['fleet.rejected']({ limit: REJECTED_PAGE })
      const r = appendRejected([], page, REJECTED_PAGE)
      rejected.value = r.items
      rejectedMore.value = r.more
      rejectedError.value = null
    } catch (e) {
      rejectedError.value = toApiError(e).message
    } finally {
      rejectedLoading.value = false
    }
  }

  /** The next, older page, before the oldest record shown. */
  async function loadMoreRejected(): Promise<void> {
    const oldest = rejected.value.at(-1)
    if (!oldest || rejectedLoading.value) return
    rejectedLoading.value = true
    try {
      const page = await api()['fleet.rejected']({ limit: REJECTED_PAGE, beforeId: oldest.id })
      const r = appendRejected(rejected.value, page, REJECTED_PAGE)
      rejected.value = r.items
      rejectedMore.value = r.more
      rejectedError.value = null
    } catch (e) {
      rejectedError.value = toApiError(e).message
    } finally {
      rejectedLoading.value = false
    }
  }

  async function load(): Promise<void> {
    await Promise.all([loadMachines(), loadRejected()])
  }

  /**
   * After a push: the machines again, and the newest refused records merged in front of what is shown, so older
   * pages the operator already opened stay open.
   */
  async function refresh(): Promise<void> {
    const shownMore = rejected.value.length > REJECTED_PAGE
    await loadMachines()
    try {
      const page = await api()['fleet.rejected']({ limit: REJECTED_PAGE })
      const r = appendRejected(shownMore ? rejected.value : [], page, REJECTED_PAGE)
      rejected.value = r.items
      rejectedMore.value = shownMore ? rejectedMore.value : r.more
      rejectedError.value = null
    } catch (e) {
      rejectedError.value = toApiError(e).message
    }
  }

  /**
   * Loads now and again on every `fleet.changed` push (a machine paired, revoked or reconfigured, a record received
   * or refused), so the Fleet list needs no Refresh button. Returns the unsubscribe.
   */
  function follow(): () => void {
    const off = followPushes(['fleet.changed'], refresh)
    void load()
    return off
  }

  return {
    machines,
    machinesLoaded,
    machinesError,
    rejected,
    rejectedMore,
    rejectedLoading,
    rejectedError,
    summary,
    machineName,
    load,
    refresh,
    follow,
    loadMachines,
    loadRejected,
    loadMoreRejected,
  }
})
