// The renderer alone, for `npm run dev:web` (build/dev-web.mjs): rebuilt on every change into out/renderer, which
// the headless console serves (reload the page to see a change). Same root, plugin and output as the renderer part
// of electron.vite.config.ts.
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

export default defineConfig({
  root: resolve(import.meta.dirname, 'src-renderer'),
  base: './',
  plugins: [vue()],
  build: { outDir: resolve(import.meta.dirname, 'out/renderer'), emptyOutDir: true },
})
