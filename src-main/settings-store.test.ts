// Settings persistence: atomic writes, serialised concurrent patches, and a corrupt file kept aside (not lost)
// with the reason logged.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS } from '../src-shared/ipc/contract'
import { memoryLogger } from '../src-shared/log'
import { openSettingsStore, SETTINGS_FILE } from './settings-store'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'satmachine-settings-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('settings store', () => {
  it('starts from defaults and persists patches across reopen', async () => {
    const s = await openSettingsStore(dir, memoryLogger(), () => 1)
    expect(s.get()).toEqual(DEFAULT_SETTINGS)
    await s.set({ operatorName: 'Alice' })
    const again = await openSettingsStore(dir, memoryLogger(), () => 1)
    expect(again.get()).toEqual({ ...DEFAULT_SETTINGS, operatorName: 'Alice' })
    expect(readdirSync(dir)).toEqual([SETTINGS_FILE]) // no temp file left behind
  })

  it('applies concurrent patches in order without losing either', async () => {
    const s = await openSettingsStore(dir, memoryLogger(), () => 1)
    const [a, b] = await Promise.all([s.set({ operatorName: 'Bob' }), s.set({ timeZone: 'America/New_York' })])
    expect(a).toEqual({ ...DEFAULT_SETTINGS, operatorName: 'Bob' })
    expect(b).toEqual({ ...DEFAULT_SETTINGS, operatorName: 'Bob', timeZone: 'America/New_York' })
    expect(JSON.parse(readFileSync(join(dir, SETTINGS_FILE), 'utf8'))).toEqual(b)
  })

  it('returns copies: mutating a result does not change the store', async () => {
    const s = await openSettingsStore(dir, memoryLogger(), () => 1)
    s.get().relays.push('wss://sneaky.example')
    expect(s.get().relays).toEqual([])
  })

  it.each([
    ['not JSON', '{oops', /not JSON/],
    ['a bad field', JSON.stringify({ ...DEFAULT_SETTINGS, timeZone: 'Nowhere/Town' }), /settings\.timeZone: expected/],
    ['an unknown field', JSON.stringify({ ...DEFAULT_SETTINGS, extra: 1 }), /settings\.extra: unexpected field/],
  ])('keeps a file with %s aside, logs why, and uses defaults', async (_name, text, reason) => {
    writeFileSync(join(dir, SETTINGS_FILE), text)
    const log = memoryLogger()
    const s = await openSettingsStore(dir, log, () => 1234)
    expect(s.get()).toEqual(DEFAULT_SETTINGS)
    expect(readFileSync(join(dir, `${SETTINGS_FILE}.invalid-1234`), 'utf8')).toBe(text)
    expect(log.records.at(-1)?.level).toBe('warn')
    expect(String(log.records.at(-1)?.fields.reason)).toMatch(reason)
  })

  it('drops a saved relay the stricter check refuses, keeping the rest of the file (issue 9c)', async () => {
    const pk = 'ab'.repeat(32)
    const saved = { ...DEFAULT_SETTINGS, operatorPubkey: pk, relays: ['wss://relay.example.com', 'ws://!!garbage!!'] }
    writeFileSync(join(dir, SETTINGS_FILE), JSON.stringify(saved))
    const log = memoryLogger()
    const s = await openSettingsStore(dir, log, () => 1)
    expect(s.get()).toEqual({ ...saved, relays: ['wss://relay.example.com'] })
    expect(readdirSync(dir)).toEqual([SETTINGS_FILE])
    const warn = log.records.find((r) => r.level === 'warn')
    expect(warn?.msg).toBe('saved relay dropped: not a relay address')
    expect(warn?.fields.index).toBe(1)
  })
})
