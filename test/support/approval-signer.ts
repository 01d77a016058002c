// A test operator signer that, like a hardware signer, does nothing until someone approves: each call waits in a
// queue until the test calls approve() or refuse() on it. It wraps the software signer. Until the device emulator
// (issue 8a) is merged this stands in for "press the button on the device"; swapping in the emulator's provider is
// the one line in `operatorForTest` below.

import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import type { EventTemplate } from '../../src-shared/nostr/event'
import type { Signer } from '../../src-shared/signer'

export interface PendingOp {
  what: 'sign_event' | 'sign_delegation' | 'nip44_encrypt' | 'nip44_decrypt'
  detail: unknown
  approve(): void
  refuse(reason?: string): void
}

export interface ApprovalSigner {
  signer: Signer
  pubkey: string
  /** Resolves with the next operation waiting for approval. */
  next(): Promise<PendingOp>
  /** Operations waiting right now. */
  pendingCount(): number
}

export async function approvalSigner(secretKey: Uint8Array): Promise<ApprovalSigner> {
  const inner = createSoftwareSigner(secretKey)
  const pubkey = await inner.getPublicKey()
  const queue: PendingOp[] = []
  const waiters: Array<(op: PendingOp) => void> = []
  const gate = <T>(what: PendingOp['what'], detail: unknown, run: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const op: PendingOp = {
        what,
        detail,
        approve: () => run().then(resolve, reject),
        refuse: (reason = 'refused on the signer') => reject(new Error(reason)),
      }
      const w = waiters.shift()
      if (w) w(op)
      else queue.push(op)
    })
  const signer: Signer = {
    getPublicKey: async () => pubkey,
    signEvent: (t: EventTemplate) => gate('sign_event', t, () => inner.signEvent(t)),
    signDelegation: (r) => gate('sign_delegation', r, () => inner.signDelegation(r)),
    nip44Encrypt: (p, x) => gate('nip44_encrypt', p, () => inner.nip44Encrypt(p, x)),
    nip44Decrypt: (p, x) => gate('nip44_decrypt', p, () => inner.nip44Decrypt(p, x)),
  }
  return {
    signer,
    pubkey,
    next: () => {
      const op = queue.shift()
      return op ? Promise.resolve(op) : new Promise((r) => waiters.push(r))
    },
    pendingCount: () => queue.length,
  }
}

/** The operator signer the NIP-46 tests use. To run them against the device emulator, return its provider here. */
export const operatorForTest = approvalSigner
