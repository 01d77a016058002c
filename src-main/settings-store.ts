// Operator settings persisted as `settings.json` in the data directory. Written atomically (temp file, fsync,
// rename, fsync the directory) so a crash leaves either the old or the new file, never a torn one. A file that
// fails the contract's schema is not silently replaced: it is renamed aside (`settings.json.invalid-<ms>`) with a
// log line naming the field, and defaults apply, so nothing the operator typed is lost.
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULT_SETTINGS, type Settings, type SettingsPatch, settingsSchema } from '../src-shared/ipc/contract'
import { SchemaError } from '../src-shared/ipc/schema'
import type { Logger } from '../src-shared/log'

export const SETTINGS_FILE = 'settings.json'

export interface SettingsStore {
  get(): Settings
  /** Applies an already validated patch, persists it, and answers the new settings. */
  set(patch: SettingsPatch): Promise<Settings>
}

async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `.${name}.tmp-${process.pid}`)
  const fh = await open(tmp, 'w', 0o600)
  try {
    await fh.writeFile(text)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, join(dir, name))
  // fsync the directory so the rename itself is durable; not supported on Windows, where rename is atomic anyway.
  if (process.platform !== 'win32') {
    const d = await open(dir, 'r')
    try {
      await d.sync()
    } finally {
      await d.close()
    }
  }
}

export async function openSettingsStore(dataDir: string, log: Logger, clockMs: () => number): Promise<SettingsStore> {
  await mkdir(dataDir, { recursive: true })
  const path = join(dataDir, SETTINGS_FILE)
  let current: Settings = { ...DEFAULT_SETTINGS, relays: [...DEFAULT_SETTINGS.relays] }
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  if (text !== undefined) {
    try {
      current = settingsSchema.parse(JSON.parse(text), 'settings')
    } catch (e) {
      const reason = e instanceof SchemaError ? e.message : `not JSON (${(e as Error).message})`
      const aside = `${path}.invalid-${clockMs()}`
      await rename(path, aside)
      log.warn('settings file invalid; kept aside, using defaults', { reason, keptAs: aside })
    }
  }
  // Writes are serialised, and each computes its result from the state the previous write left, so two quick
  // `settings.set` calls cannot interleave their temp files or lose one another's fields.
  let chain: Promise<unknown> = Promise.resolve()
  return {
    get: () => structuredClone(current),
    set(patch) {
      const run = chain.then(async () => {
        const next: Settings = { ...current, ...patch }
        await writeFileAtomic(dataDir, SETTINGS_FILE, `${JSON.stringify(next, null, 2)}\n`)
        current = next
        log.info('settings saved', { fields: Object.keys(patch).join(',') })
        return structuredClone(next)
      })
      chain = run.catch(() => undefined)
      return run
    },
  }
}
