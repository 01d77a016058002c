// CLI entry (placeholder).
export {}
