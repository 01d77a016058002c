// The operator signer the NIP-46 and pairing tests use: the emulated hardware signer (the NSHP/1 device core in
// process), reached through the console's real host path — the NSHP/1 client over the in-process transport and the
// DeviceManager that pins it and runs each request. Like the real device it does nothing until someone presses a
// button: `next()` resolves with the review on the device's screen, and `approve()` / `refuse()` press its buttons.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeviceManager } from '../../src-main/signer/device-manager'
import { openDeviceStore } from '../../src-main/signer/device-store'
import { inProcessEmulatorWiring } from '../../src-main/signer/device-wiring'
import { memoryLogger } from '../../src-shared/log'
import { publicKeyHex } from '../../src-shared/nostr/event'
import type { CommandName, EmulatorControlApi, ReviewScreen } from '../../src-shared/nshp/types'
import type { Signer } from '../../src-shared/signer'

export interface PendingOp {
  what: 'sign_event' | 'sign_delegation' | 'nip44_encrypt' | 'nip44_decrypt' | 'get_public_key'
  /** What the device shows. */
  detail: ReviewScreen
  approve(): void
  refuse(reason?: string): void
}

export interface ApprovalSigner {
  signer: Signer
  pubkey: string
  /** Resolves with the next request on the device's screen. */
  next(): Promise<PendingOp>
  /** Requests on the device's screen right now (the device holds at most one). */
  pendingCount(): number
  /** The emulated device's control (faults, unplug, screen). */
  control: EmulatorControlApi
  manager: DeviceManager
}

const WHAT: Partial<Record<CommandName, PendingOp['what']>> = {
  SIGN_EVENT: 'sign_event',
  SIGN_DELEGATION: 'sign_delegation',
  NIP44_ENCRYPT: 'nip44_encrypt',
  NIP44_DECRYPT: 'nip44_decrypt',
  GET_PUBLIC_KEY: 'get_public_key',
}

/** The emulated device over `secretKey`, connected and pinned (the pinning review approved by the script). */
export async function emulatedOperator(secretKey: Uint8Array): Promise<ApprovalSigner> {
  const pubkey = publicKeyHex(secretKey)
  const { wiring, control } = inProcessEmulatorWiring({
    mode: 'test',
    secretKey: Uint8Array.from(secretKey),
    serial: 'TEST-0001',
  })
  const store = await openDeviceStore(mkdtempSync(join(tmpdir(), 'emulated-operator-')), memoryLogger())
  let operator: string | null = pubkey
  const manager = new DeviceManager({
    opener: wiring.opener,
    createClient: wiring.createClient,
    review: wiring.review,
    store,
    operatorPubkey: () => operator,
    setOperatorPubkey: async (pk) => {
      operator = pk
    },
    log: memoryLogger(),
  })
  await manager.connectNow()
  control.configure({ autoApprove: true })
  try {
    await manager.pin()
  } finally {
    control.configure({ autoApprove: false })
  }
  const provider = manager.provider()
  const now = (): Signer => {
    const s = provider.current()
    if (!s) throw new Error('the emulated signer is not usable (unplugged or not pinned)')
    return s
  }
  const signer: Signer = {
    getPublicKey: () => now().getPublicKey(),
    signEvent: (t) => now().signEvent(t),
    signDelegation: (r) => now().signDelegation(r),
    nip44Encrypt: (p, x) => now().nip44Encrypt(p, x),
    nip44Decrypt: (p, x) => now().nip44Decrypt(p, x),
  }
  return {
    signer,
    pubkey,
    control,
    manager,
    async next() {
      const s = await control.waitFor('reviewing', 20_000)
      const review = s.review as ReviewScreen & { page: number }
      return {
        what: WHAT[review.command] ?? 'sign_event',
        detail: review,
        approve: () => control.press('approve'),
        refuse: () => control.press('reject'),
      }
    },
    pendingCount: () => (control.screen().state === 'reviewing' ? 1 : 0),
  }
}

/** The operator signer the NIP-46 tests use. */
export const operatorForTest = emulatedOperator
