// Build configuration for the three Electron bundles (main, preload, renderer).
// main:    src-main/index.ts (the Electron shell), src-main/cli.ts (the plain-Node CLI: serve, settle, atm-sim)
//          and the ledger worker; everything except the shell runs without Electron.
// preload: CommonJS, because sandboxed renderers cannot load an ESM preload (README.md "Toolchain pins and why").
// renderer: Vue 3 from src-renderer/.
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'

const r = (p: string) => resolve(import.meta.dirname, p)

export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        input: {
          index: r('src-main/index.ts'),
          cli: r('src-main/cli.ts'),
          'ledger-worker': r('src-main/ledger/worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { index: r('src-main/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: r('src-renderer'),
    build: { rolldownOptions: { input: { index: r('src-renderer/index.html') } } },
    plugins: [vue()],
  },
})
