// Every `satmachine` command answers `--help` with exit 0 and a usage text, before it starts or reads anything
// (the first-run issue: a newcomer's first try is `--help`). Iterates the dispatch table, so a command added later
// is held to the same rule.
import { describe, expect, it } from 'vitest'
import { COMMANDS, main } from '../cli'

describe('satmachine <command> --help', () => {
  for (const c of COMMANDS) {
    it(`${c.name} --help exits 0 with its usage`, async () => {
      const out: string[] = []
      const err: string[] = []
      const code = await main([c.name, '--help'], { out: (l) => out.push(l), err: (l) => err.push(l) })
      expect(code).toBe(0)
      expect(out[0]).toMatch(new RegExp(`^usage: satmachine ${c.name === 'help' ? '<command>' : c.name}(\\s|$)`))
      expect(err).toEqual([])
    })
  }

  it('covers the commands a newcomer meets first', () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(
      expect.arrayContaining(['serve', 'start', 'settle', 'atm-sim', 'demo-seed', 'help']),
    )
  })
})
