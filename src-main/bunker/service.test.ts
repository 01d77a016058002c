// The bunker over the app's IPC, as the Signer screen uses it: real services, real secret store (key file), real
// relay process and nostr-tools BunkerSigner as the client. Checks the transport key is sealed and kept across a
// restart, clients and their revocation persist, and the request log pages.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { BunkerSigner } from 'nostr-tools/nip46'
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { BunkerConnectView, BunkerLogView, BunkerStatusView } from '../../src-shared/ipc/bunker'
import type { Result } from '../../src-shared/ipc/contract'
import { parseBunkerUri } from '../../src-shared/nostr/nip46'
import { operatorForTest } from '../../test/support/approval-signer'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import { startNodeServices } from '../../test/support/services'
import { useTempDirs } from '../../test/support/temp-dirs'
import { createAppLog } from '../app-log'
import { createDispatcher } from '../ipc'
import '../ledger/registry'
import { lazySecretStore, SECRETS_FILE } from '../secrets/secret-store'
import type { Services } from '../services'
import { BunkerSecretSlots } from './service'

useWebSocketImplementation(WebSocket)
const tempDir = useTempDirs('bunker-ipc-')
const call = { transport: 'ws', caller: 'test' } as const
let relay: RelayHandle
const pools: SimplePool[] = []
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const p of pools) p.close([relay.url])
  await relay.stop()
})

function ok<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`)
  return r.value as T
}

describe('bunker over IPC with the real secret store', () => {
  it('issues a connect code, serves BunkerSigner, revokes, and keeps key and clients across a restart', async () => {
    const root = tempDir()
    const dataDir = join(root, 'data')
    const secretsOpts = { dataDir, keyFile: join(root, 'keys', 'secret.key'), log: createAppLog().log }
    const op = await operatorForTest(schnorr.utils.randomSecretKey())
    const provider = { current: () => op.signer, pubkey: () => op.pubkey, describe: () => 'test signer' }
    const pushes: BunkerStatusView[] = []
    const start = async (): Promise<{ s: Services; d: ReturnType<typeof createDispatcher> }> => {
      const appLog = createAppLog()
      const s = await startNodeServices({
        dataDir,
        appLog,
        lps: { secrets: lazySecretStore(secretsOpts) },
        operatorSigner: provider,
        emit: (e, p) => {
          if (e === 'bunker.status') pushes.push(p as BunkerStatusView)
        },
      })
      return { s, d: createDispatcher(s.handlers, appLog.log.child('ipc')) }
    }
    let { s, d } = await start()
    const notYet = ok<BunkerStatusView>(await d('bunker.status', [], call))
    expect(notYet.running).toBe(false)
    expect(notYet.detail).toMatch(/add a relay/)
    ok(await d('settings.set', [{ relays: [relay.url] }], call))
    ok(await d('setup.setOperator', [{ operatorNpub: op.pubkey }], call))
    const st = ok<BunkerStatusView>(await d('bunker.status', [], call))
    expect(st.running).toBe(true)
    expect(st.relays).toEqual([relay.url])

    const bad = await d(
      'bunker.issueConnect',
      [{ name: 'x', permissions: { methods: ['nip04_encrypt'], kinds: [], dTagPatterns: [] } }],
      call,
    )
    expect(bad.ok ? '' : bad.error.code).toBe('bad_args')
    const issued = ok<BunkerConnectView>(
      await d(
        'bunker.issueConnect',
        [
          {
            name: 'notes app',
            permissions: { methods: ['get_public_key', 'sign_event'], kinds: [1], dTagPatterns: [] },
          },
        ],
        call,
      ),
    )
    expect(issued.qrSvg).toMatch(/^<svg/)
    expect(parseBunkerUri(issued.uri).pubkey).toBe(st.bunkerPubkey)

    const sk = schnorr.utils.randomSecretKey()
    const pool = new SimplePool()
    pools.push(pool)
    const c = BunkerSigner.fromBunker(sk, parseBunkerUri(issued.uri), { pool })
    await c.connect()
    expect(await c.getPublicKey()).toBe(op.pubkey)
    const signing = c.signEvent({ kind: 1, created_at: 1_760_000_000, tags: [], content: 'from my notes app' })
    ;(await op.next()).approve()
    expect((await signing).pubkey).toBe(op.pubkey)

    const clientPk = bytesToHex(schnorr.getPublicKey(sk))
    expect(ok<{ revoked: boolean }>(await d('bunker.revoke', [{ pubkey: clientPk }], call)).revoked).toBe(true)
    await expect(c.sendRequest('ping', [])).rejects.toMatch(/revoked/)
    expect(pushes.at(-1)?.clients.find((x) => x.pubkey === clientPk)?.revokedAtMs).not.toBeNull()
    const page = ok<BunkerLogView>(await d('bunker.log', [{ limit: 2 }], call))
    expect(page.total).toBeGreaterThanOrEqual(4)
    expect(page.entries).toHaveLength(2)
    expect(page.entries[0]).toMatchObject({ method: 'ping', outcome: 'unauthorised', clientName: 'notes app' })

    // The transport key is sealed: its hex is nowhere in the secrets file.
    const keyHex = await (await lazySecretStore(secretsOpts)()).get(BunkerSecretSlots.transportKey)
    expect(keyHex).toMatch(/^[0-9a-f]{64}$/)
    expect(readFileSync(join(dataDir, SECRETS_FILE), 'utf8')).not.toContain(keyHex)

    await s.close()
    ;({ s, d } = await start())
    const again = ok<BunkerStatusView>(await d('bunker.status', [], call))
    expect(again.bunkerPubkey).toBe(st.bunkerPubkey)
    expect(again.clients.map((x) => [x.name, x.revokedAtMs !== null])).toEqual([['notes app', true]])
    await s.close()
  })
})
