// NSHP/1 layer-1 framer (pure): splits a message into fixed-size HID reports and reassembles them.
// Layout per report: bytes 0-1 channel (big-endian), byte 2 tag, bytes 3-4 sequence (big-endian).
// Tag MSG (0x05): frame 0 carries a 2-byte total length then data; later frames carry data only; zero padding.
// Tag STATUS (0x06): one frame, byte 5 is the status code. Tag CANCEL (0x07): one frame, no payload.
// The report size is a parameter (64 for plain HID, 63 when the stack reserves a report-id byte).

export const TAG_MSG = 0x05
export const TAG_STATUS = 0x06
export const TAG_CANCEL = 0x07
const HEADER_BYTES = 5
const LENGTH_BYTES = 2

export type FrameErrorCode = 'bad-report-size' | 'too-long' | 'short-report' | 'bad-tag' | 'out-of-order'

export class FrameError extends Error {
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'FrameError'
  }
}

function checkReportSize(reportBytes: number): void {
  // Frame 0 must hold the header, the length and at least one data byte.
  if (!Number.isInteger(reportBytes) || reportBytes < HEADER_BYTES + LENGTH_BYTES + 1 || reportBytes > 4096) {
    throw new FrameError('bad-report-size', `reportBytes: ${reportBytes} is not a usable report size`)
  }
}

function header(report: Uint8Array, channel: number, tag: number, seq: number): void {
  report[0] = (channel >> 8) & 0xff
  report[1] = channel & 0xff
  report[2] = tag
  report[3] = (seq >> 8) & 0xff
  report[4] = seq & 0xff
}

/** Split one message into MSG reports of exactly reportBytes each. */
export function frameMessage(channel: number, message: Uint8Array, reportBytes: number): Uint8Array[] {
  checkReportSize(reportBytes)
  if (message.length > 0xffff) throw new FrameError('too-long', `message: ${message.length} bytes exceeds 65535`)
  const reports: Uint8Array[] = []
  let offset = 0
  let seq = 0
  do {
    const report = new Uint8Array(reportBytes)
    header(report, channel, TAG_MSG, seq)
    let at = HEADER_BYTES
    if (seq === 0) {
      report[at++] = (message.length >> 8) & 0xff
      report[at++] = message.length & 0xff
    }
    const take = Math.min(reportBytes - at, message.length - offset)
    report.set(message.subarray(offset, offset + take), at)
    offset += take
    reports.push(report)
    seq++
  } while (offset < message.length)
  return reports
}

export function cancelReport(channel: number, reportBytes: number): Uint8Array {
  checkReportSize(reportBytes)
  const report = new Uint8Array(reportBytes)
  header(report, channel, TAG_CANCEL, 0)
  return report
}

export function statusReport(channel: number, status: number, reportBytes: number): Uint8Array {
  checkReportSize(reportBytes)
  const report = new Uint8Array(reportBytes)
  header(report, channel, TAG_STATUS, 0)
  report[HEADER_BYTES] = status & 0xff
  return report
}

export type AssemblerEvent =
  | { kind: 'message'; message: Uint8Array }
  | { kind: 'status'; status: number }
  | { kind: 'cancel' }
  | { kind: 'pending' }
  | { kind: 'ignored' }

/** Reassembles reports on one channel. Frames on another channel are ignored; seq 0 always restarts. */
export class Assembler {
  private buffer: Uint8Array | null = null
  private filled = 0
  private nextSeq = 0

  constructor(
    private readonly channel: number,
    readonly reportBytes: number,
    /** Longest message accepted (the peer's announced max_msg); a frame 0 declaring more is `too-long`. */
    readonly maxMessageBytes = 0xffff,
  ) {
    checkReportSize(reportBytes)
  }

  push(report: Uint8Array): AssemblerEvent {
    if (report.length < HEADER_BYTES) {
      throw new FrameError('short-report', `report: ${report.length} bytes is shorter than the header`)
    }
    // Length checked above, so these reads are in range; `?? 0` only satisfies the index-access check.
    const b = (i: number): number => report[i] ?? 0
    const channel = (b(0) << 8) | b(1)
    if (channel !== this.channel) return { kind: 'ignored' }
    const tag = b(2)
    const seq = (b(3) << 8) | b(4)
    if (tag === TAG_STATUS) return { kind: 'status', status: report[HEADER_BYTES] ?? 0 }
    if (tag === TAG_CANCEL) return { kind: 'cancel' }
    if (tag !== TAG_MSG) throw new FrameError('bad-tag', `tag: 0x${tag.toString(16)} is not MSG, STATUS or CANCEL`)
    let at = HEADER_BYTES
    if (seq === 0) {
      if (report.length < HEADER_BYTES + LENGTH_BYTES) {
        throw new FrameError('short-report', 'report: frame 0 has no length field')
      }
      const declared = (b(5) << 8) | b(6)
      if (declared > this.maxMessageBytes) {
        this.buffer = null
        throw new FrameError('too-long', `length: frame 0 declares ${declared} bytes, above ${this.maxMessageBytes}`)
      }
      this.buffer = new Uint8Array(declared)
      this.filled = 0
      this.nextSeq = 0
      at += LENGTH_BYTES
    } else if (this.buffer === null || seq !== this.nextSeq) {
      const expected = this.buffer === null ? 0 : this.nextSeq
      this.buffer = null
      throw new FrameError('out-of-order', `seq: got ${seq}, expected ${expected}`)
    }
    const buffer = this.buffer as Uint8Array
    const take = Math.min(report.length - at, buffer.length - this.filled)
    buffer.set(report.subarray(at, at + take), this.filled)
    this.filled += take
    this.nextSeq = seq + 1
    if (this.filled < buffer.length) return { kind: 'pending' }
    this.buffer = null
    return { kind: 'message', message: buffer }
  }
}
