// Typed refusals of the accounting procedures. `field` names the argument at fault (so the UI can point at it);
// `code` is stable for callers to branch on. The ledger wraps a thrown error into LedgerProcedureError and carries
// these two properties along in its details.

export type AccountingErrorCode =
  | 'E_INPUT'
  | 'E_NOT_FOUND'
  | 'E_STATE'
  | 'E_PAID'
  | 'E_BALANCE'
  | 'E_CLAIM'
  | 'E_CONFLICT'

export class AccountingError extends Error {
  override readonly name = 'AccountingError'
  constructor(
    readonly code: AccountingErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
  }
}

export const inputError = (field: string, message: string) => new AccountingError('E_INPUT', field, message)
