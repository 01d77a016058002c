// The "confirm on your signer" activity event (docs/nip46-bunker.md, docs/signer-host.md): one small typed record
// per operator-signer request, pushed to the UI as it moves from waiting to its outcome, so the confirm dialog can
// show the same fields and a live state whatever the signer is (USB device, remote NIP-46 bunker on a phone).
// `failed` covers the outcomes that are neither a refusal nor a timeout (unplugged, locked, busy, an answer that
// did not verify); `detail` then says which, in the operator's words.
export type SignerActivityState = 'waiting' | 'approved' | 'refused' | 'timeout' | 'cancelled' | 'failed'

export interface SignerActivityPage {
  title: string
  lines: Array<{ label: string; value: string; warn?: boolean }>
}

export interface SignerActivity {
  requestId: string
  /** What is asked, for a heading: `sign_event`, `nip44_encrypt`, `sign_delegation`, … */
  what: string
  /** Label/value pairs shown to the operator (the fields the signer is asked to sign). */
  fields: Array<{ label: string; value: string }>
  state: SignerActivityState
  /** Which signer: `remote-bunker`, `device`, … */
  via: string
  /** Operator-facing reason for refused/timeout/failed, when known. */
  detail?: string
  /** Device only: the review pages exactly as the device shows them. */
  pages?: SignerActivityPage[]
  /** Device only: the compare code the device shows on its last page. */
  compareCode?: string
  /** Device only: live status while waiting ("Waiting for you to approve on the device", "Locked: enter the PIN"). */
  status?: string
  /** Who asked (the console's own pairing, or a NIP-46 client by name). */
  requester?: string
  /** When the request was sent and when the device gives up waiting (for a countdown). */
  startedAtMs?: number
  deadlineAtMs?: number
}
