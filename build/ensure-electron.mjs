// Root postinstall: fetch the Electron binary where the network allows it, warn in one line where it does not.
// npm 11 blocks dependency install scripts unless they are listed in `allowScripts`; Electron's own
// download is therefore switched off there (`"electron": false`) and done here instead, so that a
// machine without access to Electron's download host still completes `npm install` / `npm ci`.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD === '1' || process.env.CI) {
  console.log('[ensure-electron] skipped (CI or ELECTRON_SKIP_BINARY_DOWNLOAD=1): headless mode and web tests only')
  process.exit(0)
}
let dir
try {
  dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'))
} catch {
  // Production installs (`npm ci --omit=dev`) have no electron package; nothing to do.
  process.exit(0)
}
const pathTxt = join(dir, 'path.txt')
if (existsSync(pathTxt) && existsSync(join(dir, 'dist', readFileSync(pathTxt, 'utf8')))) process.exit(0)
const installer = join(dir, 'install.js')
if (!existsSync(installer)) {
  console.warn('[ensure-electron] electron has no install.js; run `npx install-electron` once to fetch the binary')
  process.exit(0)
}
const r = spawnSync(process.execPath, [installer], {
  stdio: ['ignore', 'inherit', 'pipe'],
  encoding: 'utf8',
  timeout: 300_000,
})
if (r.status === 0) console.log('[ensure-electron] Electron binary installed')
else
  console.warn(
    `[ensure-electron] could not download the Electron binary (${(r.stderr || r.error?.message || 'unknown error').split('\n').find((l) => l.trim()) ?? ''}); the app builds and runs in headless mode (npm start falls back to it), but the Electron window needs the binary.`,
  )
