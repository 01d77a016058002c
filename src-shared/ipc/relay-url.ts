// Relay address validation (docs/settings.md "Relays"): what a Nostr relay URL must look like before the console
// tries to connect to it. The old check was a pattern that let `ws://!!garbage!!` through, and the relay pool then
// retried it for ever while pairing waited 20 s. Here the URL is parsed by the WHATWG URL parser (the one the
// WebSocket clients use) and the host is checked as a DNS name, an IPv4 address or a bracketed IPv6 address, so a
// refusal says in one sentence what is wrong.
//
// Messages never quote the typed value (schema rule: values over IPC may be secrets and messages are logged).
// Pure TypeScript: the preload bundles this file through contract.ts.
import { type Schema, SchemaError } from './schema'

export const RELAY_URL_MAX = 300

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

function hostProblem(host: string): string | null {
  if (host.startsWith('[') && host.endsWith(']')) return null // the URL parser already checked the IPv6 address
  const v4 = IPV4.exec(host)
  if (v4) return v4.slice(1).every((p) => Number(p) <= 255) ? null : 'the IP address has a part above 255'
  if (host.length > 253) return 'the host name is longer than 253 characters'
  const labels = host.replace(/\.$/, '').split('.')
  if (labels.some((l) => l.length === 0)) return 'the host name has an empty part between dots'
  if (!labels.every((l) => LABEL.test(l)))
    return 'the host name may contain only letters, digits, dots and dashes (not at the start or end of a part)'
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'the host name ends in a number but is not an IP address'
  return null
}

/**
 * Why `text` is not a usable relay address, in the operator's words, or null when it is one. Accepts
 * `wss://host[:port][/path]` and `ws://…` (plain ws:// is for a relay on this computer or the operator's own
 * network; the form says so, the check does not refuse it).
 */
export function relayUrlProblem(text: string): string | null {
  if (text.length === 0) return 'enter a relay address, e.g. wss://relay.example.com'
  if (text.length > RELAY_URL_MAX) return `a relay address is at most ${RELAY_URL_MAX} characters`
  if (/[\s\p{Cc}\p{Cf}]/u.test(text)) return 'a relay address cannot contain spaces or invisible characters'
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)
  if (!scheme) return 'a relay address starts with ws:// or wss:// (wss:// for a relay on the internet)'
  const s = scheme[1]!.toLowerCase()
  if (s !== 'ws' && s !== 'wss')
    return `a relay address starts with ws:// or wss://, not ${s === 'http' || s === 'https' ? `${s}://` : 'this scheme'}`
  const rest = text.slice(scheme[0].length)
  const authority = rest.split(/[/?#]/, 1)[0]!
  if (authority.length === 0) return 'the relay address has no host name after ws:// or wss://'
  if (authority.includes('@')) return 'a relay address cannot contain a user name or password'
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // The WHATWG parser refused it; say which part is wrong where we can.
    const port = /:(\d*)$/.exec(authority)
    if (port && (port[1] === '' || Number(port[1]) > 65535)) return 'the port must be a number from 1 to 65535'
    const hp = hostProblem(authority.replace(/:\d*$/, ''))
    return hp ?? 'this is not a valid web address'
  }
  if (url.hash) return 'a relay address cannot have a #fragment'
  // The parser lower-cases and punycodes; a raw host with odd characters (e.g. `!!garbage!!`) survives parsing.
  const hp = hostProblem(url.hostname)
  if (hp) return hp
  if (url.port !== '' && Number(url.port) === 0) return 'the port must be a number from 1 to 65535'
  return null
}

/** The IPC schema of a relay address: refuses with the sentence of `relayUrlProblem`, naming the field. */
export const relayUrl: Schema<string> = {
  expected: 'a ws:// or wss:// relay address',
  parse(v, path) {
    if (typeof v !== 'string') throw new SchemaError(path, 'expected a ws:// or wss:// relay address')
    const problem = relayUrlProblem(v)
    if (problem) throw new SchemaError(path, `not a relay address: ${problem}`)
    return v
  },
}
