// What the console keeps about the operator's hardware signer (docs/signer-host.md), in <data>/signer/:
//   pin.json       the pinned device: its npub (x-only pubkey), serial and model, and when it was pinned. Public
//                  data (no secret: the key never leaves the device), written atomically.
//   requests.jsonl every request the signer was asked, one JSON line each (who asked, what, when, outcome),
//                  append-only; a torn last line after a crash is skipped on read.
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { SignerPinView, SignerRequestLogEntry, SignerRequestLogView } from '../../src-shared/ipc/signer-device'
import type { Logger } from '../../src-shared/log'
import { readJsonFile, serialQueue, writeJsonAtomic } from '../fs-atomic'

export const PIN_FILE = 'pin.json'
export const SIGNER_REQUESTS_FILE = 'requests.jsonl'

export type SignerPin = SignerPinView

export interface DeviceStore {
  pin(): SignerPin | null
  savePin(pin: SignerPin | null): Promise<void>
  appendRequest(e: Omit<SignerRequestLogEntry, 'seq'>): Promise<SignerRequestLogEntry>
  pageRequests(o: { offset: number; limit: number }): SignerRequestLogView
}

function isPin(v: unknown): v is SignerPin {
  const p = v as Partial<SignerPin> | null
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.pubkey === 'string' &&
    /^[0-9a-f]{64}$/.test(p.pubkey) &&
    typeof p.npub === 'string' &&
    typeof p.serial === 'string' &&
    typeof p.model === 'string' &&
    typeof p.pinnedAtMs === 'number'
  )
}

export async function openDeviceStore(dir: string, log: Logger): Promise<DeviceStore> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const read = await readJsonFile(join(dir, PIN_FILE))
  let pin: SignerPin | null = null
  if (read.kind === 'json' && isPin(read.value)) pin = read.value
  else if (read.kind !== 'missing') log.warn('signer pin file unreadable; no signer is pinned', { file: PIN_FILE })
  const entries: SignerRequestLogEntry[] = []
  try {
    const lines = (await readFile(join(dir, SIGNER_REQUESTS_FILE), 'utf8')).split('\n')
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue
      try {
        entries.push(JSON.parse(line) as SignerRequestLogEntry)
      } catch {
        log.warn('signer request log: unreadable line skipped', { line: i + 1 })
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const queue = serialQueue()
  return {
    pin: () => pin,
    savePin: (p) =>
      queue(async () => {
        if (p) await writeJsonAtomic(dir, PIN_FILE, p)
        else await rm(join(dir, PIN_FILE), { force: true })
        pin = p
      }),
    appendRequest: (e) =>
      queue(async () => {
        const entry: SignerRequestLogEntry = { seq: (entries.at(-1)?.seq ?? 0) + 1, ...e }
        await appendFile(join(dir, SIGNER_REQUESTS_FILE), `${JSON.stringify(entry)}\n`, { mode: 0o600 })
        entries.push(entry)
        return entry
      }),
    pageRequests: ({ offset, limit }) => {
      const newestFirst = entries.length - 1 - offset
      const page: SignerRequestLogEntry[] = []
      for (let i = newestFirst; i >= 0 && page.length < limit; i--) page.push(entries[i] as SignerRequestLogEntry)
      return { total: entries.length, entries: page }
    },
  }
}
