// The one dispatcher every transport uses: unknown methods, schema failures, handler errors and non-JSON results
// all become Result envelopes, with the reason logged and no argument value in the log.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError, type EventName, type Handlers, METHOD_NAMES } from '../src-shared/ipc/contract'
import { memoryLogger } from '../src-shared/log'
import { createAppLog } from './app-log'
import { createDispatcher } from './ipc'
import { createServices, type Services } from './services'

const ctx = { transport: 'ws', caller: 'test' } as const

describe('createDispatcher over the real services', () => {
  let dir: string
  let services: Services
  const emitted: { event: EventName; payload: unknown }[] = []
  const appLog = createAppLog()
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'satmachine-ipc-'))
    services = await createServices({
      runtime: 'node',
      dataDir: dir,
      appLog,
      emit: (event, payload) => emitted.push({ event, payload }),
    })
  })
  afterAll(async () => {
    await services.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers every method with an envelope for well-formed calls', async () => {
    const d = createDispatcher(services.handlers, appLog.log)
    const good: Record<string, unknown[]> = {
      'settings.set': [{ operatorName: 'A' }],
      'log.recent': [{}],
      'fleet.rejected': [{}],
      'setup.setOperator': [{ operatorNpub: '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798' }],
      'remoteSigner.cancel': [{ requestId: 'r-1' }],
      'signer.cancel': [{ requestId: 'r-1' }],
      'signer.requests': [{}],
      // ---- onboarding (issue 13): progress and a relay check need no ledger (a closed port answers ok: false) ----
      'onboarding.save': [{ step: 'relays', done: 'signer' }],
      'onboarding.checkRelay': [{ url: 'ws://127.0.0.1:9' }],
      // ---- settings screen (issue 9c): the check answers ok with ok:false for a closed port ----
      'settings.checkRelay': [{ url: 'ws://127.0.0.1:9', timeoutMs: 1000 }],
    }
    // Well-formed but refused by the handler itself, naming the field (src-main/settings-screen/service.test.ts).
    const refused: Record<string, unknown[]> = {
      'backup.restore': [{ folder: join(dir, 'no-such-backup') }],
    }
    // LP methods read the ledger, which this suite does not open: well-formed calls answer `unavailable`
    // (src-main/lps/lps-ipc.test.ts runs them over a real ledger).
    const lpId = { lpId: 'lp-x' }
    const lpPolicy = { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 0 }
    const ledgerOnly: Record<string, unknown[]> = {
      'lps.list': [{}],
      'lps.deposit.record': [{ ...lpId, amountMinor: '100' }],
      'lps.deposit.confirm': [{ depositId: 'd' }],
      'lps.deposit.reverse': [{ depositId: 'd', reason: 'r' }],
      'lps.statement': [{ ...lpId, fromMs: 0, toMs: 1 }],
      'lps.dustSettle': [{ ...lpId, rateMsatPerMajor: '1' }],
      'lps.deactivate': [{ ...lpId, reason: 'r' }],
      'lps.history': [lpId],
      // liquidity providers screen (issue 9): no fleet runs here, so nothing can be sent
      'lps.statement.send': [{ ...lpId, fromMs: 0, toMs: 1 }],
      'lps.update': [{ ...lpId, name: 'New name' }],
      'lps.checkDestination': [lpId],
      'lps.setDestination': [
        { ...lpId, destination: { kind: 'keysend', nodeId: `02${'11'.repeat(32)}` }, payout: lpPolicy },
      ],
      'worklist.list': [{}],
      'lpService.status': [{}],
      'lpService.setEnabled': [{ lpId: null, enabled: false }],
      // Pairing: no fleet feature runs and no operator signer is connected here (test/interop/pairing.test.ts).
      'fleet.pair': [
        {
          atm: '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
          machineId: 'atm-1',
          name: 'ATM 1',
          currency: 'EUR',
          fees: { cash_out: { platformPpm: 0, operatorPpm: 0 }, cash_in: { platformPpm: 0, operatorPpm: 0 } },
          discountPpm: 0,
          limits: {
            cash_out: { minFiatMinor: '1', maxFiatMinor: '2' },
            cash_in: { minFiatMinor: '1', maxFiatMinor: '2' },
          },
        },
      ],
      'fleet.renew': [{ atmPubkey: 'ab'.repeat(32) }],
      'fleet.revoke': [{ atmPubkey: 'ab'.repeat(32), reason: 'stolen' }],
      'fleet.delegations': [],
      // ---- fleet machine (issue 9d): no ledger open here (src-main/fleet/machine-ipc.test.ts) ----
      'fleet.machine': [{ atm: 'ab'.repeat(32) }],
      'fleet.setConfig': [
        {
          atmPubkey: 'ab'.repeat(32),
          name: 'ATM 1',
          currency: 'EUR',
          fees: { cash_out: { platformPpm: 0, operatorPpm: 0 }, cash_in: { platformPpm: 0, operatorPpm: 0 } },
          discountPpm: 0,
          limits: {
            cash_out: { minFiatMinor: '1', maxFiatMinor: '2' },
            cash_in: { minFiatMinor: '1', maxFiatMinor: '2' },
          },
          relays: ['wss://relay.example.com'],
        },
      ],
      'fleet.confirmWalletRevoked': [{ atmPubkey: 'ab'.repeat(32), rosterEventId: 'cd'.repeat(32) }],
      // ---- end fleet machine (issue 9d) ----
      'worklist.resolve': [{ settlementId: 1, kind: 'fee_mismatch' }],
      'settlements.retry': [{ settlementId: 1 }],
      'settlements.forceReset': [{ settlementId: 1 }],
      'payouts.resume': [{ connectionId: 'operator' }],
      'payouts.release': [{ payoutId: 'p-1' }],
      // ---- recipients and money history (issue 15): ledger reads (src-main/recipients/recipients.test.ts) ----
      'recipients.list': [{}],
      'recipients.setDestination': [{ recipientKind: 'platform', recipientId: 'platform', destination: null }],
      'recipients.setThreshold': [{ recipientKind: 'split', recipientId: 'owner', thresholdSat: '10' }],
      'recipients.setActive': [{ recipientKind: 'split', recipientId: 'owner', active: false }],
      'recipients.setSplitWeights': [{ splits: [{ id: 'owner', weightPpm: 1_000_000 }] }],
      'payouts.list': [{}],
      'receipts.list': [{}],
      'reconcile.status': [],
      'reconcile.differences': [{}],
      // ---- bunker (issue 8b): no relays and no secret store here (src-main/bunker/service.test.ts) ----
      'bunker.issueConnect': [{ name: 'x', permissions: { methods: ['sign_event'], kinds: [1], dTagPatterns: [] } }],
      'bunker.acceptNostrConnect': [
        { uri: 'nostrconnect://x', permissions: { methods: ['sign_event'], kinds: [1], dTagPatterns: [] } },
      ],
      'bunker.revoke': [{ pubkey: 'ab'.repeat(32) }],
      'bunker.log': [{}],
      'remoteSigner.connect': [{ bunkerUri: `bunker://${'ab'.repeat(32)}?relay=ws://127.0.0.1:9` }],
      'remoteSigner.nostrConnect': [],
      // ---- audit (issue 10): no ledger and no fleet here (src-main/audit/service.test.ts) ----
      'audit.periods': [],
      'audit.closeQuarter': [{ period: '2026Q3' }],
      'audit.head': [],
      // ---- end audit (issue 10) ----
      // ---- audit export (issue 10b): the export reads the ledger (src-main/audit-export/*.test.ts) ----
      'audit.export': [{ period: '2026Q3', draft: true }],
      'audit.changes': [],
      // ---- end audit export (issue 10b) ----
      // ---- settlements and dashboard (issue 9): no ledger here (src-main/settlements/service.test.ts) ----
      'settlements.list': [{}],
      'settlements.count': [{}],
      'settlements.get': [{ settlementId: 1 }],
      'settlements.addNote': [{ settlementId: 1, text: 'checked the receipt' }],
      'settlements.csv': [{}],
      'dashboard.summary': [{}],
      // ---- end settlements and dashboard (issue 9) ----
      // ---- settings screen (issue 9c): ledger reads and the secret store (src-main/settings-screen/service.test.ts) ----
      'settings.checkWallet': [],
      'fees.get': [],
      'fees.set': [{ cashOut: { platformPpm: 0, operatorPpm: 0 }, cashIn: { platformPpm: 0, operatorPpm: 0 } }],
      'backup.create': [{ folder: dir }],
      // No secret store in this suite: the operator wallet cannot be sealed (src-main/setup/setup-ipc.test.ts).
      'setup.setOperatorWallet': [
        { nwcUri: `nostr+walletconnect://${'ab'.repeat(32)}?relay=ws://127.0.0.1:9&secret=${'42'.repeat(32)}` },
      ],
      // ---- onboarding (issue 13): the fees go to the ledger; the wallet's relay is a closed port ----
      'onboarding.setFees': [
        { cashOut: { platformPpm: 0, operatorPpm: 0 }, cashIn: { platformPpm: 0, operatorPpm: 0 }, splits: [] },
      ],
      'onboarding.checkWallet': [
        { nwcUri: `nostr+walletconnect://${'ab'.repeat(32)}?relay=ws://127.0.0.1:9&secret=${'42'.repeat(32)}` },
      ],
    }
    // ---- signer device (issue 8b): no device in this suite, and the emulator panel is demo-only ----
    const noDevice: Record<string, [unknown[], string]> = {
      'signer.pin': [[], 'unavailable'],
      'signer.emulator.press': [[{ button: 'approve' }], 'forbidden'],
      'signer.emulator.pin': [[{ digits: '1234' }], 'forbidden'],
      // audit export (issue 10b): a folder that is not under <data dir>/exports is not found
      'audit.verifyExport': [[{ name: 'no-such-export' }], 'not_found'],
    }
    for (const m of METHOD_NAMES) {
      if (m === 'lps.register') continue // needs a real npub; covered by lps-ipc.test.ts
      const special = noDevice[m]
      if (special) {
        const r = await d(m, special[0], ctx)
        expect(r.ok ? 'ok' : r.error.code, m).toBe(special[1])
        continue
      }
      const r = await d(m, good[m] ?? ledgerOnly[m] ?? refused[m] ?? [], ctx)
      if (m in refused) expect(r.ok ? 'ok' : r.error.code, m).toBe('bad_args')
      else if (m in ledgerOnly) expect(r.ok ? 'ok' : r.error.code, m).toBe('unavailable')
      else expect(r.ok, m).toBe(true)
    }
  })

  it('never answers internal to hostile arguments: bad_args naming a field, or ok', async () => {
    const d = createDispatcher(services.handlers, appLog.log)
    const hostile: unknown[] = [
      undefined,
      null,
      'x',
      42,
      {},
      [null],
      [{ limit: -1 }],
      [{ operatorName: 'x'.repeat(101) }],
      [{ relays: 'wss://a' }],
      [{ relays: Array(21).fill('wss://relay.example') }],
      [{ timeZone: '../../etc/passwd' }],
      [JSON.parse('{"__proto__":{"x":1}}')],
      [{ minLevel: 'trace' }],
      [1, 2, 3],
    ]
    for (const m of METHOD_NAMES)
      for (const args of hostile) {
        const r = await d(m, args, ctx)
        if (!r.ok) {
          expect(r.error.code, `${m} ${JSON.stringify(args)}`).toBe('bad_args')
          expect(r.error.field, `${m} ${JSON.stringify(args)}`).toMatch(/^args/)
        }
      }
  })

  it('refuses unknown and prototype method names with not_found', async () => {
    const d = createDispatcher(services.handlers, appLog.log)
    for (const m of ['nope', '__proto__', 'constructor', 'toString', 42, null]) {
      const r = await d(m, [], ctx)
      expect(r).toMatchObject({ ok: false, error: { code: 'not_found' } })
    }
  })

  it('settings.set persists, pushes a notice and rejects an empty patch', async () => {
    const d = createDispatcher(services.handlers, appLog.log)
    const r = await d('settings.set', [{ relays: ['wss://relay.example.com/path'] }], ctx)
    expect(r).toMatchObject({ ok: true, value: { relays: ['wss://relay.example.com/path'] } })
    expect(emitted.at(-1)).toMatchObject({ event: 'notice', payload: { text: 'Settings saved' } })
    expect(await d('settings.set', [{}], ctx)).toMatchObject({
      ok: false,
      error: { code: 'bad_args', field: 'args[0]' },
    })
    const again = await createServices({ runtime: 'node', dataDir: dir, appLog, emit: () => {} })
    expect(again.handlers['settings.get']()).toMatchObject({ relays: ['wss://relay.example.com/path'] })
    await again.close()
  })

  it('reports the ledger as failed with a reason while no ledger store is wired in', async () => {
    const d = createDispatcher(services.handlers, appLog.log)
    const r = await d('ledger.status', [], ctx)
    expect(r).toMatchObject({ ok: true, value: { state: 'failed', error: expect.stringContaining('ledger') } })
  })
})

