// Which transport the operator's hardware signer is reached over (docs/signer-host.md). The app chooses once at
// start: the USB device in production (node-hid, loaded only here in the main process), `satmachine signer-emu`
// over TCP (`--signer-emu HOST:PORT`) or the in-process emulator in demo mode and tests. Every choice but the USB
// device is an emulator; the caller then turns on the `emulated-signer` demo flag, and so the DEMO banner.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { ApiError } from '../../src-shared/ipc/contract'
import { createSignerClient } from '../../src-shared/nshp/client'
import { serializeEvent } from '../../src-shared/nshp/nip01'
import { checkDelegation } from '../../src-shared/nshp/policy'
import {
  compareCode,
  delegationHash,
  reviewDelegation,
  reviewNip44Decrypt,
  reviewNip44Encrypt,
  reviewPublicKey,
  reviewSignEvent,
} from '../../src-shared/nshp/review'
import type { DeviceCoreOptions, EmulatorControlApi } from '../../src-shared/nshp/types'
import { listHidSigners, openHidSigner } from './device/hid'
import { createInProcessEmulator } from './device/inproc'
import { connectTcpEmulator } from './device/tcp'
import type { ReviewFns } from './device-manager'
import type { SignerDeviceWiring } from './device-service'

/** The account the console uses on the device (NIP-06 account 0). */
const ACCOUNT = 0

/**
 * What the device shows, from NSHP/1's own review functions (the device core draws its screen with the same
 * ones), so the confirm dialog mirrors the device field by field, compare code included.
 */
export const NSHP_REVIEW: ReviewFns = {
  signEvent: (t, pubkey, clientLabel) => {
    const id = bytesToHex(sha256(utf8ToBytes(serializeEvent(pubkey, t.created_at, t.kind, t.tags, t.content))))
    return reviewSignEvent(
      {
        account: ACCOUNT,
        pubkey,
        createdAt: t.created_at,
        kind: t.kind,
        tags: t.tags,
        content: t.content,
        ...(clientLabel !== undefined ? { clientLabel } : {}),
      },
      id,
    )
  },
  delegation: (r) => {
    const v = checkDelegation(r.conditions)
    if (v.ok)
      return reviewDelegation({ account: ACCOUNT, delegatee: r.delegateePubkey, conditions: r.conditions }, v.parsed)
    // The device refuses these before showing anything; the dialog still names what was asked.
    return {
      command: 'SIGN_DELEGATION',
      compareCode: compareCode(delegationHash(r.delegateePubkey, r.conditions)),
      pages: [{ title: 'Delegate signing', lines: [{ label: 'Conditions', value: r.conditions }] }],
    }
  },
  publicKey: (pk) => reviewPublicKey(pk, ACCOUNT),
  nip44Encrypt: (peer, plaintext) => reviewNip44Encrypt(peer, plaintext, ACCOUNT),
  nip44Decrypt: (peer) => reviewNip44Decrypt(peer, ACCOUNT),
}

const noReview = () => {
  throw new Error('no device')
}

/** No device is ever found (tools and tests without a signer). */
export function noDeviceWiring(): SignerDeviceWiring {
  return {
    opener: { kind: 'hid', open: async () => null },
    createClient: () => {
      throw new ApiError('unavailable', 'no signer transport in this build')
    },
    review: {
      signEvent: noReview,
      delegation: noReview,
      publicKey: noReview,
      nip44Encrypt: noReview,
      nip44Decrypt: noReview,
    },
  }
}

/** The USB device: the first NSHP/1 signer node-hid lists (none listed: absent, discovery tries again). */
export function hidWiring(): SignerDeviceWiring {
  return {
    opener: {
      kind: 'hid',
      open: async () => {
        const first = (await listHidSigners())[0]
        return first ? openHidSigner(first.path) : null
      },
    },
    createClient: createSignerClient,
    review: NSHP_REVIEW,
  }
}

/** `--signer-emu HOST:PORT`: only 127.0.0.1 / localhost (the emulator never listens elsewhere). */
export function parseEmulatorAddress(text: string): { host: string; port: number } {
  const m = /^(127\.0\.0\.1|localhost):(\d{1,5})$/.exec(text.trim())
  const port = m ? Number(m[2]) : Number.NaN
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`expected 127.0.0.1:PORT (the emulator's data port), got '${text.slice(0, 60)}'`)
  return { host: '127.0.0.1', port }
}

/** `satmachine signer-emu` over TCP: a refused connection means "absent" (discovery tries again). */
export function tcpEmulatorWiring(addr: { host: string; port: number }): SignerDeviceWiring {
  return {
    opener: {
      kind: 'emulator-tcp',
      open: async () => {
        try {
          return await connectTcpEmulator(addr)
        } catch {
          return null
        }
      },
    },
    createClient: createSignerClient,
    review: NSHP_REVIEW,
  }
}

/** The in-process emulator (demo and tests); `control` is its screen and buttons. */
export function inProcessEmulatorWiring(
  opts: DeviceCoreOptions,
  backoff?: { initialMs: number; maxMs: number },
): { wiring: SignerDeviceWiring; control: EmulatorControlApi } {
  const emu = createInProcessEmulator(opts)
  return {
    control: emu.control,
    wiring: {
      opener: {
        kind: 'emulator-inproc',
        open: async () => (emu.core.isPlugged ? emu.transport() : null),
      },
      createClient: createSignerClient,
      review: NSHP_REVIEW,
      emulator: emu.control,
      ...(backoff ? { backoff } : {}),
    },
  }
}
