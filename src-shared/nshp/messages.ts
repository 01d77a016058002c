// NSHP/1 layer 2 (docs/signer-protocol.md §3–§5): the envelope (version, command or status, request id) and the
// CBOR body of every command and answer, encoded and decoded strictly by the same code on both sides. Pure.
// Request:  [version=1][command][request id u16 BE][body]
// Response: [version=1][status] [request id u16 BE][body]
// Bodies are CBOR maps with small unsigned-integer keys; unknown keys, missing keys and wrong types are refused
// naming the field, so a device and a host cannot silently disagree about what was asked.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { CborError, type CborMap, type CborValue, decodeCbor, encodeCbor } from './cbor'
import { Command, type CommandName, NSHP_VERSION, Status, type StatusCode } from './types'

export const ENVELOPE_BYTES = 4

/** Limits the device core enforces and the document states (a device may announce larger in GET_INFO). */
export const LIMITS = {
  maxContentBytes: 8192,
  maxTags: 64,
  maxTagItems: 16,
  maxTagItemBytes: 1024,
  maxClientLabelBytes: 64,
  maxConditionsBytes: 1024,
  maxNip44PlaintextBytes: 8192,
  maxNip44PayloadChars: 12000,
  maxPingBytes: 1024,
  maxAccount: 0x7fffffff,
} as const

export type Request =
  | { command: 'GET_INFO' }
  | { command: 'GET_PUBLIC_KEY'; account: number; display: boolean }
  | {
      command: 'SIGN_EVENT'
      account: number
      createdAt: number
      kind: number
      tags: string[][]
      content: string
      clientLabel?: string
    }
  | { command: 'SIGN_DELEGATION'; account: number; delegatee: string; conditions: string }
  | { command: 'NIP44_ENCRYPT'; account: number; peer: string; plaintext: string }
  | { command: 'NIP44_DECRYPT'; account: number; peer: string; payload: string }
  | { command: 'PING'; data: Uint8Array }

export interface InfoBody {
  protocolVersion: number
  firmwareVersion: string
  model: string
  serial: string
  capabilities: number
  reportBytes: number
  maxMessageBytes: number
  locked: boolean
  demo: boolean
}

export type ResponseBody =
  | { command: 'GET_INFO'; info: InfoBody }
  | { command: 'GET_PUBLIC_KEY'; pubkey: string }
  | { command: 'SIGN_EVENT'; id: string; sig: string; pubkey: string }
  | { command: 'SIGN_DELEGATION'; sig: string }
  | { command: 'NIP44_ENCRYPT'; payload: string }
  | { command: 'NIP44_DECRYPT'; plaintext: string }
  | { command: 'PING'; data: Uint8Array }

/** A request or answer that does not follow this layer; `status` is what a device answers to it. */
export class MessageError extends Error {
  constructor(
    readonly status: StatusCode,
    message: string,
  ) {
    super(message)
    this.name = 'MessageError'
  }
}

const COMMAND_BY_CODE = new Map<number, CommandName>(
  (Object.entries(Command) as [CommandName, number][]).map(([n, c]) => [c, n]),
)
export const commandName = (code: number): CommandName | undefined => COMMAND_BY_CODE.get(code)

/** Capability bit of each command (GET_INFO answers the OR of the bits it supports). */
export const CAPABILITY_BIT: Record<CommandName, number> = {
  GET_INFO: 1 << 0,
  GET_PUBLIC_KEY: 1 << 1,
  SIGN_EVENT: 1 << 2,
  SIGN_DELEGATION: 1 << 3,
  NIP44_ENCRYPT: 1 << 4,
  NIP44_DECRYPT: 1 << 5,
  PING: 1 << 6,
}

export const commandsOf = (capabilities: number): CommandName[] =>
  (Object.keys(CAPABILITY_BIT) as CommandName[]).filter((c) => (capabilities & CAPABILITY_BIT[c]) !== 0)

const m = (entries: [number, CborValue | undefined][]): CborMap => {
  const out: CborMap = new Map()
  for (const [k, v] of entries) if (v !== undefined) out.set(k, v)
  return out
}

const hex32 = (field: string, hex: string): Uint8Array => {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new MessageError(Status.BAD_REQUEST, `${field}: must be 64 lowercase hex`)
  return hexToBytes(hex)
}

