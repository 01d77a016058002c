// Benchmark child program: "the wallets" — the simulated Lightning network and the @getalby/sdk NIP-47 wallet
// service (src-main/embedded/wallet-service.ts) in their own process, as a real wallet is: the operator's funded
// connection and one make_invoice connection per recipient, all on the relay process the parent started. The
// payout benchmark (bench/payouts.bench.ts) bundles it with buildLedgerWorker and spawns it, so the wallet's
// request handling (signature checks, NIP-44, response signing) no longer shares the event loop of the runner
// it answers.
//
// argv: <config json>  {"relayUrl": "...", "operatorBalanceMsat": "…", "recipients": ["platform:platform", …]}
// stdout: one line `READY {"operatorUri": "...", "recipientUris": {"kind:id": "..."}}` once every connection's
// subscription is live. The program ends when its stdin closes (the parent ended or closed it), so it never
// outlives the benchmark.
import { LightningNetwork } from '../src-main/embedded/lightning'
import { startWalletService } from '../src-main/embedded/wallet-service'

interface ChildConfig {
  relayUrl: string
  operatorBalanceMsat: string
  recipients: string[]
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as ChildConfig
if (typeof cfg.relayUrl !== 'string') throw new Error('config.relayUrl must be the relay URL')
if (!Array.isArray(cfg.recipients)) throw new Error('config.recipients must be a list of recipient keys')

const net = new LightningNetwork()
const svc = await startWalletService({ relayUrls: [cfg.relayUrl], network: net })
const op = await svc.fundedConnection('operator', BigInt(cfg.operatorBalanceMsat))
const recipientUris: Record<string, string> = {}
for (const key of cfg.recipients) {
  const c = await svc.addConnection({ wallet: net.createWallet(key, 0n), methods: ['make_invoice'] })
  recipientUris[key] = c.uri
}
process.stdout.write(`READY ${JSON.stringify({ operatorUri: op.uri, recipientUris })}\n`)

const end = async () => {
  await svc.close()
  process.exit(0)
}
process.stdin.on('end', () => void end())
process.stdin.on('close', () => void end())
process.stdin.resume()
process.on('SIGTERM', () => void end())
