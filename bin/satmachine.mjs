#!/usr/bin/env node
// `satmachine` launcher: runs the built CLI (out/main/cli.js, from src-main/cli.ts). The CLI is built, not run
// from source, so the command behaves exactly like the shipped app.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'main', 'cli.js')
if (!existsSync(cli)) {
  console.error('satmachine: out/main/cli.js is missing; run npm run build first')
  process.exit(1)
}
const { main } = await import(pathToFileURL(cli).href)
process.exitCode = await main(process.argv.slice(2))
