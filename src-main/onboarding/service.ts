// The first-run wizard's main side (docs/onboarding.md): the operator's progress through the steps, kept in
// `onboarding.json` in the data directory so a step left half-way is resumed in any window and after a restart;
// the live checks the steps need (a relay answers, a wallet connection answers get_info and get_balance); the
// operator signer's state read from its provider (the same seam pairing uses: a hardware device, a remote
// bunker, or the demo's software signer); and the default fees and commission split, saved as the fleet's fee
// configuration through the ledger's own `accounting.setConfig`.
//
// Nothing secret is kept here: a wallet URI is checked and forgotten (saving it is `setup.setOperatorWallet`).
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import WebSocket from 'ws'
import { ApiError, type Handlers, relayUrl, type SetupStatusView } from '../../src-shared/ipc/contract'
import {
  ONBOARDING_STEPS,
  type OnboardingFees,
  type OnboardingSignerView,
  type OnboardingStatusView,
  type OnboardingStep,
  type RelayCheckView,
  type WalletCheckView,
} from '../../src-shared/ipc/onboarding'
import { SchemaError } from '../../src-shared/ipc/schema'
import { MAX_FEE_PPM, PPM_ONE } from '../../src-shared/money/ppm'
import { NwcError, NwcUriError, parseConnectionUri } from '../../src-shared/nostr/nip47'
import type { OperatorSignerProvider } from '../fleet/operator-signer'
import { readJsonFile, serialQueue, writeJsonAtomic } from '../fs-atomic'
import type { ServiceContext } from '../service-context'
import { NwcClient } from '../wallet/nwc-client'

export const ONBOARDING_FILE = 'onboarding.json'
/** The methods the operator wallet must allow for payouts and for checking the ATMs' payments. */
export const REQUIRED_WALLET_METHODS = ['get_balance', 'lookup_invoice', 'pay_invoice'] as const
const RELAY_TIMEOUT_MS = 6_000
const WALLET_TIMEOUT_MS = 12_000

interface Saved {
  step: OnboardingStep
  done: OnboardingStep[]
  dismissed: boolean
  fees: OnboardingFees | null
}

const isStep = (v: unknown): v is OnboardingStep => (ONBOARDING_STEPS as readonly unknown[]).includes(v)

function parseSaved(v: unknown): Saved {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
  return {
    step: isStep(o.step) ? o.step : 'signer',
    done: Array.isArray(o.done) ? ONBOARDING_STEPS.filter((s) => (o.done as unknown[]).includes(s)) : [],
    dismissed: o.dismissed === true,
    fees: typeof o.fees === 'object' && o.fees !== null ? (o.fees as OnboardingFees) : null,
  }
}

/** Connects to `url`, sends a REQ that matches nothing and waits for its EOSE (or any answer naming it). */
export function checkRelay(url: string, timeoutMs = RELAY_TIMEOUT_MS): Promise<RelayCheckView> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    let settled = false
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs })
    const done = (error: string | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      ws.removeAllListeners()
      ws.on('error', () => {})
      ws.terminate()
      resolve({ url, ok: error === null, latencyMs: error === null ? Math.round(performance.now() - t0) : null, error })
    }
    const timer = setTimeout(() => done(`no answer within ${timeoutMs / 1000} s`), timeoutMs)
    ws.on('open', () => ws.send(JSON.stringify(['REQ', 'satmachine-check', { kinds: [30079], limit: 0 }])))
    ws.on('message', (data) => {
      try {
        const m = JSON.parse(String(data)) as unknown[]
        if ((m[0] === 'EOSE' || m[0] === 'CLOSED') && m[1] === 'satmachine-check') {
          if (m[0] === 'CLOSED') done(`the relay refused the query: ${String(m[2] ?? '')}`.trim())
          else {
            ws.send(JSON.stringify(['CLOSE', 'satmachine-check']))
            done(null)
          }
        }
      } catch {
        done('the relay answered something that is not Nostr')
      }
    })
    ws.on('unexpected-response', (_req, res) => done(`not a relay (HTTP ${res.statusCode})`))
    ws.on('error', (e: NodeJS.ErrnoException) =>
      done(
        e.code === 'ECONNREFUSED'
          ? 'nothing listens there (connection refused)'
          : e.code === 'ENOTFOUND'
            ? 'the host name is unknown'
            : e.message,
      ),
    )
  })
}

