// node-hid transport: discovery by the NSHP/1 descriptor, the report-id byte on writes, an `error` event as an
// unplug that ends a pending request, and the real node-hid on this machine (no USB): an empty list, no throw.
import { EventEmitter } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Device, HIDAsync } from 'node-hid'
import { describe, expect, it } from 'vitest'
import { createSignerClient } from '../../../src-shared/nshp/client'
import { DeviceCore } from '../../../src-shared/nshp/device-core'
import { SignerError } from '../../../src-shared/nshp/types'
import { isNshpInterface, listHidSigners, type NodeHidLike, NSHP_PRODUCT_MARKER, openHidSigner } from './hid'

/** A fake HIDAsync wired to a DeviceCore, behaving as node-hid does (report id on write, none on read). */
class FakeHid extends EventEmitter {
  writes: Buffer[] = []
  constructor(readonly core: DeviceCore) {
    super()
    core.connect((r) => setTimeout(() => this.emit('data', Buffer.from(r)), 0))
  }
  async write(values: Buffer): Promise<number> {
    this.writes.push(Buffer.from(values))
    expect(values[0]).toBe(0)
    this.core.receive(new Uint8Array(values.subarray(1)))
    return values.length
  }
  async close(): Promise<void> {}
}

const dev = (over: Partial<Device>): Device => ({
  vendorId: 0x1209,
  productId: 0x0001,
  release: 1,
  interface: 0,
  ...over,
})

describe('node-hid transport', () => {
  it('discovers only interfaces announcing NSHP/1 on the vendor usage page', async () => {
    expect(
      isNshpInterface(dev({ path: '/dev/hidraw1', product: 'Acme NSHP/1 signer', usagePage: 0xff00, usage: 1 })),
    ).toBe(true)
    expect(
      isNshpInterface(dev({ path: '/dev/hidraw2', product: 'Acme NSHP/1 signer', usagePage: 0xff00, usage: 2 })),
    ).toBe(false)
    expect(isNshpInterface(dev({ path: '/dev/hidraw3', product: 'Keyboard', usagePage: 1, usage: 6 }))).toBe(false)
    expect(isNshpInterface(dev({ path: '/dev/hidraw4', product: 'NSHP/1', usagePage: 0xf1d0, usage: 1 }))).toBe(false)
    expect(isNshpInterface(dev({ path: 'libusb:1', product: 'NSHP/1 dev board' }))).toBe(true)
    const fake: NodeHidLike = {
      devicesAsync: async () => [
        dev({ path: 'a', product: 'NSHP/1', serialNumber: 'S1', usagePage: 0xff00, usage: 1 }),
        dev({ path: 'b', product: 'Mouse' }),
      ],
      HIDAsync: { open: async () => Promise.reject(new Error('no')) },
    }
    expect(await listHidSigners(fake)).toEqual([
      { path: 'a', vendorId: 0x1209, productId: 1, serialNumber: 'S1', product: 'NSHP/1' },
    ])
    await expect(openHidSigner('a', { hid: fake })).rejects.toMatchObject({ code: 'unplugged' })
  })

  it('speaks NSHP/1 through a node-hid device object; an error event ends a pending request as unplugged', async () => {
    const core = new DeviceCore({ mode: 'test', secretKey: new Uint8Array(32).fill(3), config: { keepaliveMs: 50 } })
    const fake = new FakeHid(core)
    const hid: NodeHidLike = {
      devicesAsync: async () => [],
      HIDAsync: { open: async () => fake as unknown as HIDAsync },
    }
    const transport = await openHidSigner('/dev/hidraw0', { hid })
    expect(transport.kind).toBe('hid')
    const client = createSignerClient({ transport, pinnedPubkey: core.pubkey })
    expect((await client.getInfo()).serial).toBe(core.serial)
    expect(fake.writes[0]?.length).toBe(65)
    const p = client.signEvent({ created_at: 1, kind: 1, tags: [], content: 'x' }).catch((e: unknown) => e)
    await core.waitFor('reviewing')
    fake.emit('error', new Error('could not read from HID device'))
    const err = await p
    expect(err).toBeInstanceOf(SignerError)
    expect((err as SignerError).code).toBe('unplugged')
    expect(transport.closed).toBe(true)
  })

  it('node-hid is imported by this module only: never by shared or renderer code', () => {
    const root = join(import.meta.dirname, '../../..')
    const files = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? files(join(dir, e.name))
          : /\.(ts|vue)$/.test(e.name) && !e.name.endsWith('.test.ts')
            ? [join(dir, e.name)]
            : [],
      )
    const users = ['src-main', 'src-shared', 'src-renderer']
      .flatMap(files)
      .filter((f) => /['"]node-hid['"]/.test(readFileSync(join(root, f), 'utf8')))
    expect(users).toEqual(['src-main/signer/device/hid.ts'])
  })

  it('the shipped udev rule is the one the protocol document names, and sorts before the uaccess step', () => {
    const root = join(import.meta.dirname, '../../..')
    const rules = readdirSync(join(root, 'resources/udev'))
    expect(rules).toEqual(['70-satmachine-signer.rules'])
    expect(Number((rules[0] ?? '').slice(0, 2))).toBeLessThan(73)
    const rule = readFileSync(join(root, 'resources/udev', rules[0] ?? ''), 'utf8')
    const doc = readFileSync(join(root, 'docs/signer-protocol.md'), 'utf8')
    const line = 'SUBSYSTEM=="hidraw", ATTRS{product}=="*NSHP/1*", TAG+="uaccess"'
    expect(rule.split('\n')).toContain(line)
    expect(doc).toContain(`    ${line}`)
    expect(line).toContain(NSHP_PRODUCT_MARKER)
    for (const script of ['build/linux-after-install.sh', 'build/linux-after-remove.sh'])
      expect(readFileSync(join(root, script), 'utf8')).toContain('70-satmachine-signer.rules')
  })

  it('the real node-hid loads lazily and lists no signer on a machine without USB', async () => {
    expect(await listHidSigners()).toEqual([])
  })
})