function requestBody(r: Request): CborMap {
  switch (r.command) {
    case 'GET_INFO':
      return new Map()
    case 'GET_PUBLIC_KEY':
      return m([
        [1, r.account],
        [2, r.display],
      ])
    case 'SIGN_EVENT':
      return m([
        [1, r.account],
        [2, r.createdAt],
        [3, r.kind],
        [4, r.tags],
        [5, r.content],
        [6, r.clientLabel],
      ])
    case 'SIGN_DELEGATION':
      return m([
        [1, r.account],
        [2, hex32('delegatee', r.delegatee)],
        [3, r.conditions],
      ])
    case 'NIP44_ENCRYPT':
      return m([
        [1, r.account],
        [2, hex32('peer', r.peer)],
        [3, r.plaintext],
      ])
    case 'NIP44_DECRYPT':
      return m([
        [1, r.account],
        [2, hex32('peer', r.peer)],
        [3, r.payload],
      ])
    case 'PING':
      return m([[1, r.data]])
  }
}

export function encodeRequest(requestId: number, r: Request): Uint8Array {
  const body = encodeCbor(requestBody(r))
  const out = new Uint8Array(ENVELOPE_BYTES + body.length)
  out[0] = NSHP_VERSION
  out[1] = Command[r.command]
  out[2] = (requestId >> 8) & 0xff
  out[3] = requestId & 0xff
  out.set(body, ENVELOPE_BYTES)
  return out
}

/** Reads the request envelope: the request id is returned even when the rest is refused, so the answer can echo it. */
export function peekRequestId(msg: Uint8Array): number | null {
  return msg.length >= ENVELOPE_BYTES ? ((msg[2] ?? 0) << 8) | (msg[3] ?? 0) : null
}

// ---- strict field readers ----

class Fields {
  private readonly seen = new Set<number>()
  constructor(
    readonly what: string,
    readonly map: CborMap,
    readonly status: StatusCode,
  ) {}
  private fail(field: string, reason: string): never {
    throw new MessageError(this.status, `${this.what}.${field}: ${reason}`)
  }
  private get(key: number, field: string, optional: boolean): CborValue | undefined {
    this.seen.add(key)
    const v = this.map.get(key)
    if (v === undefined && !optional) this.fail(field, `missing (key ${key})`)
    return v
  }
  uint(key: number, field: string, max: number): number {
    const v = this.get(key, field, false)
    if (typeof v !== 'number' || v > max) this.fail(field, `must be an unsigned integer ≤ ${max}`)
    return v
  }
  bool(key: number, field: string): boolean {
    const v = this.get(key, field, false)
    if (typeof v !== 'boolean') this.fail(field, 'must be true or false')
    return v
  }
  text(key: number, field: string, maxBytes: number): string {
    const v = this.get(key, field, false)
    return this.checkText(field, v, maxBytes)
  }
  optText(key: number, field: string, maxBytes: number): string | undefined {
    const v = this.get(key, field, true)
    return v === undefined ? undefined : this.checkText(field, v, maxBytes)
  }
  private checkText(field: string, v: CborValue | undefined, maxBytes: number): string {
    if (typeof v !== 'string') this.fail(field, 'must be a text string')
    if (utf8Length(v) > maxBytes) this.fail(field, `longer than ${maxBytes} bytes`)
    return v
  }
  bytes(key: number, field: string, exact: number | null, max = 65535): Uint8Array {
    const v = this.get(key, field, false)
    if (!(v instanceof Uint8Array)) this.fail(field, 'must be a byte string')
    if (exact !== null && v.length !== exact) this.fail(field, `must be ${exact} bytes`)
    if (v.length > max) this.fail(field, `longer than ${max} bytes`)
    return v
  }
  tags(key: number, field: string): string[][] {
    const v = this.get(key, field, false)
    if (!Array.isArray(v)) this.fail(field, 'must be an array')
    if (v.length > LIMITS.maxTags) this.fail(field, `more than ${LIMITS.maxTags} tags`)
    return v.map((t, i) => {
      if (!Array.isArray(t) || t.length === 0 || t.length > LIMITS.maxTagItems)
        this.fail(`${field}[${i}]`, `must be an array of 1..${LIMITS.maxTagItems} text strings`)
      return t.map((x, j) => this.checkText(`${field}[${i}][${j}]`, x, LIMITS.maxTagItemBytes))
    })
  }
  done(): void {
    for (const k of this.map.keys()) if (!this.seen.has(k)) this.fail(`key ${k}`, 'unknown key')
  }
}

