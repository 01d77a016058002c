// The operator's signer as the services see it (docs/architecture.md §3, §7; docs/signer-host.md): the key that
// signs delegations, machine configs and rosters lives on the hardware signer (or, for operators without one, a
// remote NIP-46 bunker), never in the console. The device plugs in here through `OperatorSignerProvider`
// (src-main/signer/device-manager.ts: a signer only while the pinned device is connected and ready); the remote
// bunker is the fallback (src-main/bunker/service.ts `preferringProvider`). Until one of them has a signer,
// pairing answers `unavailable`. Whatever the provider, every signature it returns is checked against the pinned
// operator key by the caller (`signEventChecked` / `signDelegationChecked`).
//
// There is no software operator signer any more: demo mode and tests use the emulated hardware signer (the same
// device core as `satmachine signer-emu`), through the same host path as a USB device.
import type { Signer } from '../../src-shared/signer'

/** What pairing says when no operator signer is connected. */
export const NO_OPERATOR_SIGNER = "connect the operator's signer (hardware signer or NIP-46 bunker)"

export interface OperatorSignerProvider {
  /** The connected signer, or null when none is (pairing then answers `unavailable`). */
  current(): Signer | null
  /** The connected signer's public key (x-only hex), or null. Compared with the pinned operator key before use. */
  pubkey(): string | null
  /** One line for the operator: which signer this is, or why there is none. */
  describe(): string
}

/** No signer (tools and tests without a device). */
export function noOperatorSigner(): OperatorSignerProvider {
  return { current: () => null, pubkey: () => null, describe: () => NO_OPERATOR_SIGNER }
}
