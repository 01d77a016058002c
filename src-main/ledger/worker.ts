// Ledger worker entry (placeholder).
export {}
