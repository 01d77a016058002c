// `satmachine audit-export` and `satmachine verify-audit` as the dispatcher runs them: both answer --help with exit
// 0, refuse unknown options naming them (exit 2), audit-export names what is missing (an option, Chromium) and
// exports a seeded data directory; verify-audit takes the folder as its argument and --relays with several URLs,
// and exits 1 naming what differs.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@noble/hashes/utils.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import { editSnapshot } from '../../test/support/ledger-tamper'
import { chromiumPrinter, findChromium, PrinterMissingError } from '../audit-export/pdf'
import {
  blankPrinter,
  CONSOLE_SECRET,
  openAuditLedger,
  type SeededLedger,
  seedAuditLedger,
  signHead,
} from '../audit-export/test-support'
import { main } from '../cli'
import { lazySecretStore, SecretSlots } from '../secrets/secret-store'
import { runAuditExport, runVerifyAudit, splitVerifyArgs } from './audit'

function io() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err }
}

describe('audit-export / verify-audit options', () => {
  it('both answer --help with exit 0 and are listed by help', async () => {
    for (const cmd of ['audit-export', 'verify-audit']) {
      const t = io()
      expect(await main([cmd, '--help'], t.io)).toBe(0)
      expect(t.out.join('\n')).toMatch(new RegExp(`usage: satmachine ${cmd}`))
    }
    const t = io()
    expect(await main(['help'], t.io)).toBe(0)
    expect(t.out.join('\n')).toMatch(/audit-export/)
    expect(t.out.join('\n')).toMatch(/verify-audit/)
  })

  it('refuse unknown options naming them', async () => {
    const a = io()
    expect(await main(['audit-export', '--quater', '2026Q4'], a.io)).toBe(2)
    expect(a.err.join('\n')).toMatch(/unknown option '--quater'/)
    const v = io()
    expect(await main(['verify-audit', 'DIR', '--allow-drafts'], v.io)).toBe(2)
    expect(v.err.join('\n')).toMatch(/unknown option '--allow-drafts'/)
  })

  it('audit-export names a missing option and a malformed quarter', async () => {
    const a = io()
    expect(await main(['audit-export', '--quarter', '2026Q4', '--out', '/tmp/x'], a.io)).toBe(2)
    expect(a.err.join('\n')).toMatch(/--data-dir is required/)
    const b = io()
    expect(await main(['audit-export', '--data-dir', '/tmp', '--quarter', '2026-Q4', '--out', '/tmp/x'], b.io)).toBe(2)
    expect(b.err.join('\n')).toMatch(/--quarter: '2026-Q4' is not of the form 2026Q4/)
  })

  it('names the missing Chromium binary', async () => {
    await expect(chromiumPrinter({ CHROMIUM_PATH: '/nonexistent/chromium' })).rejects.toThrow(
      /CHROMIUM_PATH names \/nonexistent\/chromium/,
    )
    await expect(chromiumPrinter({ CHROMIUM_PATH: '/nonexistent/chromium' })).rejects.toBeInstanceOf(
      PrinterMissingError,
    )
    expect(findChromium({ CHROMIUM_PATH: '/nonexistent/chromium' })).toBeNull()
    const a = io()
    const code = await runAuditExport(['--data-dir', '/tmp', '--quarter', '2026Q4', '--out', '/tmp/none'], a.io, {
      printer: () => chromiumPrinter({ CHROMIUM_PATH: '/nonexistent/chromium' }),
    })
    expect(code).toBe(1)
    expect(a.err.join('\n')).toMatch(/cannot print the report: .*chromium/i)
  })

  it('verify-audit takes the folder and several relays', () => {
    expect(splitVerifyArgs(['out', '--relays', 'ws://a', 'wss://b', '--allow-draft'])).toEqual({
      dir: 'out',
      relays: ['ws://a', 'wss://b'],
      rest: ['--allow-draft'],
    })
    expect(() => splitVerifyArgs(['out', '--relays'])).toThrow(/--relays needs at least one/)
  })

  it('verify-audit without a folder, or on a folder without a manifest, fails naming it', async () => {
    const a = io()
    expect(await main(['verify-audit'], a.io)).toBe(2)
    expect(a.err.join('\n')).toMatch(/name the export folder/)
    const b = io()
    expect(await runVerifyAudit(['/nonexistent-export'], b.io)).toBe(1)
    expect(b.err.join('\n')).toMatch(/manifest.json: missing from \/nonexistent-export/)
  })
})

