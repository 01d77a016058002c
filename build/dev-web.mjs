// `npm run dev:web`: the console in a browser while you edit the renderer. Builds the app once, then rebuilds the
// renderer on every change (vite build --watch, vite.web.config.ts) and runs headless mode on it; reload the page to
// see a change. Arguments go to `satmachine serve` (e.g. `npm run dev:web -- --demo`). Ctrl-C stops both.
import { spawn, spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const first = spawnSync(bin('electron-vite'), ['build'], { cwd: root, stdio: 'inherit' })
if (first.status !== 0) process.exit(first.status ?? 1)

const children = []
const watch = spawn(bin('vite'), ['build', '--watch', '-c', 'vite.web.config.ts'], { cwd: root, stdio: 'inherit' })
children.push(watch)
const serve = spawn(process.execPath, [join(root, 'bin', 'satmachine.mjs'), 'serve', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
})
children.push(serve)
const stop = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
serve.on('exit', (code) => {
  stop()
  process.exitCode = code ?? 0
})
