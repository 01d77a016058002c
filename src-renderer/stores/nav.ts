// Navigation store: which top-level view is shown. The app has a handful of fixed views and no nested routes,
// so a typed store replaces a router. The current view is mirrored into `location.hash` (`#/fleet`) so a reload,
// the browser's back button in headless mode, and a bookmark all land on the same view. The hash never carries
// data, only a view id from the fixed list; anything else falls back to the dashboard.
import { defineStore } from 'pinia'
import { ref } from 'vue'

export const VIEWS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'fleet', label: 'Fleet' },
  { id: 'lps', label: 'Liquidity providers' },
  { id: 'settlements', label: 'Settlements' },
  { id: 'audit', label: 'Audit' },
  { id: 'signer', label: 'Signer' },
  { id: 'settings', label: 'Settings' },
] as const

/** Views reached by a link rather than an entry of the side navigation: the first-run wizard. */
export const EXTRA_VIEWS = [{ id: 'welcome', label: 'Get started' }] as const

export type ViewId = (typeof VIEWS)[number]['id'] | (typeof EXTRA_VIEWS)[number]['id']

const VIEW_IDS: readonly string[] = [...VIEWS, ...EXTRA_VIEWS].map((v) => v.id)

export function isViewId(s: string): s is ViewId {
  return VIEW_IDS.includes(s)
}

/** Reads a view id from a hash such as `#/fleet`; unknown or empty hashes mean the dashboard. */
export function viewFromHash(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, '')
  return isViewId(id) ? id : 'dashboard'
}

export const useNavStore = defineStore('nav', () => {
  const current = ref<ViewId>(viewFromHash(window.location.hash))

  function go(id: ViewId): void {
    current.value = id
    const hash = `#/${id}`
    if (window.location.hash !== hash) window.location.hash = hash
  }

  const onHashChange = () => {
    current.value = viewFromHash(window.location.hash)
  }

  /** Follows hash changes made outside the app (back/forward, a typed URL); returns the unsubscribe. */
  function follow(): () => void {
    window.addEventListener('hashchange', onHashChange)
    return () => window.removeEventListener('hashchange', onHashChange)
  }

  const label = (id: ViewId): string => [...VIEWS, ...EXTRA_VIEWS].find((v) => v.id === id)?.label ?? id

  return { current, go, follow, label }
})
