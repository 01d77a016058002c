// A value the main side pushes (ledger status, relay status), as a small composable for setup stores. `start`
// subscribes to the push event FIRST and then fetches the current value, so no push between the two is missed;
// a push that lands while the fetch is in flight wins, because it is at least as new as the fetch's answer.
import { type Ref, ref } from 'vue'
import { toApiError } from '../api'

export interface LiveValue<T> {
  /** The newest value, or null before the first answer. */
  value: Ref<T | null>
  /** The fetch's error message, or null once a fetch succeeded. */
  error: Ref<string | null>
  /** Subscribes, then fetches; returns the unsubscribe. */
  start: () => () => void
}

export function useLiveValue<T>(
  subscribe: (onPush: (value: T) => void) => () => void,
  fetch: () => Promise<T>,
): LiveValue<T> {
  const value = ref(null) as Ref<T | null>
  const error = ref<string | null>(null)

  function start(): () => void {
    let pushed = false
    const off = subscribe((v) => {
      pushed = true
      value.value = v
    })
    fetch()
      .then((v) => {
        if (!pushed) value.value = v
        error.value = null
      })
      .catch((e: unknown) => {
        error.value = toApiError(e).message
      })
    return off
  }

  return { value, error, start }
}
