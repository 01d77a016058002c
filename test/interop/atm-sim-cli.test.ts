// Interop: `satmachine atm-sim` as a person runs it (the CLI dispatch, a key file, the pairing URI the console
// showed, the customer's own wallet over NWC with --pay-with) against real relays, the real wallet service and a
// running console. The records it publishes must be booked.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBytes } from '@noble/hashes/utils.js'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { main } from '../../src-main/cli'
import { type FleetHarness, startFleetHarness, waitFor } from '../support/fleet-harness'

let h: FleetHarness
let dir: string

beforeAll(async () => {
  h = await startFleetHarness({ recordRelays: 1 })
  await h.startConsole()
  dir = mkdtempSync(join(tmpdir(), 'atm-sim-cli-'))
}, 120_000)

afterAll(async () => {
  await h?.close()
  rmSync(dir, { recursive: true, force: true })
})

const run = async (argv: string[]) => {
  const out: string[] = []
  const err: string[] = []
  const code = await main(['atm-sim', ...argv], { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out, err }
}

it('creates a key, pairs with the console URI and sells three times over NWC; the console books them', async () => {
  const keyFile = join(dir, 'atm.key')
  const first = await run(['--key', keyFile])
  expect(first.code).toBe(0)
  expect(first.out.join('\n')).toMatch(/ATM public key: npub1/)
  expect(statSync(keyFile).mode & 0o777).toBe(0o600)
  const secret = hexToBytes(readFileSync(keyFile, 'utf8').trim())
  const { pairing } = await h.pairAtm({ machineId: 'atm-cli-01', members: [], secret })
  const customer = await h.svc.fundedConnection('cli-customer', 50_000_000_000n)
  const c = h.console!
  await waitFor('the machine config at the console', async () =>
    (await c.fleet.machines()).some((m) => m.machineId === 'atm-cli-01'),
  )
  const sold = await run(['--key', keyFile, '--pair', pairing.uri, '--pay-with', customer.uri, '--count', '3'])
  expect(sold.err.filter((l) => /satmachine atm-sim:/.test(l))).toEqual([])
  expect(sold.code).toBe(0)
  const sales = sold.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { eventId: string })
  expect(sales).toHaveLength(3)
  for (const s of sales) expect(await c.outcomeOf(s.eventId)).toMatchObject({ outcome: 'booked' })
})

it('refuses bad usage with exit code 2 and names what is wrong', async () => {
  const r = await run(['--key', join(dir, 'k2'), '--scenario', 'nope'])
  expect(r.code).toBe(2)
  expect(r.err.join('\n')).toMatch(/--scenario: unknown "nope"/)
  const badNwc = await run([
    '--key',
    join(dir, 'k2'),
    '--pair',
    'satmachine-pair:?v=1',
    '--pay-with',
    'nostr+walletconnect://x',
  ])
  expect(badNwc.code).toBe(2)
  expect(badNwc.err.join('\n')).toMatch(/pubkey/)
  const customer = await h.svc.fundedConnection('cli-customer-2', 1_000n)
  const badPair = await run(['--key', join(dir, 'k2'), '--pair', 'satmachine-pair:?v=1', '--pay-with', customer.uri])
  expect(badPair.code).toBe(2)
  expect(badPair.err.join('\n')).toMatch(/atm: missing/)
})
