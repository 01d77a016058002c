// Electron shell entry (placeholder until the shell lands).
export {}