/** Asks a wallet connection for get_info and get_balance. Throws ApiError naming `args[0].nwcUri`. */
export async function checkWallet(nwcUri: string, timeoutMs = WALLET_TIMEOUT_MS): Promise<WalletCheckView> {
  const field = 'args[0].nwcUri'
  let conn: ReturnType<typeof parseConnectionUri>
  try {
    conn = parseConnectionUri(nwcUri)
  } catch (e) {
    const why = e instanceof NwcUriError ? e.message.replace(/^[\w.]+: /, '') : String(e)
    throw new ApiError('bad_args', `${field}: ${why}`, field)
  }
  const client = new NwcClient({ connection: conn, replyTimeoutMs: timeoutMs, infoTimeoutMs: timeoutMs })
  try {
    const info = await client.getInfo()
    const balanceMsat = await client.getBalance()
    return {
      walletPubkey: conn.walletPubkey,
      alias: info.alias,
      methods: [...info.methods],
      balanceMsat: balanceMsat.toString(),
      missingMethods: REQUIRED_WALLET_METHODS.filter((m) => info.methods.length > 0 && !info.methods.includes(m)),
    }
  } catch (e) {
    if (e instanceof NwcError) {
      const why =
        e.code === 'TIMEOUT'
          ? `the wallet did not answer on ${conn.relays.join(', ')} within ${Math.round(timeoutMs / 1000)} s`
          : e.code === 'UNAUTHORIZED' || e.code === 'RESTRICTED'
            ? `the wallet refused this connection (${e.code}): ${e.message}`
            : e.code === 'PUBLISH_FAILED'
              ? `the wallet's relay could not be reached (${e.message.replace(/^(PUBLISH_FAILED: )+/, '')})`
              : e.message.startsWith(e.code)
                ? e.message
                : `${e.code}: ${e.message}`
      throw new ApiError('unavailable', `${field}: ${why}`, field)
    }
    throw new ApiError('unavailable', `${field}: ${(e as Error).message}`, field)
  } finally {
    client.close()
  }
}

const percent = (ppm: number) => `${(ppm / 10_000).toLocaleString('en', { maximumFractionDigits: 4 })} %`

/** Checks the fees in the operator's terms (percent); throws ApiError naming the field. */
export function checkFees(f: OnboardingFees): void {
  for (const [dir, label] of [
    ['cashOut', 'Cash-out'],
    ['cashIn', 'Cash-in'],
  ] as const) {
    if (f[dir].platformPpm + f[dir].operatorPpm > MAX_FEE_PPM) {
      const field = `args[0].${dir}.operatorPpm`
      throw new ApiError(
        'bad_args',
        `${field}: ${label}: the platform fee and your commission together may be at most ${percent(MAX_FEE_PPM)}`,
        field,
      )
    }
  }
  const seen = new Set<string>()
  f.splits.forEach((s, i) => {
    const field = `args[0].splits[${i}].id`
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(s.id))
      throw new ApiError('bad_args', `${field}: use lower-case letters, digits, dot, dash or underscore`, field)
    if (seen.has(s.id)) throw new ApiError('bad_args', `${field}: ${s.id} is listed twice`, field)
    seen.add(s.id)
  })
  const sum = f.splits.reduce((a, s) => a + s.weightPpm, 0)
  if (f.splits.length > 0 && sum !== PPM_ONE) {
    const field = 'args[0].splits'
    throw new ApiError('bad_args', `${field}: the shares must add up to 100 %, they add up to ${percent(sum)}`, field)
  }
}

