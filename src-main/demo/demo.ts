// Demo mode (`satmachine serve --demo`, `npm start -- --demo`): the whole job on embedded parts that are the real
// thing, in a demo directory of its own (docs/demo.md):
//   - the embedded relay on 127.0.0.1 (src-main/embedded/relay.ts);
//   - a simulated Lightning network with real NIP-47 wallet services (@getalby/sdk NWCWalletService,
//     src-main/embedded/wallet-service.ts): the operator wallet, three LP wallets (a Lightning address served by
//     src-main/embedded/lnurl-server.ts, an own NWC connection, a keysend node), the platform and two commission
//     split recipients; every payment is a real bolt11 invoice with a real preimage;
//   - the operator signer chosen in ./signer.ts;
//   - two ATM simulators (src-main/atm-sim) paired through the console's own `fleet.pair`, three LPs with confirmed
//     deposits (`lps.register`, `lps.deposit.*`), the commission split owner 70 % / tech 30 %
//     (`recipients.setSplitWeights`), and the platform and both splits paid on embedded wallets, one destination kind
//     each (`recipients.setDestination`: the platform by Lightning address, owner by its own NWC wallet, tech by
//     keysend), each checked live like an operator's would be;
//   - a sale every few seconds: mostly cash-outs, some partial dispenses and cash-ins, now and then a bad record
//     the console must refuse.
// The console is configured only through its own handlers and ledger procedures, exactly as an operator would.
// Everything here stops with the console: `DemoWorld.close()` after the console has closed.
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import type { Handlers } from '../../src-shared/ipc/contract'
import type { Logger } from '../../src-shared/log'
import { README_SPLITS } from '../../src-shared/money/readme-example'
import { signTemplateWithKey } from '../../src-shared/nostr/event'
import { KIND_DM_RELAYS } from '../../src-shared/nostr/nip17'
import {
  type AtmSimulator,
  createAtmSimulator,
  loadOrCreateAtmKey,
  type Scenario,
  sendOverSocket,
} from '../atm-sim/simulator'
import { LightningNetwork, type SimWallet } from '../embedded/lightning'
import { type LnurlServer, startLnurlServer } from '../embedded/lnurl-server'
import { type EmbeddedRelay, startEmbeddedRelay } from '../embedded/relay'
import { startWalletService, type WalletConnection, type WalletServiceFixture } from '../embedded/wallet-service'
import type { LedgerStore } from '../ledger/types'
import { NwcClient } from '../wallet/nwc-client'

/** Where a demo keeps its files: the console's data directory and the demo's own keys, apart. */
export interface DemoPaths {
  root: string
  /** The console's data directory (ledger, settings, sealed secrets). */
  dataDir: string
  /** The key file the console's secrets are sealed with (outside dataDir). */
  secretKeyFile: string
}

export function demoPaths(root: string): DemoPaths {
  return { root, dataDir: join(root, 'console'), secretKeyFile: join(root, 'secret.key') }
}

/** `--demo --reset`: removes the whole demo directory (never anything else: callers pass the demo root). */
export async function resetDemo(paths: DemoPaths): Promise<void> {
  await rm(paths.root, { recursive: true, force: true })
}

const CURRENCY = 'EUR'
/** Pairing fees (ppm): the platform's cut and the operator's commission, per direction. */
const FEES = {
  cash_out: { platformPpm: 10_000, operatorPpm: 50_000 },
  cash_in: { platformPpm: 10_000, operatorPpm: 40_000 },
}
const LIMITS = {
  cash_out: { minFiatMinor: '100', maxFiatMinor: '500000' },
  cash_in: { minFiatMinor: '100', maxFiatMinor: '500000' },
}
const POLICY = { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 10_000, maxFeeBaseMsat: '10000' } as const
const MACHINES = [
  { machineId: 'demo-atm-1', name: 'Demo ATM — Main Street' },
  { machineId: 'demo-atm-2', name: 'Demo ATM — Station' },
] as const

/** The embedded network parts, started before the console (the console connects to them). */
export interface DemoWorld {
  relay: EmbeddedRelay
  net: LightningNetwork
  svc: WalletServiceFixture
  operator: WalletConnection
  lnurl: LnurlServer
  wallets: {
    ana: SimWallet
    beto: SimWallet
    carla: SimWallet
    platform: SimWallet
    owner: SimWallet
    tech: SimWallet
    customer: SimWallet
  }
  close(): Promise<void>
}

/**
 * Starts the embedded network. The relay keeps its events in the demo directory and listens on the port it had
 * last time when that is free, so a kept demo directory comes back on the same relay URL.
 */