describe('audit-export on a data directory', () => {
  let s: SeededLedger
  beforeAll(async () => {
    s = await seedAuditLedger({ settlements: 80 })
    await signHead(s, Date.UTC(2026, 11, 2))
    await s.store.snapshot()
    await s.store.close()
  }, 120_000)
  afterAll(async () => {
    await s?.dispose()
  })

  it('refuses a quarter that is not closed without --draft, then exports the draft and it verifies', async () => {
    const deps = {
      openLedger: async () => openAuditLedger(s.dataDir),
      printer: blankPrinter,
      nowMs: () => Date.UTC(2026, 11, 2),
    }
    const a = io()
    expect(
      await runAuditExport(
        ['--data-dir', s.dataDir, '--quarter', s.quarter, '--out', join(s.dataDir, 'e1')],
        a.io,
        deps,
      ),
    ).toBe(1)
    expect(a.err.join('\n')).toMatch(/--quarter: 2026Q3 is not closed yet/)
    const b = io()
    const out = join(s.dataDir, 'e2')
    expect(
      await runAuditExport(['--data-dir', s.dataDir, '--quarter', s.quarter, '--out', out, '--draft'], b.io, deps),
    ).toBe(0)
    expect(b.out.join('\n')).toMatch(/exported 2026Q3 \(DRAFT\): 80 settlements/)
    expect(b.out.join('\n')).toMatch(/manifest.json SHA-256 [0-9a-f]{64}/)
    const v = io()
    expect(await runVerifyAudit([out], v.io)).toBe(1)
    expect(v.err.join('\n')).toMatch(/DRAFT/)
    const w = io()
    expect(await runVerifyAudit([out, '--allow-draft'], w.io)).toBe(0)
  })

  it('--secret-key-file signs a fresh draft head with the sealed console key, covering rows booked after the last one', async () => {
    const keyFile = join(s.dataDir, 'keys', 'secret.key')
    await mkdir(join(s.dataDir, 'keys'), { recursive: true })
    const secrets = await lazySecretStore({ dataDir: s.dataDir, keyFile, log: memoryLogger() })()
    await secrets.put(SecretSlots.consoleKey, bytesToHex(CONSOLE_SECRET))
    // A note booked after the newest head: the old head does not cover it.
    const store = await openAuditLedger(s.dataDir)
    await store.call('accounting.addNote', {
      settlementId: 3,
      author: 'operator',
      text: 'late note',
      atMs: Date.UTC(2026, 8, 1),
    })
    await store.snapshot()
    await store.close()
    const printer = blankPrinter
    const args = (out: string) => [
      '--data-dir',
      s.dataDir,
      '--quarter',
      s.quarter,
      '--out',
      join(s.dataDir, out),
      '--draft',
    ]
    const stale = io()
    expect(await runAuditExport(args('stale'), stale.io, { printer })).toBe(0)
    expect(stale.err.join('\n')).toMatch(/warning: the newest signed head covers \d+ of \d+ log entries/)
    const usage = io()
    expect(
      await runAuditExport(
        ['--data-dir', s.dataDir, '--quarter', s.quarter, '--out', join(s.dataDir, 'x'), '--secret-key-file', keyFile],
        usage.io,
        { printer },
      ),
    ).toBe(2)
    expect(usage.err.join('\n')).toMatch(/--secret-key-file: only with --draft/)
    const fresh = io()
    expect(await runAuditExport([...args('fresh'), '--secret-key-file', keyFile], fresh.io, { printer })).toBe(0)
    expect(fresh.out.join('\n')).toMatch(/signed a draft head over \d+ log entries with the console key/)
    expect(fresh.err).toEqual([])
    const v = io()
    expect(await runVerifyAudit([join(s.dataDir, 'fresh'), '--allow-draft'], v.io)).toBe(0)
  })

  it('opens the data directory through the start-up check: a clean one exports, an edited one is refused naming the entry', async () => {
    const printer = blankPrinter
    const a = io()
    const args = (out: string) => [
      '--data-dir',
      s.dataDir,
      '--quarter',
      s.quarter,
      '--out',
      join(s.dataDir, out),
      '--draft',
    ]
    expect(await runAuditExport(args('checked'), a.io, { printer })).toBe(0)
    await editSnapshot(
      join(s.dataDir, 'ledger'),
      'UPDATE acct_settlement SET wire_msat = wire_msat + 1000 WHERE id = 9',
    )
    const b = io()
    expect(await runAuditExport(args('refused'), b.io, { printer })).toBe(1)
    expect(b.err.join('\n')).toMatch(/--data-dir: the ledger in .* cannot be exported: .*acct_settlement/)
  })
})