const utf8Length = (s: string): number => new TextEncoder().encode(s).length

function bodyMap(what: string, body: Uint8Array, status: StatusCode): CborMap {
  let v: CborValue
  try {
    v = decodeCbor(body)
  } catch (e) {
    if (e instanceof CborError) throw new MessageError(status, `${what}: body is not NSHP CBOR (${e.message})`)
    throw e
  }
  if (!(v instanceof Map)) throw new MessageError(status, `${what}: body must be a CBOR map`)
  return v
}

export interface DecodedRequest {
  requestId: number
  request: Request
}

/** Device side: decodes a request message; throws MessageError carrying the status to answer. */
export function decodeRequest(msg: Uint8Array): DecodedRequest {
  if (msg.length < ENVELOPE_BYTES) throw new MessageError(Status.BAD_REQUEST, 'envelope: shorter than 4 bytes')
  if (msg[0] !== NSHP_VERSION) throw new MessageError(Status.BAD_REQUEST, `envelope.version: ${msg[0]} is not 1`)
  const requestId = peekRequestId(msg) as number
  const command = commandName(msg[1] ?? 0)
  if (!command)
    throw new MessageError(Status.UNSUPPORTED_COMMAND, `envelope.command: 0x${(msg[1] ?? 0).toString(16)} unknown`)
  const f = new Fields(command, bodyMap(command, msg.subarray(ENVELOPE_BYTES), Status.BAD_REQUEST), Status.BAD_REQUEST)
  let request: Request
  switch (command) {
    case 'GET_INFO':
      request = { command }
      break
    case 'GET_PUBLIC_KEY':
      request = { command, account: f.uint(1, 'account', LIMITS.maxAccount), display: f.bool(2, 'display') }
      break
    case 'SIGN_EVENT': {
      const account = f.uint(1, 'account', LIMITS.maxAccount)
      const createdAt = f.uint(2, 'created_at', Number.MAX_SAFE_INTEGER)
      const kind = f.uint(3, 'kind', 65535)
      const tags = f.tags(4, 'tags')
      const content = f.text(5, 'content', LIMITS.maxContentBytes)
      const clientLabel = f.optText(6, 'client_label', LIMITS.maxClientLabelBytes)
      request = {
        command,
        account,
        createdAt,
        kind,
        tags,
        content,
        ...(clientLabel === undefined ? {} : { clientLabel }),
      }
      break
    }
    case 'SIGN_DELEGATION':
      request = {
        command,
        account: f.uint(1, 'account', LIMITS.maxAccount),
        delegatee: bytesToHex(f.bytes(2, 'delegatee', 32)),
        conditions: f.text(3, 'conditions', LIMITS.maxConditionsBytes),
      }
      break
    case 'NIP44_ENCRYPT':
      request = {
        command,
        account: f.uint(1, 'account', LIMITS.maxAccount),
        peer: bytesToHex(f.bytes(2, 'peer', 32)),
        plaintext: f.text(3, 'plaintext', LIMITS.maxNip44PlaintextBytes),
      }
      break
    case 'NIP44_DECRYPT':
      request = {
        command,
        account: f.uint(1, 'account', LIMITS.maxAccount),
        peer: bytesToHex(f.bytes(2, 'peer', 32)),
        payload: f.text(3, 'payload', LIMITS.maxNip44PayloadChars),
      }
      break
    case 'PING':
      request = { command, data: f.bytes(1, 'data', null, LIMITS.maxPingBytes) }
      break
  }
  f.done()
  return { requestId, request }
}

function responseBody(r: ResponseBody): CborMap {
  switch (r.command) {
    case 'GET_INFO': {
      const i = r.info
      return m([
        [1, i.protocolVersion],
        [2, i.firmwareVersion],
        [3, i.model],
        [4, i.serial],
        [5, i.capabilities],
        [6, i.reportBytes],
        [7, i.maxMessageBytes],
        [8, i.locked],
        [9, i.demo],
      ])
    }
    case 'GET_PUBLIC_KEY':
      return m([[1, hexToBytes(r.pubkey)]])
    case 'SIGN_EVENT':
      return m([
        [1, hexToBytes(r.id)],
        [2, hexToBytes(r.sig)],
        [3, hexToBytes(r.pubkey)],
      ])
    case 'SIGN_DELEGATION':
      return m([[1, hexToBytes(r.sig)]])
    case 'NIP44_ENCRYPT':
      return m([[1, r.payload]])
    case 'NIP44_DECRYPT':
      return m([[1, r.plaintext]])
    case 'PING':
      return m([[1, r.data]])
  }
}

