// The "approve on your signer" activity event (docs/nip46-bunker.md): one small typed record per operator-signer
// request, pushed to the UI as it moves from waiting to its outcome, so the confirm dialog can show the same fields
// and a live state whatever the signer is (USB device, remote NIP-46 bunker on a phone).
export type SignerActivityState = 'waiting' | 'approved' | 'refused' | 'timeout' | 'cancelled'

export interface SignerActivity {
  requestId: string
  /** What is asked, for a heading: `sign_event`, `nip44_encrypt`, `sign_delegation`, … */
  what: string
  /** Label/value pairs shown to the operator (the fields the signer is asked to sign). */
  fields: Array<{ label: string; value: string }>
  state: SignerActivityState
  /** Which signer: `remote-bunker`, `device`, … */
  via: string
  /** Operator-facing reason for refused/timeout, when known. */
  detail?: string
}