describe('createDispatcher error mapping', () => {
  function handlersWith(info: Handlers['app.info']): Handlers {
    const h = {} as Record<string, unknown>
    for (const m of METHOD_NAMES) h[m] = () => null
    h['app.info'] = info
    return h as unknown as Handlers
  }

  it('passes an ApiError code through and logs it', async () => {
    const log = memoryLogger()
    const d = createDispatcher(
      handlersWith(() => {
        throw new ApiError('conflict', 'already paid')
      }),
      log,
    )
    expect(await d('app.info', [], ctx)).toEqual({ ok: false, error: { code: 'conflict', message: 'already paid' } })
    expect(log.records.at(-1)).toMatchObject({ level: 'warn', fields: { reason: 'conflict', method: 'app.info' } })
  })

  it('turns an unexpected throw into internal without leaking the message, logging the detail', async () => {
    const log = memoryLogger()
    const d = createDispatcher(
      handlersWith(() => {
        throw new Error('db path /secret/place')
      }),
      log,
    )
    const r = await d('app.info', [], ctx)
    expect(r).toEqual({ ok: false, error: { code: 'internal', message: 'app.info failed; see the console log' } })
    expect(log.records.at(-1)).toMatchObject({ level: 'error', fields: { detail: 'Error: db path /secret/place' } })
  })

  it('refuses a result that is not JSON-safe (a bigint) as internal', async () => {
    const log = memoryLogger()
    const d = createDispatcher(
      handlersWith(() => ({ wireMsat: 1n }) as never),
      log,
    )
    expect(await d('app.info', [], ctx)).toMatchObject({ ok: false, error: { code: 'internal' } })
  })

  it('logs the field of rejected arguments but never their value', async () => {
    const log = memoryLogger()
    const d = createDispatcher(
      handlersWith(() => null as never),
      log,
    )
    await d('settings.set', [{ operatorName: 'nostr+walletconnect://SECRETVALUE'.repeat(4) }], ctx)
    const rec = log.records.at(-1)
    expect(rec?.fields).toMatchObject({ reason: 'bad_args', field: 'args[0].operatorName' })
    expect(JSON.stringify(rec)).not.toContain('SECRETVALUE')
  })
})
