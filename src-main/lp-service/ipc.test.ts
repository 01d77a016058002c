// lpService.* through the real dispatcher over the real services (createServices, in-process ledger with every
// registered module): the status lists each LP with its switch and last requests, the switches persist
// append-only, and bad arguments come back as bad_args / not_found naming the field.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Result } from '../../src-shared/ipc/contract'
import type { LpServiceStatusView } from '../../src-shared/ipc/lp-service'
import { createAppLog } from '../app-log'
import { createDispatcher, type Dispatch } from '../ipc'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import { createServices, type Services } from '../services'

const ctx = { transport: 'ws', caller: 'test' } as const
let dir: string
let services: Services
let ledger: LedgerStore
let d: Dispatch
const pk = getPublicKey(new Uint8Array(32).fill(9))

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lp-service-ipc-'))
  const appLog = createAppLog()
  services = await createServices({
    runtime: 'node',
    dataDir: dir,
    appLog,
    emit: () => {},
    openLedger: async (o) => {
      ledger = await openLedgerInProcess({ dir: o.dir, autoSnapshot: false })
      return ledger
    },
  })
  await services.ledgerReady
  d = createDispatcher(services.handlers, appLog.log)
  await ledger.call('lps.register', {
    id: 'ana',
    npub: npubEncode(pk),
    pubkey: pk,
    name: 'Ana',
    currency: 'GTQ',
    mode: 'flow',
    destination: { kind: 'keysend', nodeId: `02${'11'.repeat(32)}` },
    payout: { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 0 },
    atMs: 1,
  })
  await ledger.call('lpss.log', {
    atMs: 2,
    pubkey: pk,
    lpId: 'ana',
    channel: 'rpc',
    eventId: 'aa'.repeat(32),
    requestId: 'r1',
    method: 'getBalance',
    outcome: 'answered',
    reason: null,
    answerEventId: 'bb'.repeat(32),
  })
})

afterAll(async () => {
  await services?.close()
  rmSync(dir, { recursive: true, force: true })
})

const ok = <T>(r: Result<unknown>): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.value as T
}

describe('lpService IPC', () => {
  it('shows each LP with its switch, counts and last requests', async () => {
    const s = ok<LpServiceStatusView>(await d('lpService.status', [{}], ctx))
    expect(s.enabled).toBe(true)
    expect(s.lps).toEqual([
      {
        lpId: 'ana',
        name: 'Ana',
        active: true,
        enabled: true,
        answered: 1,
        refused: 0,
        lastRequests: [
          {
            id: 1,
            atMs: 2,
            pubkey: pk,
            lpId: 'ana',
            channel: 'rpc',
            method: 'getBalance',
            outcome: 'answered',
            reason: null,
          },
        ],
      },
    ])
  })

  it('switches per LP and globally; the newest setting wins and history is kept', async () => {
    let s = ok<LpServiceStatusView>(await d('lpService.setEnabled', [{ lpId: 'ana', enabled: false }], ctx))
    expect(s.lps[0]!.enabled).toBe(false)
    s = ok<LpServiceStatusView>(await d('lpService.setEnabled', [{ lpId: null, enabled: false }], ctx))
    expect([s.enabled, s.lps[0]!.enabled]).toEqual([false, false])
    s = ok<LpServiceStatusView>(await d('lpService.setEnabled', [{ lpId: null, enabled: true }], ctx))
    s = ok<LpServiceStatusView>(await d('lpService.setEnabled', [{ lpId: 'ana', enabled: true }], ctx))
    expect([s.enabled, s.lps[0]!.enabled]).toEqual([true, true])
    await expect(ledger.transaction([{ sql: 'DELETE FROM lpss_setting' }])).rejects.toThrow(/append-only/)
    await expect(ledger.transaction([{ sql: "UPDATE lpss_request SET outcome = 'refused'" }])).rejects.toThrow(
      /append-only/,
    )
  })

  it('refuses bad arguments naming the field', async () => {
    const unknown = await d('lpService.setEnabled', [{ lpId: 'nobody', enabled: false }], ctx)
    expect(unknown.ok ? null : [unknown.error.code, unknown.error.field]).toEqual(['not_found', 'args[0].lpId'])
    const bad = await d('lpService.setEnabled', [{ lpId: 'ana', enabled: 'no' }], ctx)
    expect(bad.ok ? null : [bad.error.code, bad.error.field]).toEqual(['bad_args', 'args[0].enabled'])
    const limit = await d('lpService.status', [{ limit: 0 }], ctx)
    expect(limit.ok ? null : [limit.error.code, limit.error.field]).toEqual(['bad_args', 'args[0].limit'])
  })
})
