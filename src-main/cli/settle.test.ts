// `satmachine settle`: the README example and every rejection the issue lists, through the command function with
// real streams and files, and through the built launcher (bin/satmachine.mjs) when the CLI bundle is built.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { runSettleCli } from './settle'

const README_INPUT = {
  direction: 'cash_out',
  wireMsat: '266800000',
  fiatMinor: '200000',
  fiatRequestedMinor: '200000',
  currency: 'GTQ',
  platformPpm: 30000,
  operatorPpm: 20000,
  discountPpm: 0,
  splits: [
    { id: 'owner', weightPpm: 700000 },
    { id: 'tech', weightPpm: 300000 },
  ],
  lps: [
    { id: 'lp-a', mode: 'flow', remainingMinor: '900000' },
    { id: 'lp-b', mode: 'fixed', remainingMinor: '100000', dailyLimitMinor: '50000', usedTodayMinor: '0' },
  ],
}

// Hand-checked in src-shared/money/settlement.test.ts ("the README example").
const README_OUTPUT = {
  principalMsat: '254095238',
  commissionMsat: '12704762',
  platformFeeMsat: '7622857',
  operatorFeeMsat: '5081905',
  refundDueMsat: '0',
  splits: [
    { id: 'owner', msat: '3557334' },
    { id: 'tech', msat: '1524571' },
  ],
  lps: [
    { id: 'lp-a', msat: '240722206', fiatMinor: '189474' },
    { id: 'lp-b', msat: '13373032', fiatMinor: '10526' },
  ],
  operatorFloat: { msat: '0', fiatMinor: '0' },
}

const dir = mkdtempSync(join(tmpdir(), 'settle-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function run(argv: string[], stdinText = '') {
  const out: string[] = []
  const err: string[] = []
  const code = await runSettleCli(argv, {
    stdin: Readable.from([Buffer.from(stdinText)]),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

const REJECTIONS: [string, Record<string, unknown>, string][] = [
  ['a negative amount', { wireMsat: '-1' }, 'wireMsat'],
  ['a non-integer amount', { fiatMinor: '2000.50' }, 'fiatMinor'],
  ['X+Y above 150,000 ppm', { platformPpm: 100000, operatorPpm: 50001 }, 'operatorPpm'],
  ['split weights not summing to 1,000,000', { splits: [{ id: 'owner', weightPpm: 700000 }] }, 'splits'],
  [
    'duplicate split ids',
    {
      splits: [
        { id: 'owner', weightPpm: 500000 },
        { id: 'owner', weightPpm: 500000 },
      ],
    },
    'splits[1].id',
  ],
  [
    'duplicate LP ids',
    {
      lps: [
        { id: 'lp-a', mode: 'flow', remainingMinor: '1' },
        { id: 'lp-a', mode: 'flow', remainingMinor: '2' },
      ],
    },
    'lps[1].id',
  ],
  ['zero fiat on a cash-out', { fiatMinor: '0', fiatRequestedMinor: '0' }, 'fiatMinor'],
  ['fiatMinor above fiatRequestedMinor', { fiatMinor: '200001' }, 'fiatMinor'],
  ['a negative LP balance', { lps: [{ id: 'x', mode: 'flow', remainingMinor: '-5' }] }, 'lps[0].remainingMinor'],
]

describe('runSettleCli', () => {
  it('prints the README example result from a file', async () => {
    const file = join(dir, 'readme.json')
    writeFileSync(file, JSON.stringify(README_INPUT))
    const r = await run(['--input', file])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out)).toEqual(README_OUTPUT)
    expect(r.err).toBe('')
  })

  it('reads stdin for --input -', async () => {
    const r = await run(['--input=-'], JSON.stringify(README_INPUT))
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out)).toEqual(README_OUTPUT)
  })

  for (const [name, over, field] of REJECTIONS) {
    it(`exits 1 naming ${field} for ${name}`, async () => {
      const r = await run(['--input', '-'], JSON.stringify({ ...README_INPUT, ...over }))
      expect(r.code).toBe(1)
      expect(r.out).toBe('')
      expect(r.err).toContain(`field ${field}:`)
    })
  }

  it('exits 1 on broken JSON and 2 on usage or I/O errors', async () => {
    expect((await run(['--input', '-'], '{"direction":')).code).toBe(1)
    const missing = await run([])
    expect(missing.code).toBe(2)
    expect(missing.err).toContain('missing --input')
    const nofile = await run(['--input', join(dir, 'nope.json')])
    expect(nofile.code).toBe(2)
    expect(nofile.err).toContain('cannot read')
  })
})

describe('the built launcher', () => {
  const root = resolve(import.meta.dirname, '../..')
  const bundle = join(root, 'out/main/cli.js')
  const built = existsSync(bundle) && readFileSync(bundle, 'utf8').includes('satmachine settle')
  it('runs `satmachine settle --input -` end to end', (ctx) => {
    if (!built) {
      console.log('[settle cli] skipped: out/main/cli.js is not built with the settle command (run npm run build)')
      ctx.skip()
      return
    }
    const ok = spawnSync(process.execPath, [join(root, 'bin/satmachine.mjs'), 'settle', '--input', '-'], {
      input: JSON.stringify(README_INPUT),
      encoding: 'utf8',
    })
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.stdout)).toEqual(README_OUTPUT)
    const bad = spawnSync(process.execPath, [join(root, 'bin/satmachine.mjs'), 'settle', '--input', '-'], {
      input: JSON.stringify({ ...README_INPUT, wireMsat: '-1' }),
      encoding: 'utf8',
    })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain('field wireMsat:')
  })
})
