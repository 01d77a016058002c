// Renderer entry (placeholder).
export {}
