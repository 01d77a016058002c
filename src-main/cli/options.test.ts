// The shared option parser: values, flags, optional values, refusals naming the option, and the help text.
import { describe, expect, it } from 'vitest'
import { type CommandOptions, helpLines, OptionError, parseOptions, runWithOptions } from './options'

const SPEC: CommandOptions = {
  command: 'demo-cmd',
  summary: 'a command for the test',
  options: [
    { name: 'port', kind: 'string', value: 'N', help: 'the port' },
    { name: 'reset', kind: 'boolean', help: 'wipe first' },
    { name: 'demo', kind: 'optional-string', value: 'FLAGS', help: 'demo mode' },
  ],
  example: 'satmachine demo-cmd --port 1',
}

describe('parseOptions', () => {
  it('reads values, inline values, flags and optional values', () => {
    expect(parseOptions(SPEC, ['--port', '5', '--reset', '--demo'])).toEqual({ port: '5', reset: true, demo: true })
    expect(parseOptions(SPEC, ['--port=7', '--demo', 'a,b'])).toEqual({ port: '7', demo: 'a,b' })
    expect(parseOptions(SPEC, ['--demo', '--port', '1'])).toEqual({ demo: true, port: '1' })
  })

  it('refuses unknown options, missing values, values on flags and stray arguments, naming them', () => {
    const err = (argv: string[]) => {
      try {
        parseOptions(SPEC, argv)
      } catch (e) {
        expect(e).toBeInstanceOf(OptionError)
        return (e as Error).message
      }
      throw new Error('accepted')
    }
    expect(err(['--bogus'])).toMatch(/unknown option '--bogus'/)
    expect(err(['--port'])).toMatch(/--port needs a value \(N\)/)
    expect(err(['--reset=yes'])).toMatch(/--reset takes no value/)
    expect(err(['stray'])).toMatch(/unexpected argument 'stray'/)
  })

  it('prints every option in --help and answers it with exit 0 without running', async () => {
    const out: string[] = []
    let ran = false
    const code = await runWithOptions(SPEC, ['--help'], { out: (l) => out.push(l), err: () => undefined }, async () => {
      ran = true
      return 0
    })
    expect(code).toBe(0)
    expect(ran).toBe(false)
    expect(out).toEqual(helpLines(SPEC))
    for (const o of ['--port N', '--reset', '--demo [FLAGS]', '--help', 'example: satmachine demo-cmd'])
      expect(out.join('\n')).toContain(o)
  })
})
