// Theme store: light or dark. The operator's choice is kept in localStorage; without one the system preference
// (prefers-color-scheme) decides and is followed live. The choice is applied as `data-theme` on <html>, which the
// design tokens in styles/base.css switch on, and read by the charts for their palette.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

export type ThemeName = 'light' | 'dark'
const KEY = 'satmachine.theme'

function stored(): ThemeName | null {
  try {
    const v = globalThis.localStorage?.getItem(KEY)
    return v === 'light' || v === 'dark' ? v : null
  } catch {
    return null
  }
}

export const useThemeStore = defineStore('theme', () => {
  const choice = ref<ThemeName | null>(stored())
  const media =
    typeof globalThis.matchMedia === 'function' ? globalThis.matchMedia('(prefers-color-scheme: dark)') : null
  const systemDark = ref(media?.matches ?? false)
  media?.addEventListener('change', (e) => {
    systemDark.value = e.matches
    apply()
  })
  const theme = computed<ThemeName>(() => choice.value ?? (systemDark.value ? 'dark' : 'light'))

  function apply(): void {
    if (typeof document !== 'undefined') document.documentElement.dataset.theme = theme.value
  }
  function set(t: ThemeName): void {
    choice.value = t
    try {
      globalThis.localStorage?.setItem(KEY, t)
    } catch {
      // Private mode or storage disabled: the choice lasts for this window.
    }
    apply()
  }
  function toggle(): void {
    set(theme.value === 'dark' ? 'light' : 'dark')
  }
  apply()
  return { theme, choice, set, toggle, apply }
})
