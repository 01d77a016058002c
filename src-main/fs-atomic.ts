// Crash-safe small files in the data directory (settings.json, secrets.json). A write goes to a temp file in the
// same folder, is fsynced, renamed over the target and the folder is fsynced, so after a crash the file is either
// the old one or the new one, never torn (POSIX rename(2) is atomic within one file system). Reading answers a
// typed result: a missing file and a file that is not JSON are separate outcomes, so each caller decides what a
// corrupt file means for it (settings are kept aside, secrets are refused) and nothing is silently overwritten.
import { open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'

/** Writes `text` to `dir/name` atomically with mode 0600 (the files hold operator data or sealed secrets). */
export async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
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

/** Writes `value` as pretty-printed JSON (two-space indent, trailing newline) with `writeFileAtomic`. */
export function writeJsonAtomic(dir: string, name: string, value: unknown): Promise<void> {
  return writeFileAtomic(dir, name, `${JSON.stringify(value, null, 2)}\n`)
}

/** What `readJsonFile` found. `not-json` carries the parser's reason; any other read error is thrown. */
export type JsonFileRead = { kind: 'missing' } | { kind: 'json'; value: unknown } | { kind: 'not-json'; reason: string }

/** Reads and parses a JSON file; a missing file is `missing`, unparsable text is `not-json`. */
export async function readJsonFile(path: string): Promise<JsonFileRead> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' }
    throw e
  }
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown }
  } catch (e) {
    return { kind: 'not-json', reason: (e as Error).message }
  }
}

/**
 * A queue that runs tasks one after another, each after the previous one settled (whether it succeeded or
 * failed), so two quick writes never interleave their temp files or compute from a stale state.
 */
export function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve()
  return (task) => {
    const run = chain.then(task, task)
    chain = run.catch(() => undefined)
    return run
  }
}
