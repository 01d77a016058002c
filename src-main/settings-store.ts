// Operator settings persisted as `settings.json` in the data directory. Written atomically (temp file, fsync,
// rename, fsync the directory) so a crash leaves either the old or the new file, never a torn one. A file that
// fails the contract's schema is not silently replaced: it is renamed aside (`settings.json.invalid-<ms>`) with a
// log line naming the field, and defaults apply, so nothing the operator typed is lost.
import { mkdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import {
  DEFAULT_SETTINGS,
  relayUrl,
  type Settings,
  type SettingsPatch,
  settingsSchema,
} from '../src-shared/ipc/contract'
import { SchemaError } from '../src-shared/ipc/schema'
import type { Logger } from '../src-shared/log'
import { readJsonFile, serialQueue, writeJsonAtomic } from './fs-atomic'

export const SETTINGS_FILE = 'settings.json'

export interface SettingsStore {
  get(): Settings
  /** Applies an already validated patch, persists it, and answers the new settings. */
  set(patch: SettingsPatch): Promise<Settings>
}

/**
 * Relay addresses saved before the relay check got strict (issue 9c: `ws://!!garbage!!` used to be accepted) would
 * otherwise make the whole file fail and be set aside, losing the operator key pinned in it. Such entries are dropped
 * with a warning naming each; the rest of the file loads as it is (and is rewritten without them on the next save).
 */
function dropRefusedRelays(value: unknown, log: Logger): unknown {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { relays?: unknown }).relays))
    return value
  const o = value as { relays: unknown[] }
  const kept = o.relays.filter((r, i) => {
    try {
      relayUrl.parse(r, `settings.relays[${i}]`)
      return true
    } catch (e) {
      log.warn('saved relay dropped: not a relay address', {
        index: i,
        reason: e instanceof SchemaError ? e.reason : String(e),
      })
      return false
    }
  })
  return kept.length === o.relays.length ? value : { ...o, relays: kept }
}

export async function openSettingsStore(dataDir: string, log: Logger, clockMs: () => number): Promise<SettingsStore> {
  await mkdir(dataDir, { recursive: true })
  const path = join(dataDir, SETTINGS_FILE)
  let current: Settings = { ...DEFAULT_SETTINGS, relays: [...DEFAULT_SETTINGS.relays] }
  const read = await readJsonFile(path)
  if (read.kind !== 'missing') {
    let reason: string | undefined
    if (read.kind === 'not-json') reason = `not JSON (${read.reason})`
    else {
      try {
        current = settingsSchema.parse(dropRefusedRelays(read.value, log), 'settings')
      } catch (e) {
        reason = e instanceof SchemaError ? e.message : `not JSON (${(e as Error).message})`
      }
    }
    if (reason !== undefined) {
      const aside = `${path}.invalid-${clockMs()}`
      await rename(path, aside)
      log.warn('settings file invalid; kept aside, using defaults', { reason, keptAs: aside })
    }
  }
  // Writes are serialised, and each computes its result from the state the previous write left, so two quick
  // `settings.set` calls cannot interleave their temp files or lose one another's fields.
  const serial = serialQueue()
  return {
    get: () => structuredClone(current),
    set: (patch) =>
      serial(async () => {
        const next: Settings = { ...current, ...patch }
        await writeJsonAtomic(dataDir, SETTINGS_FILE, next)
        current = next
        log.info('settings saved', { fields: Object.keys(patch).join(',') })
        return structuredClone(next)
      }),
  }
}
