// Backup and restore against a real ledger in a temp directory: a backup holds exactly the committed state at its
// seq, a damaged backup is refused naming the file with nothing staged or replaced, and a sound one replaces the
// ledger at the next start with the previous ledger kept aside.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDirs } from '../../test/support/temp-dirs'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import { applyPendingRestore, BackupError, createBackup, PENDING_DIR, pendingRestore, stageRestore } from './backup'

const tmp = useTempDirs('satmachine-backup-')

const config = (atMs: number) => ({
  machineId: null,
  effectiveFromMs: atMs,
  atMs,
  cashOutPlatformPpm: 10_000,
  cashOutOperatorPpm: 40_000,
  cashInPlatformPpm: 10_000,
  cashInOperatorPpm: 30_000,
  splits: [],
  author: 'test',
})

const configCount = async (l: LedgerStore) =>
  Number((await l.query<{ n: number }>('SELECT COUNT(*) AS n FROM acct_config'))[0]!.n)

async function setup() {
  const dataDir = tmp()
  const out = tmp()
  const ledgerDir = join(dataDir, 'ledger')
  await mkdir(ledgerDir, { recursive: true })
  writeFileSync(join(dataDir, 'settings.json'), '{"operatorName":"Op","timeZone":"UTC","relays":[]}')
  const ledger = await openLedgerInProcess({ dir: ledgerDir, autoSnapshot: false })
  await ledger.call('accounting.setConfig', config(1000))
  await ledger.call('accounting.setConfig', config(2000))
  return { dataDir, out, ledgerDir, ledger }
}

const refusal = async (p: Promise<unknown>): Promise<BackupError> => {
  try {
    await p
  } catch (e) {
    if (e instanceof BackupError) return e
    throw e
  }
  throw new Error('expected a BackupError')
}