export async function startDemoWorld(log: Logger, root: string): Promise<DemoWorld> {
  const portFile = join(root, 'relay.port')
  const persistFile = join(root, 'relay-events.jsonl')
  const last = Number((await readFile(portFile, 'utf8').catch(() => '')).trim())
  let relay: EmbeddedRelay
  try {
    relay = await startEmbeddedRelay({ port: Number.isInteger(last) && last > 0 ? last : 0, persistFile })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e
    relay = await startEmbeddedRelay({ persistFile })
  }
  await writeFile(portFile, `${relay.port}\n`)
  const net = new LightningNetwork()
  const wallets = {
    ana: net.createWallet('ana (Lightning address)'),
    beto: net.createWallet('beto (NWC)'),
    carla: net.createWallet('carla (keysend)'),
    platform: net.createWallet('platform'),
    owner: net.createWallet('split: owner'),
    tech: net.createWallet('split: tech'),
    customer: net.createWallet('customers', 10n ** 15n),
  }
  let svc: WalletServiceFixture | undefined
  let lnurl: LnurlServer | undefined
  try {
    svc = await startWalletService({ relayUrls: [relay.url], network: net })
    const operator = await svc.fundedConnection('operator', 2_000_000_000_000n)
    lnurl = await startLnurlServer({ ana: wallets.ana, platform: wallets.platform })
    log.info('demo network up', { relay: relay.url, lnurl: lnurl.host })
    const s = svc
    const l = lnurl
    return {
      relay,
      net,
      svc,
      operator,
      lnurl,
      wallets,
      async close() {
        await s.close()
        await l.close()
        await relay.close()
      },
    }
  } catch (e) {
    await svc?.close()
    await lnurl?.close()
    await relay.close()
    throw e
  }
}

export interface DemoRun {
  /** Sales attempted so far, by scenario. */
  stats(): Record<string, number>
  close(): Promise<void>
}

