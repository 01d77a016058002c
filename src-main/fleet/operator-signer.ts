// The operator's signer as the services see it (docs/architecture.md §3, §7): the key that signs delegations, machine configs and
// rosters lives on a hardware signer (or a NIP-46 bunker), never in the console. Until one of those is connected
// the provider holds nothing and pairing answers `unavailable`. The hardware-signer issue plugs its device in here
// through `OperatorSignerProvider`; nothing else in the pairing path changes.
//
// Demo only: with the demo flag `software-operator-signer` AND a key file (`--operator-key-file FILE`, 64 hex) the
// provider is a software signer over that key, so the pairing flow can be shown and tested without a device. The
// renderer's permanent demo banner is on whenever a demo flag is. Whatever the provider, every signature it returns
// is checked against the pinned operator key by the caller (`signEventChecked` / `signDelegationChecked`).
import { readFile } from 'node:fs/promises'
import { hexToBytes } from '@noble/hashes/utils.js'
import type { Signer } from '../../src-shared/signer'
import { createSoftwareSigner } from '../signer/software-signer'

/** The demo flag that allows a software operator signer. */
export const SOFTWARE_OPERATOR_SIGNER_FLAG = 'software-operator-signer'

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

/** The production default until the hardware signer exists: no signer. */
export function noOperatorSigner(): OperatorSignerProvider {
  return { current: () => null, pubkey: () => null, describe: () => NO_OPERATOR_SIGNER }
}

export class OperatorSignerError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'OperatorSignerError'
  }
}

/** A software signer over a 32-byte secret (demo and tests only). The pubkey is computed once. */
export async function softwareOperatorSigner(secretKey: Uint8Array): Promise<OperatorSignerProvider> {
  const signer = createSoftwareSigner(secretKey)
  const pk = await signer.getPublicKey()
  return {
    current: () => signer,
    pubkey: () => pk,
    describe: () => `DEMO software operator signer (${pk.slice(0, 8)}…): not for production`,
  }
}

/**
 * The provider the demo flags and key file give: the software signer when BOTH the flag and the file are present;
 * otherwise none. A file without the flag is refused (a secret operator key must never be used by accident), and
 * a file that is not 64 hex digits is refused naming the option. The key's pubkey is compared with the pinned
 * operator key at every use, because the operator key can be (re)pinned after start.
 */
export async function operatorSignerFromOptions(opts: {
  demoFlags: readonly string[]
  operatorKeyFile?: string
}): Promise<OperatorSignerProvider> {
  const flag = opts.demoFlags.includes(SOFTWARE_OPERATOR_SIGNER_FLAG)
  if (opts.operatorKeyFile === undefined) return noOperatorSigner()
  if (!flag)
    throw new OperatorSignerError(
      'operatorKeyFile',
      `a software operator key is only accepted with the demo flag ${SOFTWARE_OPERATOR_SIGNER_FLAG}`,
    )
  const text = (await readFile(opts.operatorKeyFile, 'utf8')).trim()
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new OperatorSignerError('operatorKeyFile', 'the file must hold the secret key as 64 hex digits')
  const sk = hexToBytes(text.toLowerCase())
  try {
    return await softwareOperatorSigner(sk)
  } finally {
    sk.fill(0)
  }
}