describe('backup', () => {
  it('copies a consistent snapshot + journal with a manifest of SHA-256s, and restores it verified', async () => {
    const { dataDir, out, ledgerDir, ledger } = await setup()
    const b = await createBackup({ ledger, ledgerDir, dataDir, folder: out, nowMs: Date.UTC(2026, 11, 2, 17) })
    expect(b.path).toBe(join(out, 'satmachine-backup-20261202-170000Z'))
    expect(b.seq).toBe((await ledger.status()).seq)
    expect(b.files.map((f) => f.name)).toEqual(expect.arrayContaining(['settings.json']))
    expect(b.files.some((f) => /^ledger\/snapshot-\d{16}\.sqlite$/.test(f.name))).toBe(true)
    const manifest = JSON.parse(readFileSync(join(b.path, 'manifest.json'), 'utf8'))
    expect(manifest.files).toEqual(b.files)

    // After the backup the ledger moves on; a third config is not in the backup.
    await ledger.call('accounting.setConfig', config(3000))
    expect(await configCount(ledger)).toBe(3)

    const r = await stageRestore({ path: b.path, dataDir, nowMs: 5000 })
    expect(r.checks).toEqual([
      `${b.files.length} files match their SHA-256 in the manifest`,
      `the ledger opens (transaction ${b.seq})`,
      'SQLite integrity check passes',
      'every reference between ledger rows resolves',
    ])
    expect(r.pendingRestart).toBe(true)
    expect(await pendingRestore(dataDir)).toMatchObject({ seq: b.seq })
    // Nothing replaced yet: the running ledger still has three.
    expect(await configCount(ledger)).toBe(3)
    await ledger.close()

    const aside = await applyPendingRestore(dataDir)
    expect(aside).toBe(r.keptAsidePath)
    expect(existsSync(join(dataDir, PENDING_DIR))).toBe(false)
    const restored = await openLedgerInProcess({ dir: ledgerDir, autoSnapshot: false })
    expect(await configCount(restored)).toBe(2)
    await restored.close()
    // The previous ledger is kept aside, whole: it still opens with all three.
    const previous = await openLedgerInProcess({ dir: aside!, autoSnapshot: false })
    expect(await configCount(previous)).toBe(3)
    await previous.close()
    expect(await applyPendingRestore(dataDir)).toBeNull()
  })

  it('refuses a corrupt backup naming the file; nothing is staged or replaced', async () => {
    const { dataDir, out, ledgerDir, ledger } = await setup()
    const b = await createBackup({ ledger, ledgerDir, dataDir, folder: out, nowMs: 1 })
    const snap = b.files.find((f) => f.name.startsWith('ledger/snapshot-'))!.name
    const path = join(b.path, snap)
    const bytes = readFileSync(path)
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff
    writeFileSync(path, bytes)

    const e = await refusal(stageRestore({ path: b.path, dataDir, nowMs: 2 }))
    expect(e.file).toBe(snap)
    expect(e.message).toBe(`${snap}: does not match its SHA-256 in the manifest (damaged or changed)`)
    expect(await pendingRestore(dataDir)).toBeNull()
    expect(readdirSync(dataDir).sort()).toEqual(['ledger', 'settings.json'])
    expect(await configCount(ledger)).toBe(2)

    // Other damage: a missing manifest, an extra file, a truncated journal; each names its file.
    const b2 = await createBackup({ ledger, ledgerDir, dataDir, folder: out, nowMs: 3 })
    writeFileSync(join(b2.path, 'ledger', 'extra.txt'), 'x')
    expect((await refusal(stageRestore({ path: b2.path, dataDir, nowMs: 4 }))).file).toBe('ledger/extra.txt')
    const b3 = await createBackup({ ledger, ledgerDir, dataDir, folder: tmp(), nowMs: 5 })
    writeFileSync(join(b3.path, 'manifest.json'), '{not json')
    expect((await refusal(stageRestore({ path: b3.path, dataDir, nowMs: 6 }))).file).toBe('manifest.json')
    expect(await pendingRestore(dataDir)).toBeNull()
    await ledger.close()
  })

  it('a manifest that matches tampered files still does not pass when the ledger does not open', async () => {
    const { dataDir, out, ledgerDir, ledger } = await setup()
    const b = await createBackup({ ledger, ledgerDir, dataDir, folder: out, nowMs: 1 })
    await ledger.close()
    const m = JSON.parse(readFileSync(join(b.path, 'manifest.json'), 'utf8'))
    const snap = m.files.find((f: { name: string }) => f.name.startsWith('ledger/snapshot-'))
    const bytes = readFileSync(join(b.path, snap.name))
    bytes[100] = bytes[100]! ^ 0xff // inside the body: the snapshot's own checksum no longer holds
    writeFileSync(join(b.path, snap.name), bytes)
    snap.sha256 = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex')
    writeFileSync(join(b.path, 'manifest.json'), JSON.stringify(m))
    const e = await refusal(stageRestore({ path: b.path, dataDir, nowMs: 2 }))
    expect(e.file).toMatch(/^ledger/)
    expect(e.message).toMatch(/does not open/)
    expect(await pendingRestore(dataDir)).toBeNull()
  })

  it('refuses a folder that does not exist or lies inside the data directory', async () => {
    const { dataDir, ledgerDir, ledger } = await setup()
    expect(
      (await refusal(createBackup({ ledger, ledgerDir, dataDir, folder: '/nonexistent/x', nowMs: 1 }))).message,
    ).toMatch(/does not exist/)
    expect((await refusal(createBackup({ ledger, ledgerDir, dataDir, folder: dataDir, nowMs: 1 }))).message).toMatch(
      /outside/,
    )
    await ledger.close()
  })

  it('reports each step of a backup and of a restore check, in order, with a growing share of the work', async () => {
    const { dataDir, out, ledgerDir, ledger } = await setup()
    const steps: Array<{ step: string; fraction: number }> = []
    const onProgress = (step: string, fraction: number) => steps.push({ step, fraction })
    const b = await createBackup({ ledger, ledgerDir, dataDir, folder: out, nowMs: 7000, onProgress })
    expect(steps[0]?.step).toMatch(/snapshot/)
    expect(steps.some((s) => /Writing ledger file 1 of \d/.test(s.step))).toBe(true)
    expect(steps.at(-1)?.step).toMatch(/manifest/)
    const backupSteps = steps.splice(0)
    await stageRestore({ path: b.path, dataDir, nowMs: 8000, onProgress })
    expect(steps.filter((s) => /Checking file \d+ of \d+/.test(s.step)).length).toBe(b.files.length)
    expect(steps.map((s) => s.step)).toContain('Running the SQLite integrity check')
    expect(steps.at(-1)?.step).toMatch(/Staging/)
    for (const list of [backupSteps, steps]) {
      const f = list.map((s) => s.fraction)
      expect([...f].sort((x, y) => x - y)).toEqual(f)
      expect(f.every((x) => x >= 0 && x < 1)).toBe(true)
    }
    await ledger.close()
  })
})
