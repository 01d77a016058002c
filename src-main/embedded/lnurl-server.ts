// A small LNURL-pay server (LUD-06 payRequest, LUD-16 Lightning address, LUD-12-free) on 127.0.0.1 for demo mode:
// `user@127.0.0.1:PORT` resolves to GET /.well-known/lnurlp/user, whose callback asks the user's wallet on the
// simulated Lightning network (./lightning.ts) for a real bolt11 invoice committing to sha256(metadata) as its
// description hash, as LUD-06 requires. The console's LNURL client allows plain http only to loopback hosts.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { SimWallet } from './lightning'

export interface LnurlServer {
  /** 127.0.0.1:PORT — the domain part of the addresses served. */
  readonly host: string
  /** `user@host` for a served user. */
  address(user: string): string
  close(): Promise<void>
}

const MIN_SENDABLE_MSAT = 1000
const MAX_SENDABLE_MSAT = 100_000_000_000

/** Serves one Lightning address per entry of `users` (user name → the wallet that receives). */
export async function startLnurlServer(users: Record<string, SimWallet>): Promise<LnurlServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const host = req.headers.host ?? ''
    res.setHeader('content-type', 'application/json')
    const fail = (status: number, reason: string) => {
      res.statusCode = status
      res.end(JSON.stringify({ status: 'ERROR', reason }))
    }
    const well = /^\/\.well-known\/lnurlp\/([A-Za-z0-9._-]+)$/.exec(url.pathname)
    const cb = /^\/cb\/([A-Za-z0-9._-]+)$/.exec(url.pathname)
    const user = well?.[1] ?? cb?.[1]
    const wallet = user === undefined ? undefined : users[user]
    if (!user || !wallet) return fail(404, 'no such user')
    const metadata = JSON.stringify([
      ['text/plain', `Payment to ${user}`],
      ['text/identifier', `${user}@${host}`],
    ])
    if (well) {
      res.end(
        JSON.stringify({
          tag: 'payRequest',
          callback: `http://${host}/cb/${user}`,
          minSendable: MIN_SENDABLE_MSAT,
          maxSendable: MAX_SENDABLE_MSAT,
          metadata,
        }),
      )
      return
    }
    const raw = url.searchParams.get('amount') ?? ''
    if (!/^\d{1,15}$/.test(raw)) return fail(400, 'amount: expected msat as an integer')
    const amountMsat = BigInt(raw)
    if (amountMsat < BigInt(MIN_SENDABLE_MSAT) || amountMsat > BigInt(MAX_SENDABLE_MSAT))
      return fail(400, 'amount: out of range')
    const tx = wallet.makeInvoice(amountMsat, {
      descriptionHash: bytesToHex(sha256(new TextEncoder().encode(metadata))),
    })
    res.end(JSON.stringify({ pr: tx.invoice, routes: [] }))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  let closed: Promise<void> | undefined
  return {
    host,
    address: (user) => `${user}@${host}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      return closed
    },
  }
}
