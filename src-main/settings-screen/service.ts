// The Settings screen's main side (issue 9c; docs/settings.md): a live relay check (connect, one REQ answered by
// EOSE, within a timeout), the saved operator wallet asked for get_info and get_balance, the fleet's default
// fees (read from and appended to the ledger's fee configuration), and ledger backup / restore (./../backup).
//
// Errors name the field and speak in the operator's units: fees in percent, never ppm.
import { join } from 'node:path'
import WebSocket from 'ws'
import { ApiError, type Handlers } from '../../src-shared/ipc/contract'
import type { FeesView, RelayCheckView, WalletCheckView } from '../../src-shared/ipc/settings-screen'
import { feeCapProblem } from '../../src-shared/money/fee-preview'
import { NwcError } from '../../src-shared/nostr/nip47'
import { applyPendingRestore, BackupError, createBackup, stageRestore } from '../backup/backup'
import { SecretSlots, type SecretStore } from '../secrets/secret-store'
import type { ServiceContext } from '../service-context'
import { NwcClient } from '../wallet/nwc-client'

export const RELAY_CHECK_TIMEOUT_MS = 6_000
const WALLET_TIMEOUT_MS = 10_000
/** What payouts and payment checks need from the operator wallet. */
export const REQUIRED_WALLET_METHODS = ['get_balance', 'lookup_invoice', 'pay_invoice'] as const

type Methods =
  | 'settings.checkRelay'
  | 'settings.checkWallet'
  | 'fees.get'
  | 'fees.set'
  | 'backup.create'
  | 'backup.restore'

/** Opens `url`, sends a REQ that matches nothing and waits for its EOSE; answers in one sentence when it fails. */
export function checkRelay(url: string, timeoutMs = RELAY_CHECK_TIMEOUT_MS): Promise<RelayCheckView> {
  const t0 = performance.now()
  const subId = `satmachine-check-${Math.random().toString(36).slice(2, 10)}`
  return new Promise((resolve) => {
    let settled = false
    let ws: WebSocket
    const done = (error: string | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      ws.removeAllListeners()
      ws.on('error', () => {})
      ws.terminate()
      resolve({ url, ok: error === null, latencyMs: error === null ? Math.round(performance.now() - t0) : null, error })
    }
    const timer = setTimeout(
      () => done(`no answer within ${timeoutMs / 1000} s (connected, but the relay did not finish the query)`),
      timeoutMs,
    )
    try {
      ws = new WebSocket(url, { handshakeTimeout: timeoutMs, maxPayload: 1 << 20 })
    } catch (e) {
      ws = undefined as unknown as WebSocket
      settled = true
      clearTimeout(timer)
      resolve({ url, ok: false, latencyMs: null, error: (e as Error).message })
      return
    }
    ws.on('open', () => ws.send(JSON.stringify(['REQ', subId, { kinds: [30079], limit: 0 }])))
    ws.on('message', (data) => {
      let m: unknown
      try {
        m = JSON.parse(String(data))
      } catch {
        return done('the server answered something that is not Nostr')
      }
      if (!Array.isArray(m)) return done('the server answered something that is not Nostr')
      if (m[0] === 'EOSE' && m[1] === subId) {
        ws.send(JSON.stringify(['CLOSE', subId]))
        done(null)
      } else if (m[0] === 'CLOSED' && m[1] === subId) {
        done(`the relay refused the query${m[2] ? `: ${String(m[2]).slice(0, 200)}` : ''}`)
      }
    })
    ws.on('unexpected-response', (_req, res) => done(`not a Nostr relay (the server answered HTTP ${res.statusCode})`))
    ws.on('error', (e: NodeJS.ErrnoException) =>
      done(
        e.code === 'ECONNREFUSED'
          ? 'nothing listens at that address (connection refused)'
          : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
            ? 'the host name is not known (DNS lookup failed)'
            : e.code === 'ETIMEDOUT' || /timed out/i.test(e.message)
              ? `no connection within ${timeoutMs / 1000} s`
              : /certificate|TLS|SSL/i.test(e.message)
                ? `the secure connection failed (${e.message})`
                : e.message,
      ),
    )
  })
}

const pct = (ppm: number) => `${(ppm / 10_000).toString()} %`

