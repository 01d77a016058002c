#!/usr/bin/env node
// `satmachine` launcher: runs the built CLI (out/main/cli.js, from src-main/cli.ts). The CLI is built, not run
// from source, so the command behaves exactly like the shipped app.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * After a command has finished (a long-running one: after its shutdown has closed every service), the process
 * should end by itself. If something still holds the event loop this long afterwards — a socket a library forgot
 * to close, a timer — the command's work is done and saved, so the launcher names what is left on stderr (the
 * clue for fixing it) and exits with the command's code instead of hanging a service manager's stop.
 */
const EXIT_GRACE_MS = 5_000

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'main', 'cli.js')
if (!existsSync(cli)) {
  console.error('satmachine: out/main/cli.js is missing; run npm run build first')
  process.exit(1)
}
const { main } = await import(pathToFileURL(cli).href)
const code = await main(process.argv.slice(2))
process.exitCode = code
// The timer is unref'd: it never keeps the process alive itself, it only fires if something else does.
setTimeout(() => {
  const left = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout')
  console.error(
    `satmachine: still running ${EXIT_GRACE_MS / 1000} s after the command finished (left open: ${left.join(', ') || 'timers'}); exiting with code ${code}`,
  )
  process.exit(code)
}, EXIT_GRACE_MS).unref()