export function onboardingHandlers(
  ctx: ServiceContext,
  deps: { signer: OperatorSignerProvider; setupStatus: () => Promise<SetupStatusView> | SetupStatusView },
): Pick<
  Handlers,
  'onboarding.status' | 'onboarding.save' | 'onboarding.checkRelay' | 'onboarding.checkWallet' | 'onboarding.setFees'
> {
  const log = ctx.log.child('onboarding')
  const path = join(ctx.dataDir, ONBOARDING_FILE)
  const serial = serialQueue()
  let saved: Saved | undefined

  async function load(): Promise<Saved> {
    if (saved) return saved
    const r = await readJsonFile(path)
    saved = parseSaved(r.kind === 'json' ? r.value : undefined)
    if (r.kind === 'not-json') log.warn('onboarding progress unreadable; starting over', { reason: r.reason })
    return saved
  }

  const update = (change: (s: Saved) => Saved) =>
    serial(async () => {
      const next = change(await load())
      await writeJsonAtomic(ctx.dataDir, ONBOARDING_FILE, next)
      saved = next
    })

  function signerView(operatorPubkey: string | undefined): OnboardingSignerView {
    const pk = deps.signer.pubkey()
    return {
      connected: pk !== null,
      pubkey: pk,
      npub: pk === null ? null : npubEncode(pk),
      description: deps.signer.describe(),
      matchesOperator: pk !== null && pk === operatorPubkey,
    }
  }

  async function status(): Promise<OnboardingStatusView> {
    const s = await load()
    const setup = await deps.setupStatus()
    return {
      step: s.step,
      done: [...s.done],
      dismissed: s.dismissed,
      configured: setup.missing.length === 0,
      missing: [...setup.missing],
      signer: signerView(setup.operator?.pubkey),
      fees: s.fees,
    }
  }

  return {
    'onboarding.status': () => status(),
    'onboarding.save': async ({ step, done, dismissed }) => {
      await update((s) => ({
        ...s,
        step: step ?? s.step,
        done: done === undefined ? s.done : ONBOARDING_STEPS.filter((x) => x === done || s.done.includes(x)),
        dismissed: dismissed ?? s.dismissed,
      }))
      if (dismissed !== undefined) log.info(dismissed ? 'onboarding closed for later' : 'onboarding reopened')
      return status()
    },
    'onboarding.checkRelay': async ({ url }) => {
      try {
        relayUrl.parse(url.trim(), 'args[0].url')
      } catch (e) {
        const m = e instanceof SchemaError ? e.message : String(e)
        throw new ApiError('bad_args', m, 'args[0].url')
      }
      return checkRelay(url.trim())
    },
    'onboarding.checkWallet': ({ nwcUri }) => checkWallet(nwcUri.trim()),
    'onboarding.setFees': async (fees) => {
      checkFees(fees)
      const nowMs = ctx.clock.nowMs()
      await ctx.ledger().call('accounting.setConfig', {
        machineId: null,
        effectiveFromMs: nowMs,
        atMs: nowMs,
        cashOutPlatformPpm: fees.cashOut.platformPpm,
        cashOutOperatorPpm: fees.cashOut.operatorPpm,
        cashInPlatformPpm: fees.cashIn.platformPpm,
        cashInOperatorPpm: fees.cashIn.operatorPpm,
        discountPpm: 0,
        splits: fees.splits,
        timeZone: ctx.settings.get().timeZone,
        author: 'operator',
        note: 'default fees and commission split set in the first-run wizard',
      })
      await update((s) => ({ ...s, fees, done: ONBOARDING_STEPS.filter((x) => x === 'fees' || s.done.includes(x)) }))
      log.info('default fees saved', { splits: fees.splits.length })
      ctx.emit('notice', { level: 'info', text: 'Default fees and commission split saved', atMs: nowMs })
      return status()
    },
  }
}