async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check().catch(() => undefined)
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`demo: timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The scenario of sale number `n`: mostly cash-outs, some partial dispenses and cash-ins, now and then a bad one. */
export function demoScenario(n: number): Scenario {
  const BAD: Scenario[] = ['fee-mismatch', 'malformed-content', 'wrong-delegator']
  const slot = n % 10
  if (slot === 3) return 'cash-in'
  if (slot === 6) return 'partial-dispense'
  if (slot === 4) return BAD[Math.floor(n / 10) % BAD.length]!
  return 'normal'
}

/**
 * The platform fee recipient and the commission splits, paid like LPs on embedded wallets: a destination per kind
 * (checked live by the console before it is stored) and a 1-sat threshold, through the recipients handlers the
 * Settings screen uses. A split named only by the pairing's default configuration (`operator`) is paid to the
 * owner's wallet.
 */
async function setDemoRecipients(h: Handlers, world: DemoWorld): Promise<void> {
  const owner = await world.svc.addConnection({
    wallet: world.wallets.owner,
    methods: ['make_invoice', 'lookup_invoice'],
  })
  const destinations: Record<string, Parameters<Handlers['recipients.setDestination']>[0]['destination']> = {
    'platform:platform': { kind: 'lightning_address', address: world.lnurl.address('platform') },
    'split:owner': { kind: 'nwc', uri: owner.uri },
    'split:tech': { kind: 'keysend', nodeId: world.wallets.tech.nodePubkey },
    'split:operator': { kind: 'keysend', nodeId: world.wallets.owner.nodePubkey },
  }
  const listed = await h['recipients.list']({})
  for (const r of listed.recipients) {
    const destination = destinations[`${r.recipientKind}:${r.recipientId}`]
    if (!destination) continue
    await h['recipients.setDestination']({ recipientKind: r.recipientKind, recipientId: r.recipientId, destination })
    await h['recipients.setThreshold']({
      recipientKind: r.recipientKind,
      recipientId: r.recipientId,
      thresholdSat: '1',
    })
  }
}

/**
 * Configures the running console through its own handlers and ledger procedures, pairs two ATM simulators and
 * starts the sales schedule. Idempotent over a kept demo directory: LPs are registered once, destinations, the
 * wallet and the pairings are renewed for this run's embedded network.
 */
export async function runDemo(o: {
  handlers: Handlers
  ledger: () => LedgerStore
  world: DemoWorld
  root: string
  operatorPubkey: string
  log: Logger
  /** Time between sales (default 2.5 s). */
  saleIntervalMs?: number
}): Promise<DemoRun> {
  const { handlers: h, world, log } = o
  await h['settings.set']({ relays: [world.relay.url] })
  await h['setup.setOperator']({ operatorNpub: npubEncode(o.operatorPubkey) })
  await h['setup.setOperatorWallet']({ nwcUri: world.operator.uri })
  await waitUntil(
    'the payout pipeline to run',
    async () => (await h['setup.status']()).pipeline.state === 'running',
    60_000,
  )

  // Three LPs, one per destination kind, each with a confirmed deposit.
  const beto = await world.svc.addConnection({
    wallet: world.wallets.beto,
    methods: ['make_invoice', 'lookup_invoice'],
  })
  const lpSpecs = [
    { seed: 0xa1, name: 'Ana', destination: { kind: 'lightning_address', address: world.lnurl.address('ana') } },
    { seed: 0xb2, name: 'Beto', destination: { kind: 'nwc', uri: beto.uri } },
    { seed: 0xc3, name: 'Carla', destination: { kind: 'keysend', nodeId: world.wallets.carla.nodePubkey } },
  ] as const
  const existing = await h['lps.list']({ includeInactive: true })
  for (const [i, spec] of lpSpecs.entries()) {
    const lpSk = new Uint8Array(32).fill(spec.seed)
    const npub = npubEncode(getPublicKey(lpSk))
    // The LP's own NIP-17 DM relay list (kind 10050), as her Nostr client would publish it: payout notices reach her.
    const dmRelays = signTemplateWithKey(
      {
        kind: KIND_DM_RELAYS,
        created_at: Math.floor(Date.now() / 1000),
        tags: [['relay', world.relay.url]],
        content: '',
      },
      lpSk,
    )
    await sendOverSocket(world.relay.url, dmRelays)
    const known = existing.find((l) => l.npub === npub)
    if (known) {
      await h['lps.setDestination']({ lpId: known.id, destination: spec.destination, payout: POLICY })
      continue
    }
    const lp = await h['lps.register']({
      npub,
      name: spec.name,
      currency: CURRENCY,
      mode: 'flow',
      destination: spec.destination,
      payout: POLICY,
    })
    const dep = await h['lps.deposit.record']({ lpId: lp.id, amountMinor: String(5_000_000 - i * 1_000_000) })
    await h['lps.deposit.confirm']({ depositId: dep.depositId })
  }

  // Two ATMs paired through the normal pairing flow (the console signs with the demo operator signer).
  const sims: AtmSimulator[] = []
  const clients: NwcClient[] = []
  const customer = {
    payInvoice: async (invoice: string) => {
      world.wallets.customer.payInvoice(invoice)
    },
    makeInvoice: async (amountMsat: bigint) => world.wallets.customer.makeInvoice(amountMsat).invoice!,
  }
  try {
    for (const m of MACHINES) {
      const { secretKey } = await loadOrCreateAtmKey(join(o.root, `${m.machineId}.key`))
      const receive = await world.svc.addConnection({
        wallet: world.operator.wallet,
        methods: ['make_invoice', 'lookup_invoice'],
      })
      const cashIn = await world.svc.addConnection({
        wallet: world.operator.wallet,
        methods: ['pay_invoice', 'lookup_invoice'],
        budgetMsat: 100_000_000_000n,
      })
      const paired = await h['fleet.pair']({
        atm: getPublicKey(secretKey),
        machineId: m.machineId,
        name: m.name,
        currency: CURRENCY,
        fees: FEES,
        discountPpm: 0,
        limits: LIMITS,
        nwcReceiveOnlyUri: receive.uri,
        // A restart pairs the same ATM keys again (new wallets): a deliberate replacement of their configuration.
        replace: true,
      })
      const cashInClient = new NwcClient({ connection: cashIn.uri, replyTimeoutMs: 15_000 })
      clients.push(cashInClient)
      sims.push(
        await createAtmSimulator({
          pairingUri: paired.uri,
          atmSecretKey: secretKey,
          customer,
          cashInWallet: { payInvoice: (invoice) => cashInClient.payInvoice(invoice) },
          log: log.child(m.machineId),
          publishDeadlineMs: 15_000,
        }),
      )
      secretKey.fill(0)
      // The machine config reaches the ledger through the fleet service.
      await waitUntil(
        `${m.machineId} to be listed`,
        async () => (await h['fleet.machines']()).some((x) => x.machineId === m.machineId),
        30_000,
      )
    }
    // The two-way commission split, as one logged configuration change for every machine (Settings screen).
    await h['recipients.setSplitWeights']({
      splits: README_SPLITS.map((x) => ({ id: x.id, weightPpm: x.weightPpm })),
      note: 'demo: commission split owner 70 % / tech 30 %',
    })
    await setDemoRecipients(h, world)
  } catch (e) {
    for (const s of sims) await s.close()
    for (const c of clients) c.close()
    throw e
  }

  // The schedule: one sale at a time per ATM, alternating machines.
  const counts: Record<string, number> = {}
  let n = 0
  let stopped = false
  let inFlight: Promise<void> = Promise.resolve()
  const tick = () => {
    if (stopped) return
    const sim = sims[n % sims.length]!
    const scenario = demoScenario(n)
    const fiatMinor = BigInt(1_000 + ((n * 3_719) % 9_000))
    n++
    counts[scenario] = (counts[scenario] ?? 0) + 1
    inFlight = sim
      .sell({ scenario, fiatMinor })
      .then((sale) => log.info('demo sale', { scenario, accepted: sale.accepted }))
      .catch((e: unknown) => {
        if (!stopped) log.warn('demo sale failed', { scenario, reason: e instanceof Error ? e.message : String(e) })
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, o.saleIntervalMs ?? 2_500)
      })
  }
  let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(tick, 0)
  log.info('demo running', { machines: sims.length, saleIntervalMs: o.saleIntervalMs ?? 2_500 })

  let closing: Promise<void> | undefined
  return {
    stats: () => ({ ...counts }),
    close() {
      closing ??= (async () => {
        stopped = true
        if (timer) clearTimeout(timer)
        timer = undefined
        await inFlight
        for (const s of sims) await s.close()
        for (const c of clients) c.close()
      })()
      return closing
    },
  }
}
