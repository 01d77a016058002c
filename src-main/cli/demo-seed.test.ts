// `satmachine demo-seed` on the command line: --help answers with exit 0 and lists every option, unknown options
// and bad values are refused naming them (exit 2), and a small seed prints its report as JSON (exit 0).
import { describe, expect, it } from 'vitest'
import { useTempDirs } from '../../test/support/temp-dirs'
import { main } from '../cli'
import { DEMO_SEED_OPTIONS } from './demo-seed'

const tempDir = useTempDirs('demo-seed-cli-')

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err }
}

describe('satmachine demo-seed', () => {
  it('answers --help with exit 0 and every option', async () => {
    const c = capture()
    expect(await main(['demo-seed', '--help'], c.io)).toBe(0)
    expect(c.out[0]).toBe('usage: satmachine demo-seed [options]')
    for (const o of DEMO_SEED_OPTIONS.options) expect(c.out.some((l) => l.includes(`--${o.name}`))).toBe(true)
    expect(c.err).toEqual([])
  })

  it('refuses unknown options and bad values, naming them, before touching the disk', async () => {
    const cases: [string[], RegExp][] = [
      [['--data-dir', '/x', '--settlements', '5', '--bogus'], /unknown option '--bogus'/],
      [['--settlements', '5'], /--data-dir DIR is required/],
      [['--data-dir', '/x'], /--settlements N is required/],
      [['--data-dir', '/x', '--settlements', 'many'], /--settlements: expected a whole number, got 'many'/],
      [['--data-dir', '/x', '--settlements', '5', '--from', '2026-13-01'], /--from: expected a date YYYY-MM-DD/],
      [['--data-dir', '/x', '--settlements', '5', '--machines', '0'], /--machines: expected a whole number from 1/],
    ]
    for (const [argv, re] of cases) {
      const c = capture()
      expect(await main(['demo-seed', ...argv], c.io)).toBe(2)
      expect(c.err.join('\n')).toMatch(re)
      expect(c.out).toEqual([])
    }
  })

  it('seeds a small history and prints the report', async () => {
    const dir = tempDir()
    const c = capture()
    const argv = ['--data-dir', dir, '--settlements', '120', '--from', '2026-05-01', '--to', '2026-05-10', '--lps', '2']
    expect(await main(['demo-seed', ...argv], c.io)).toBe(0)
    const report = JSON.parse(c.out.at(-1)!) as { settlements: number; from: string; to: string; lps: number }
    expect(report).toMatchObject({ settlements: 120, from: '2026-05-01', to: '2026-05-10', lps: 2 })
    // A second run on the same directory is refused (exit 2): the seed never mixes into an existing ledger.
    const again = capture()
    expect(await main(['demo-seed', ...argv], again.io)).toBe(2)
    expect(again.err.at(-1)).toMatch(/--data-dir: .* already holds 120 settlements/)
  }, 60_000)
})
