// The operator's wallet for bench/fleet.bench.ts, in its own thread: the simulated Lightning network and the REAL
// NIP-47 wallet service (@getalby/sdk over the local relay, src-main/embedded/wallet-service.ts). In the app the
// wallet is another machine; run inside the bench's main thread, its pure-JS crypto (an ECDH, a signature and a
// signature check per request, NIP-44 over ~30 KiB list_transactions pages) took more of the console's thread than
// the records' own signature checks, so the figure measured the fixture rather than the console. Here it shares
// the machine's cores, as the relay process does, but not the console's thread.
//
// Messages (request → reply, matched by `n`): `start` → the operator connection URI; `paid` (make an invoice in
// the operator wallet at the given simulated time, pay it from a customer wallet, optionally publish the
// payment_received notification) → the invoice; `transactions` → the operator wallet's transactions; `close`.
import { parentPort, workerData } from 'node:worker_threads'
import { LightningNetwork } from '../src-main/embedded/lightning'
import { RECEIVE_ONLY_METHODS, startWalletService, type WalletConnection } from '../src-main/embedded/wallet-service'

type Request =
  | { n: number; op: 'start' }
  | { n: number; op: 'paid'; amountMsat: string; description: string; simNowSec: number; notify: boolean }
  | { n: number; op: 'transactions' }
  | { n: number; op: 'close' }

const port = parentPort
if (!port) throw new Error('wallet-worker must run in a worker thread')
const { relayUrls } = workerData as { relayUrls: string[] }
let simNowSec = Math.floor(Date.now() / 1000)
const net = new LightningNetwork({ nowSec: () => simNowSec })
const customer = net.createWallet('customer', 10n ** 18n)
let svc: Awaited<ReturnType<typeof startWalletService>> | undefined
let op: WalletConnection | undefined

async function handle(m: Request): Promise<unknown> {
  if (m.op === 'start') {
    svc = await startWalletService({ relayUrls, network: net })
    op = await svc.fundedConnection('operator', 0n)
    await svc.addConnection({ wallet: op.wallet, methods: RECEIVE_ONLY_METHODS })
    return { uri: op.uri }
  }
  if (!op || !svc) throw new Error('wallet-worker: not started')
  if (m.op === 'paid') {
    simNowSec = m.simNowSec
    const inv = op.wallet.makeInvoice(BigInt(m.amountMsat), { description: m.description })
    customer.payInvoice(inv.invoice!)
    if (m.notify) await op.sendNotification('payment_received', inv)
    return { paymentHash: inv.paymentHash, invoice: inv.invoice }
  }
  if (m.op === 'transactions')
    return op.wallet.transactions.map((tx) => ({
      paymentHash: tx.paymentHash,
      amountMsat: tx.amountMsat.toString(),
      preimage: tx.preimage,
      settledAtSec: tx.settledAtSec,
    }))
  await svc.close()
  return null
}

port.on('message', (m: Request) => {
  handle(m).then(
    (result) => port.postMessage({ n: m.n, result }),
    (e: unknown) => port.postMessage({ n: m.n, error: e instanceof Error ? e.message : String(e) }),
  )
})
