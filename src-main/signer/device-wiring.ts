// Which transport the operator's hardware signer is reached over (docs/signer-host.md). The app chooses once at
// start: the USB device in production, `satmachine signer-emu` over TCP (`--signer-emu HOST:PORT`) or the
// in-process emulator in demo mode. Every choice but the USB device is an emulator, and the app then shows its
// DEMO banner (the caller adds the `emulated-signer` demo flag).
import { ApiError } from '../../src-shared/ipc/contract'
import type { SignerDeviceWiring } from './device-service'

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
