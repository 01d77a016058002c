// Test fixture: Debian's Chromium driven by playwright-core (README.md "Toolchain pins and why"). Each launch gets
// a fresh user-data directory so no state (cookies, storage, cache) leaks between suites, and every console error,
// uncaught page error and failed request is collected so a test can assert the page ran clean — including CSP
// violations, which Chromium reports as console errors.
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Why Chromium tests cannot run here, or null when they can. Suites use it with `describe.skipIf`. */
export function chromiumMissingReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null
  return `Chromium not found at ${CHROMIUM_PATH}; install it with \`apt-get install -y chromium\` (CI does)`
}

/** One problem the page reported while a test ran. */
export interface PageProblem {
  kind: 'console' | 'pageerror' | 'requestfailed'
  text: string
  url?: string
}

export interface ChromiumSession {
  context: BrowserContext
  page: Page
  /** Everything that went wrong in any page of this session, in order. */
  problems: PageProblem[]
  /** Opens another page in the same session; its problems land in `problems` too. */
  newPage(): Promise<Page>
  close(): Promise<void>
}

export interface LaunchOptions {
  viewport?: { width: number; height: number }
  /**
   * Console messages to tolerate, matched against the text. Use sparingly and only for noise the browser itself
   * makes about a deliberate action (e.g. the "Failed to load resource: 401" a test provokes on purpose).
   */
  allowConsole?: RegExp[]
}

function watch(page: Page, problems: PageProblem[], allow: RegExp[]): void {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return
    const text = msg.text()
    if (allow.some((re) => re.test(text))) return
    problems.push({ kind: 'console', text, url: msg.location().url })
  })
  page.on('pageerror', (err) => {
    problems.push({ kind: 'pageerror', text: err.stack ?? err.message })
  })
  page.on('requestfailed', (req) => {
    problems.push({ kind: 'requestfailed', text: req.failure()?.errorText ?? 'failed', url: req.url() })
  })
}

/** Launches Chromium with a fresh profile and one open page. Throws with the reason if Chromium is missing. */
export async function launchChromium(opts: LaunchOptions = {}): Promise<ChromiumSession> {
  const missing = chromiumMissingReason()
  if (missing) throw new Error(missing)
  const userDataDir = await mkdtemp(join(tmpdir(), 'satmachine-chromium-'))
  const allow = opts.allowConsole ?? []
  const problems: PageProblem[] = []
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      // Keep the browser's own time zone and locale fixed so screenshots and formatted times are reproducible.
      timezoneId: 'UTC',
      locale: 'en-US',
    })
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true })
    throw e
  }
  // A persistent context opens with one page already there; the 'page' event covers every later one.
  for (const p of context.pages()) watch(p, problems, allow)
  context.on('page', (p) => watch(p, problems, allow))
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    context,
    page,
    problems,
    newPage: () => context.newPage(),
    async close() {
      await context.close()
      await rm(userDataDir, { recursive: true, force: true })
    },
  }
}

/** Renders collected problems for an assertion message. */
export function formatProblems(problems: readonly PageProblem[]): string {
  return problems.map((p) => `${p.kind}: ${p.text}${p.url ? ` (${p.url})` : ''}`).join('\n')
}
