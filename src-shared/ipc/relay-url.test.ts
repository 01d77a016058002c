// Tests of relay address validation: garbage hosts are refused with a sentence, real addresses pass, and the
// settings schema names the field of the bad entry.
import { describe, expect, it } from 'vitest'
import { settingsPatchSchema } from './contract'
import { relayUrlProblem } from './relay-url'
import { SchemaError } from './schema'

describe('relayUrlProblem', () => {
  it('accepts real relay addresses', () => {
    for (const u of [
      'wss://relay.damus.io',
      'wss://nos.lol/',
      'ws://127.0.0.1:7777',
      'ws://localhost:8080/nostr',
      'wss://[::1]:443',
      'wss://Relay.Example.COM/path?x=1',
    ])
      expect(relayUrlProblem(u), u).toBeNull()
  })

  it('refuses garbage with a reason', () => {
    expect(relayUrlProblem('ws://!!garbage!!')).toMatch(/host name may contain only letters/)
    expect(relayUrlProblem('https://relay.example.com')).toMatch(/not https:\/\//)
    expect(relayUrlProblem('relay.example.com')).toMatch(/starts with ws:\/\/ or wss:\/\//)
    expect(relayUrlProblem('wss://')).toMatch(/no host name/)
    expect(relayUrlProblem('wss://a..b')).toMatch(/empty part/)
    expect(relayUrlProblem('wss://300.1.1.1')).toMatch(/above 255/)
    expect(relayUrlProblem('wss://relay.example.com:99999')).toMatch(/port/)
    expect(relayUrlProblem('wss://user:pw@relay.example.com')).toMatch(/user name/)
    expect(relayUrlProblem('wss://relay.example.com/\u202e')).toMatch(/invisible/)
    expect(relayUrlProblem('wss://-bad-.example.com')).toMatch(/letters, digits/)
  })

  it('the settings schema names the bad entry and does not quote it', () => {
    try {
      settingsPatchSchema.parse({ relays: ['wss://relay.example.com', 'ws://!!garbage!!'] }, 'args[0]')
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(SchemaError)
      const se = e as SchemaError
      expect(se.path).toBe('args[0].relays[1]')
      expect(se.message).toMatch(/^args\[0\]\.relays\[1\]: not a relay address: the host name/)
      expect(se.message).not.toContain('garbage')
    }
  })
})
