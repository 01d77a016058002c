// Notices store: short messages the main side pushes (`notice` events) or the renderer raises itself (e.g.
// "Settings saved"). Info notices fade after a while; warnings and errors stay until the operator dismisses them.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Notice } from '../api'

export interface ShownNotice extends Notice {
  id: number
}

/** A notice the renderer raises itself; the time defaults to now. */
export type NewNotice = Omit<Notice, 'atMs'> & { atMs?: number }

/** How long an info notice stays on screen. Warnings and errors have no timeout. */
export const INFO_NOTICE_MS = 6000
/** Older notices are dropped beyond this many so a chatty service cannot flood the screen. */
export const MAX_NOTICES = 5

export const useNoticesStore = defineStore('notices', () => {
  const items = ref<ShownNotice[]>([])
  let nextId = 1
  const timers = new Map<number, ReturnType<typeof setTimeout>>()

  function dismiss(id: number): void {
    items.value = items.value.filter((n) => n.id !== id)
    const t = timers.get(id)
    if (t !== undefined) clearTimeout(t)
    timers.delete(id)
  }

  function push(n: NewNotice): number {
    const id = nextId++
    items.value = [...items.value, { level: n.level, text: n.text, atMs: n.atMs ?? Date.now(), id }]
    while (items.value.length > MAX_NOTICES) {
      const first = items.value[0]
      if (first) dismiss(first.id)
    }
    if (n.level === 'info')
      timers.set(
        id,
        setTimeout(() => dismiss(id), INFO_NOTICE_MS),
      )
    return id
  }

  function start(): () => void {
    return api().on('notice', (n) => {
      push(n)
    })
  }

  return { items, push, dismiss, start }
})