/** Device side: an OK answer with its body, or an error status with an optional reason (key 1, text ≤ 128 bytes). */
export function encodeResponse(
  requestId: number,
  status: StatusCode,
  body: ResponseBody | { reason?: string },
): Uint8Array {
  const map =
    status === Status.OK && 'command' in body
      ? responseBody(body)
      : m([[1, 'reason' in body && body.reason !== undefined ? truncateUtf8(body.reason, 128) : undefined]])
  const b = encodeCbor(map)
  const out = new Uint8Array(ENVELOPE_BYTES + b.length)
  out[0] = NSHP_VERSION
  out[1] = status
  out[2] = (requestId >> 8) & 0xff
  out[3] = requestId & 0xff
  out.set(b, ENVELOPE_BYTES)
  return out
}

function truncateUtf8(s: string, maxBytes: number): string {
  let out = ''
  for (const ch of s) {
    if (utf8Length(out + ch) > maxBytes) break
    out += ch
  }
  return out
}

export type DecodedResponse =
  | { requestId: number; status: typeof Status.OK; body: ResponseBody }
  | { requestId: number; status: Exclude<StatusCode, typeof Status.OK>; reason?: string }

const KNOWN_STATUS = new Set<number>(Object.values(Status))

/** Host side: decodes an answer to `command`; throws MessageError (status INTERNAL) when it is malformed. */
export function decodeResponse(msg: Uint8Array, command: CommandName): DecodedResponse {
  const bad = (why: string): never => {
    throw new MessageError(Status.INTERNAL, why)
  }
  if (msg.length < ENVELOPE_BYTES) bad('answer envelope: shorter than 4 bytes')
  if (msg[0] !== NSHP_VERSION) bad(`answer envelope.version: ${msg[0]} is not 1`)
  const status = msg[1] ?? 0
  if (!KNOWN_STATUS.has(status)) bad(`answer envelope.status: ${status} is not a status code`)
  const requestId = peekRequestId(msg) as number
  const what = `${command} answer`
  const f = new Fields(what, bodyMap(what, msg.subarray(ENVELOPE_BYTES), Status.INTERNAL), Status.INTERNAL)
  if (status !== Status.OK) {
    const reason = f.optText(1, 'reason', 128)
    f.done()
    return {
      requestId,
      status: status as Exclude<StatusCode, typeof Status.OK>,
      ...(reason === undefined ? {} : { reason }),
    }
  }
  let body: ResponseBody
  switch (command) {
    case 'GET_INFO':
      body = {
        command,
        info: {
          protocolVersion: f.uint(1, 'protocol_version', 255),
          firmwareVersion: f.text(2, 'firmware_version', 64),
          model: f.text(3, 'model', 64),
          serial: f.text(4, 'serial', 64),
          capabilities: f.uint(5, 'capabilities', 0xffffffff),
          reportBytes: f.uint(6, 'report_bytes', 4096),
          maxMessageBytes: f.uint(7, 'max_msg', 65535),
          locked: f.bool(8, 'locked'),
          demo: f.bool(9, 'demo'),
        },
      }
      break
    case 'GET_PUBLIC_KEY':
      body = { command, pubkey: bytesToHex(f.bytes(1, 'pubkey', 32)) }
      break
    case 'SIGN_EVENT':
      body = {
        command,
        id: bytesToHex(f.bytes(1, 'id', 32)),
        sig: bytesToHex(f.bytes(2, 'sig', 64)),
        pubkey: bytesToHex(f.bytes(3, 'pubkey', 32)),
      }
      break
    case 'SIGN_DELEGATION':
      body = { command, sig: bytesToHex(f.bytes(1, 'sig', 64)) }
      break
    case 'NIP44_ENCRYPT':
      body = { command, payload: f.text(1, 'payload', LIMITS.maxNip44PayloadChars) }
      break
    case 'NIP44_DECRYPT':
      body = { command, plaintext: f.text(1, 'plaintext', LIMITS.maxNip44PlaintextBytes) }
      break
    case 'PING':
      body = { command, data: f.bytes(1, 'data', null, LIMITS.maxPingBytes) }
      break
  }
  f.done()
  return { requestId, status: Status.OK, body }
}
