// `v-scroll-region`: a container that scrolls sideways (a wide table) takes the keyboard focus while — and only
// while — its content overflows, so a keyboard user can scroll it with the arrow keys (WCAG 2.1.1; axe-core's
// `scrollable-region-focusable`), and a table that fits adds no extra Tab stop. While focusable it is a named
// region: its own aria-label, else the heading of the card around it.
import type { Directive } from 'vue'

const observers = new WeakMap<HTMLElement, ResizeObserver>()

function sync(el: HTMLElement): void {
  const overflows = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1
  if (!overflows) {
    el.removeAttribute('tabindex')
    return
  }
  el.setAttribute('tabindex', '0')
  // A stop in the Tab order needs a name: the element's own label, else the heading of the card it is in.
  if (!el.hasAttribute('aria-label')) {
    const heading = el.closest('section')?.querySelector('h2, h3')?.textContent?.trim()
    if (heading) el.setAttribute('aria-label', heading)
  }
  if (el.tagName !== 'SECTION' && !el.hasAttribute('role')) el.setAttribute('role', 'region')
}

export const vScrollRegion: Directive<HTMLElement> = {
  mounted(el) {
    sync(el)
    if (typeof ResizeObserver === 'undefined') return
    const ro = new ResizeObserver(() => sync(el))
    ro.observe(el)
    if (el.firstElementChild) ro.observe(el.firstElementChild)
    observers.set(el, ro)
  },
  updated(el) {
    sync(el)
  },
  unmounted(el) {
    observers.get(el)?.disconnect()
    observers.delete(el)
  },
}

declare module 'vue' {
  interface GlobalDirectives {
    vScrollRegion: typeof vScrollRegion
  }
}