interface ConfigRow {
  cash_out_platform_ppm: number
  cash_out_operator_ppm: number
  cash_in_platform_ppm: number
  cash_in_operator_ppm: number
  discount_ppm: number
  splits_json: string
  effective_from_ms: number
  time_zone: string
  [k: string]: string | number | bigint | null | Uint8Array
}

export function settingsScreenHandlers(
  ctx: ServiceContext,
  wiring: { secrets?: SecretStore | (() => Promise<SecretStore>) } = {},
): Pick<Handlers, Methods> {
  const log = ctx.log.child('settings-screen')
  let secretsPromise: Promise<SecretStore> | undefined
  const secrets = (): Promise<SecretStore> => {
    const s = wiring.secrets
    if (!s) return Promise.reject(new ApiError('unavailable', 'no secret store is configured, so no wallet is saved'))
    if (typeof s !== 'function') return Promise.resolve(s)
    secretsPromise ??= s()
    secretsPromise.catch(() => {
      secretsPromise = undefined
    })
    return secretsPromise
  }

  async function fleetConfig(): Promise<{ row: ConfigRow | null; overrides: number }> {
    const now = ctx.clock.nowMs()
    const ledger = ctx.ledger()
    const rows = await ledger.query<ConfigRow>(
      `SELECT * FROM acct_config WHERE machine_id IS NULL AND effective_from_ms <= ?
       ORDER BY effective_from_ms DESC, seq DESC LIMIT 1`,
      [now],
    )
    const o = await ledger.query<{ n: number }>(
      'SELECT COUNT(DISTINCT machine_id) AS n FROM acct_config WHERE machine_id IS NOT NULL AND effective_from_ms <= ?',
      [now],
    )
    return { row: rows[0] ?? null, overrides: Number(o[0]?.n ?? 0) }
  }

  const feesView = (row: ConfigRow | null, overrides: number): FeesView =>
    row
      ? {
          configured: true,
          cashOut: { platformPpm: Number(row.cash_out_platform_ppm), operatorPpm: Number(row.cash_out_operator_ppm) },
          cashIn: { platformPpm: Number(row.cash_in_platform_ppm), operatorPpm: Number(row.cash_in_operator_ppm) },
          discountPpm: Number(row.discount_ppm),
          splits: JSON.parse(row.splits_json),
          effectiveFromMs: Number(row.effective_from_ms),
          machineOverrides: overrides,
        }
      : {
          configured: false,
          cashOut: { platformPpm: 0, operatorPpm: 0 },
          cashIn: { platformPpm: 0, operatorPpm: 0 },
          discountPpm: 0,
          splits: [],
          effectiveFromMs: null,
          machineOverrides: overrides,
        }

  /** Pushes `backup.progress` for one running backup or restore check (the Settings screen draws the bar). */
  const progressOf = (operation: 'backup' | 'restore') => ({
    step: (step: string, fraction: number) => ctx.emit('backup.progress', { operation, step, fraction, done: false }),
    end: (step: string, e?: unknown) =>
      ctx.emit('backup.progress', {
        operation,
        step,
        fraction: 1,
        done: true,
        ...(e === undefined ? {} : { error: e instanceof Error ? e.message : String(e) }),
      }),
  })

  return {
    'settings.checkRelay': ({ url, timeoutMs }) => checkRelay(url, timeoutMs ?? RELAY_CHECK_TIMEOUT_MS),

    'settings.checkWallet': async (): Promise<WalletCheckView> => {
      const s = await secrets()
      const uri = await s.get(SecretSlots.operatorNwc)
      if (uri === undefined)
        throw new ApiError('not_found', 'no operator wallet is saved yet: paste its connection in the setup card')
      const client = new NwcClient({
        connection: uri,
        logger: log.child('nwc'),
        replyTimeoutMs: WALLET_TIMEOUT_MS,
        infoTimeoutMs: WALLET_TIMEOUT_MS,
      })
      const conn = client.connection
      const why = (e: unknown) =>
        e instanceof NwcError
          ? e.code === 'TIMEOUT'
            ? `the wallet did not answer on ${conn.relays.join(', ')} within ${WALLET_TIMEOUT_MS / 1000} s`
            : e.code === 'UNAUTHORIZED' || e.code === 'RESTRICTED'
              ? `the wallet refused this connection (${e.code}): ${e.message}`
              : e.message
          : (e as Error).message
      try {
        let info: Awaited<ReturnType<NwcClient['getInfo']>>
        try {
          info = await client.getInfo()
        } catch (e) {
          throw new ApiError('unavailable', `Operator wallet: ${why(e)}`)
        }
        let balanceMsat: string | null = null
        let balanceError: string | null = null
        try {
          balanceMsat = (await client.getBalance()).toString()
        } catch (e) {
          balanceError = why(e)
        }
        return {
          walletPubkey: conn.walletPubkey,
          relays: [...conn.relays],
          alias: info.alias ?? null,
          methods: [...info.methods],
          missingMethods: REQUIRED_WALLET_METHODS.filter((m) => info.methods.length > 0 && !info.methods.includes(m)),
          balanceMsat,
          balanceError,
          checkedAtMs: ctx.clock.nowMs(),
        }
      } finally {
        client.close()
      }
    },

    'fees.get': async () => {
      const { row, overrides } = await fleetConfig()
      return feesView(row, overrides)
    },

    'fees.set': async ({ cashOut, cashIn }) => {
      for (const [dir, v, key] of [
        ['cash_out', cashOut, 'cashOut'],
        ['cash_in', cashIn, 'cashIn'],
      ] as const) {
        const p = feeCapProblem(v.platformPpm, v.operatorPpm, dir)
        if (p) throw new ApiError('bad_args', `args[0].${key}.operatorPpm: ${p}`, `args[0].${key}.operatorPpm`)
      }
      const { row } = await fleetConfig()
      const now = ctx.clock.nowMs()
      await ctx.ledger().call('accounting.setConfig', {
        machineId: null,
        effectiveFromMs: now,
        atMs: now,
        cashOutPlatformPpm: cashOut.platformPpm,
        cashOutOperatorPpm: cashOut.operatorPpm,
        cashInPlatformPpm: cashIn.platformPpm,
        cashInOperatorPpm: cashIn.operatorPpm,
        discountPpm: row ? Number(row.discount_ppm) : 0,
        splits: row ? JSON.parse(row.splits_json) : [],
        timeZone: ctx.settings.get().timeZone,
        author: 'operator',
        note: `fees changed: cash-out ${pct(cashOut.platformPpm)} platform + ${pct(cashOut.operatorPpm)} commission, cash-in ${pct(cashIn.platformPpm)} + ${pct(cashIn.operatorPpm)}`,
      })
      log.info('fleet default fees changed', { ...cashOut, cashInPlatformPpm: cashIn.platformPpm })
      const after = await fleetConfig()
      return feesView(after.row, after.overrides)
    },

    'backup.create': async ({ folder }) => {
      const progress = progressOf('backup')
      try {
        const r = await createBackup({
          ledger: ctx.ledger(),
          ledgerDir: join(ctx.dataDir, 'ledger'),
          dataDir: ctx.dataDir,
          folder,
          nowMs: ctx.clock.nowMs(),
          log,
          onProgress: progress.step,
        })
        progress.end('Backup written and its manifest checked')
        return r
      } catch (e) {
        progress.end('Backup not written', e)
        if (e instanceof BackupError) throw new ApiError('bad_args', `args[0].folder: ${e.message}`, 'args[0].folder')
        throw e
      }
    },

    'backup.restore': async ({ folder }) => {
      const progress = progressOf('restore')
      try {
        const r = await stageRestore({
          path: folder,
          dataDir: ctx.dataDir,
          nowMs: ctx.clock.nowMs(),
          log,
          onProgress: progress.step,
        })
        progress.end('Backup verified and staged for the next start')
        return r
      } catch (e) {
        progress.end('Nothing was replaced', e)
        if (e instanceof BackupError)
          throw new ApiError(
            'bad_args',
            `args[0].folder: refused, nothing was replaced: ${e.message}`,
            'args[0].folder',
          )
        throw e
      }
    },
  }
}

/** Before the ledger opens: a restore staged by `backup.restore` replaces the ledger (the old one kept aside). */
export { applyPendingRestore }
