// Audit store: the quarters and their state (open, closed, attested), the signed head and the start-up check's
// verdict, closing a quarter (the operator confirms the attestation on the signer), exporting a quarter with its
// progress, the exports made so far and their verification, rejected records, the configuration change log and the
// reconciliation differences. Every action goes to the main side; a refusal is kept as one sentence for the view.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { AuditHeadView, PeriodView } from '../../src-shared/ipc/audit'
import type {
  AuditChangesView,
  AuditExportListItem,
  AuditExportProgress,
  AuditExportView,
  AuditVerifyView,
} from '../../src-shared/ipc/audit-export'
import type { RejectedRecordView } from '../../src-shared/ipc/contract'
import { api, toApiError } from '../api'

export type { AuditHeadView, PeriodView } from '../../src-shared/ipc/audit'
export type {
  AuditChangesView,
  AuditExportListItem,
  AuditExportProgress,
  AuditExportView,
  AuditVerifyView,
} from '../../src-shared/ipc/audit-export'

/** What a period's state means to the operator, and its tone. */
export const PERIOD_STATE: Record<PeriodView['state'], { label: string; tone: string; help: string }> = {
  open: { label: 'Open', tone: 'warn', help: 'Bookings still land here; exports are drafts.' },
  closed: { label: 'Closed', tone: 'ok', help: 'Locked and signed on your signer; not yet seen on a relay.' },
  attested: { label: 'Attested', tone: 'ok', help: 'Locked, signed and published to your relays.' },
}

/** A quarter can be closed once it has ended and while it is open. */
export function canClose(p: PeriodView, nowMs: number): boolean {
  return p.state === 'open' && nowMs >= p.endMs
}

export const useAuditStore = defineStore('audit', () => {
  const periods = ref<PeriodView[] | null>(null)
  const head = ref<AuditHeadView | null>(null)
  const exports = ref<AuditExportListItem[]>([])
  const changes = ref<AuditChangesView | null>(null)
  const rejected = ref<RejectedRecordView[]>([])
  const progress = ref<AuditExportProgress | null>(null)
  const lastExport = ref<AuditExportView | null>(null)
  const verifications = ref<Record<string, AuditVerifyView>>({})
  /** The action under way: `close:2026Q3`, `export:2026Q3`, `verify:<name>`, or null. */
  const busy = ref<string | null>(null)
  /** Errors by key: `load`, `close:<period>`, `export:<period>`, `verify:<name>`, or a section. */
  const errors = ref<Record<string, string>>({})
  let unsubscribe: (() => void) | null = null

  function setError(key: string, e: unknown): void {
    errors.value = { ...errors.value, [key]: toApiError(e).message }
  }
  function clearError(key: string): void {
    const { [key]: _gone, ...rest } = errors.value
    errors.value = rest
  }

  /** Loads every section; a section that fails keeps its error and leaves the others shown. */
  async function load(): Promise<void> {
    if (!unsubscribe)
      unsubscribe = api().on('audit.exportProgress', (p) => {
        progress.value = p
      })
    const a = api()
    const sections: [string, () => Promise<void>][] = [
      [
        'periods',
        async () => {
          periods.value = await a['audit.periods']()
        },
      ],
      [
        'head',
        async () => {
          head.value = await a['audit.head']()
        },
      ],
      [
        'exports',
        async () => {
          exports.value = await a['audit.exports']()
        },
      ],
      [
        'changes',
        async () => {
          changes.value = await a['audit.changes']()
        },
      ],
      [
        'rejected',
        async () => {
          rejected.value = await a['fleet.rejected']({ limit: 50 })
        },
      ],
    ]
    await Promise.all(
      sections.map(async ([key, fn]) => {
        try {
          await fn()
          clearError(key)
        } catch (e) {
          setError(key, e)
        }
      }),
    )
  }

  async function closeQuarter(period: string): Promise<boolean> {
    const key = `close:${period}`
    busy.value = key
    clearError(key)
    try {
      await api()['audit.closeQuarter']({ period })
      await load()
      return true
    } catch (e) {
      setError(key, e)
      return false
    } finally {
      busy.value = null
    }
  }

  async function exportQuarter(period: string, draft: boolean): Promise<AuditExportView | null> {
    const key = `export:${period}`
    busy.value = key
    clearError(key)
    progress.value = { period, fraction: 0, step: 'starting', done: false, error: null }
    try {
      const r = await api()['audit.export']({ period, draft })
      lastExport.value = r
      exports.value = await api()['audit.exports']()
      return r
    } catch (e) {
      setError(key, e)
      return null
    } finally {
      busy.value = null
    }
  }

  async function verify(name: string): Promise<void> {
    const key = `verify:${name}`
    busy.value = key
    clearError(key)
    try {
      const r = await api()['audit.verifyExport']({ name })
      verifications.value = { ...verifications.value, [name]: r }
    } catch (e) {
      setError(key, e)
    } finally {
      busy.value = null
    }
  }

  function dispose(): void {
    unsubscribe?.()
    unsubscribe = null
  }

  return {
    periods,
    head,
    exports,
    changes,
    rejected,
    progress,
    lastExport,
    verifications,
    busy,
    errors,
    load,
    closeQuarter,
    exportQuarter,
    verify,
    dispose,
  }
})
