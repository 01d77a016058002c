// Preload (placeholder).
export {}
