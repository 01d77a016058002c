// IPC shapes for the operator's hardware signer as the console manages it (docs/signer-host.md): the device state
// the Signer screen and the status bar show, pinning (the device shows its npub, the operator confirms there, then
// npub + serial are pinned), the paged log of every request the signer was asked, and, in demo mode only, the
// emulated device's screen and buttons. Pure: the preload bundles it. The screen model is NSHP/1's own
// (src-shared/nshp/types.ts), so the demo panel draws exactly what the device core shows.
import type { ScreenSnapshot } from '../nshp/types'
import { int, object, oneOf, optional, string } from './schema'

/** absent: no device found (discovery retries with backoff); locked: PIN needed on the device; busy: a request is
 * waiting on the device; error: present but unusable (wrong key, wrong serial, broken answers) — see `detail`. */
export type SignerDeviceState = 'absent' | 'locked' | 'ready' | 'busy' | 'error'

export type SignerTransportKind = 'hid' | 'emulator-inproc' | 'emulator-tcp'

export interface SignerDeviceInfoView {
  model: string
  serial: string
  firmwareVersion: string
  protocolVersion: number
  /** The device holds a demo/test key (an emulator): the DEMO banner is on. */
  demo: boolean
}

export interface SignerPinView {
  pubkey: string
  npub: string
  serial: string
  model: string
  pinnedAtMs: number
}

export interface SignerDeviceView {
  state: SignerDeviceState
  transport: SignerTransportKind
  /** True for both emulator transports. */
  emulated: boolean
  /** One sentence for the operator: what the state means and what to do. */
  detail: string
  /** GET_INFO of the connected device, or null when none is connected. */
  info: SignerDeviceInfoView | null
  /** The pinned signer (npub + serial), or null before pinning. */
  pinned: SignerPinView | null
  /** The operator key the console uses (settings), or null before setup. */
  operatorPubkey: string | null
  /** The connected device is the pinned one (same serial) — null when none is connected or nothing is pinned. */
  pinnedDevice: boolean | null
  /** True while the device shows its npub for pinning. */
  pinning: boolean
  /** True when operator signatures go through this device now (ready, pinned, pinned key = operator key). */
  usable: boolean
  /** When discovery looks again (absent only), or null. */
  nextAttemptAtMs: number | null
}

export type SignerRequestOutcome = 'approved' | 'refused' | 'timeout' | 'cancelled' | 'unplugged' | 'failed'

export interface SignerRequestLogEntry {
  seq: number
  atMs: number
  requestId: string
  /** Who asked: the console itself (pairing, renewal, …) or a NIP-46 client by name. */
  requester: string
  /** sign_event, sign_delegation, nip44_encrypt, nip44_decrypt, get_public_key. */
  what: string
  /** Short description (kind and d tag, delegatee, peer). */
  summary: string
  outcome: SignerRequestOutcome
  detail: string
}

export interface SignerRequestLogView {
  total: number
  /** Newest first. */
  entries: SignerRequestLogEntry[]
}

export const signerCancelInput = object({ requestId: string({ min: 1, max: 64 }) })
export const signerRequestsInput = object({ offset: optional(int(0, 1_000_000_000)), limit: optional(int(1, 200)) })
export const signerEmulatorPressInput = object({ button: oneOf('next', 'prev', 'approve', 'reject') })
export const signerEmulatorPinInput = object({
  digits: string({ min: 1, max: 12, pattern: /^[0-9]+$/, patternName: 'digits' }),
})

/** The emulated device's screen in demo mode (null when the signer is not an in-process emulator). */
export type SignerEmulatorScreenView = ScreenSnapshot
