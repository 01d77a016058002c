// Sender check for Electron IPC (Electron security checklist item 17; VS Code's ValidatedIpcMain, but failing
// closed): only our own renderer page, in the top frame, may call a handler. Our page is either the built
// `out/renderer/index.html` loaded over file://, or the electron-vite dev server origin in development.
// Empty URLs, about:blank, subframes, other files and other origins are refused.
//
// Pure (no electron import) so the rule is unit-tested against fake frames.
import { pathToFileURL } from 'node:url'

/** The part of Electron's WebFrameMain the check needs. */
export interface FrameLike {
  url: string
  parent: unknown
}

export interface SenderPolicy {
  /** Absolute path of the built renderer page (`…/out/renderer/index.html`). */
  rendererIndexPath: string
  /** The dev server URL (ELECTRON_RENDERER_URL) when running under `electron-vite dev`. */
  devServerUrl?: string
}

/** Returns null when the sender may call, or the reason it may not. */
export function senderRefusal(frame: FrameLike | null | undefined, policy: SenderPolicy): string | null {
  if (!frame) return 'no sender frame'
  if (frame.parent !== null) return 'sender is a subframe'
  let url: URL
  try {
    url = new URL(frame.url)
  } catch {
    return 'sender URL is empty or invalid'
  }
  if (url.protocol === 'file:') {
    const own = pathToFileURL(policy.rendererIndexPath)
    return url.pathname === own.pathname && url.host === own.host ? null : 'sender is not the app page'
  }
  if (policy.devServerUrl) {
    let dev: URL
    try {
      dev = new URL(policy.devServerUrl)
    } catch {
      return 'dev server URL is invalid'
    }
    if (url.origin === dev.origin && (url.protocol === 'http:' || url.protocol === 'https:')) return null
  }
  return `sender origin not allowed: ${url.protocol}`
}
