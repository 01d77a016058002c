// The sender rule (Electron checklist item 17): our own page in the top frame only, failing closed on anything
// unusual — the fake frames below are the cases VS Code's ValidatedIpcMain lets through and we refuse.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { senderRefusal } from './ipc-sender'

const index = join('/opt/satmachine/resources/app/out/renderer', 'index.html')
const own = pathToFileURL(index).href
const policy = { rendererIndexPath: index }

describe('senderRefusal', () => {
  it('accepts our page in the top frame, with or without a hash or query', () => {
    expect(senderRefusal({ url: own, parent: null }, policy)).toBeNull()
    expect(senderRefusal({ url: `${own}#/settings`, parent: null }, policy)).toBeNull()
  })

  it.each([
    ['a subframe of our page', { url: own, parent: {} }, 'sender is a subframe'],
    ['another local file', { url: pathToFileURL('/etc/passwd').href, parent: null }, 'sender is not the app page'],
    [
      'a sibling file',
      { url: pathToFileURL(join(index, '..', 'evil.html')).href, parent: null },
      'sender is not the app page',
    ],
    [
      'a UNC-style file host',
      { url: `file://attacker${pathToFileURL(index).pathname}`, parent: null },
      'sender is not the app page',
    ],
    ['about:blank', { url: 'about:blank', parent: null }, 'sender origin not allowed: about:'],
    ['an empty URL', { url: '', parent: null }, 'sender URL is empty or invalid'],
    ['a web origin', { url: 'https://evil.example/', parent: null }, 'sender origin not allowed: https:'],
    ['a data: URL', { url: 'data:text/html,hi', parent: null }, 'sender origin not allowed: data:'],
  ])('refuses %s', (_name, frame, reason) => {
    expect(senderRefusal(frame, policy)).toBe(reason)
  })

  it('refuses a missing frame (destroyed or navigated away)', () => {
    expect(senderRefusal(null, policy)).toBe('no sender frame')
    expect(senderRefusal(undefined, policy)).toBe('no sender frame')
  })

  it('accepts the dev server origin only when one is configured, compared as parsed origins', () => {
    const dev = { ...policy, devServerUrl: 'http://localhost:5173/' }
    expect(senderRefusal({ url: 'http://localhost:5173/index.html', parent: null }, dev)).toBeNull()
    expect(senderRefusal({ url: 'http://localhost:5173/', parent: null }, policy)).toBe(
      'sender origin not allowed: http:',
    )
    expect(senderRefusal({ url: 'http://localhost:5174/', parent: null }, dev)).not.toBeNull()
    expect(senderRefusal({ url: 'http://localhost:5173.attacker.com/', parent: null }, dev)).not.toBeNull()
    expect(senderRefusal({ url: 'http://user@localhost:5173.evil/', parent: null }, dev)).not.toBeNull()
  })
})
