// The bunker's store: a version-1 clients file is migrated, an unknown version is refused (not overwritten), the
// request log pages newest first and survives a torn last line.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import type { ClientPermissions } from '../../src-shared/nostr/nip46'
import { useTempDirs } from '../../test/support/temp-dirs'
import { BunkerStoreError, CLIENTS_FILE, openBunkerStore, REQUESTS_FILE } from './store'

const tempDir = useTempDirs('bunker-store-')
const perms: ClientPermissions = { methods: ['get_public_key'], kinds: [], dTagPatterns: [] }

describe('bunker store', () => {
  it('migrates version 1 clients and refuses an unknown version', async () => {
    const dir = tempDir()
    const c = { pubkey: 'ab'.repeat(32), name: 'old', permissions: perms, authorisedAtMs: 1, revokedAtMs: null }
    writeFileSync(join(dir, CLIENTS_FILE), JSON.stringify({ version: 1, clients: [c] }))
    const s = await openBunkerStore(dir, memoryLogger())
    expect(s.clients()).toEqual([{ ...c, via: 'bunker' }])
    await s.upsertClient({ ...c, via: 'bunker', revokedAtMs: 5 })
    expect(JSON.parse(readFileSync(join(dir, CLIENTS_FILE), 'utf8')).version).toBe(2)

    const dir2 = tempDir()
    writeFileSync(join(dir2, CLIENTS_FILE), JSON.stringify({ version: 9, clients: [] }))
    await expect(openBunkerStore(dir2, memoryLogger())).rejects.toBeInstanceOf(BunkerStoreError)
    expect(JSON.parse(readFileSync(join(dir2, CLIENTS_FILE), 'utf8')).version).toBe(9)
  })

  it('pages the request log newest first and skips a torn line', async () => {
    const dir = tempDir()
    const s = await openBunkerStore(dir, memoryLogger())
    for (let i = 0; i < 5; i++)
      await s.appendLog({
        atMs: i,
        clientPubkey: 'ab'.repeat(32),
        method: 'ping',
        summary: '',
        outcome: 'answered',
        detail: String(i),
      })
    appendFileSync(join(dir, REQUESTS_FILE), '{"seq":6,"atM')
    const log = memoryLogger()
    const again = await openBunkerStore(dir, log)
    const p = await again.pageLog({ offset: 1, limit: 2 })
    expect(p.total).toBe(5)
    expect(p.entries.map((e) => e.detail)).toEqual(['3', '2'])
    expect(log.records.some((r) => r.msg.includes('unreadable line'))).toBe(true)
    // The next entry after the torn line is readable.
    await again.appendLog({
      atMs: 9,
      clientPubkey: 'ab'.repeat(32),
      method: 'ping',
      summary: '',
      outcome: 'busy',
      detail: 'after',
    })
    const top = await again.pageLog({ offset: 0, limit: 1 })
    expect(top.total).toBe(6)
    expect(top.entries[0]).toMatchObject({ seq: 6, detail: 'after' })
  })
})
