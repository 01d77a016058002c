// The headless twin of `src-main/preload.ts`: a classic script served at /__bridge/preload.js and injected into
// the page before the module bundle, which defines `window.api` over one WebSocket to /__bridge. It exposes the
// same shape as the preload — one function per contract method resolving to the `Result` envelope, plus
// `on(event, cb)` — generated from the same method list, so the renderer cannot tell the two apart.
//
// Transport failures (server gone) reject the pending calls with an Error; the renderer's `createApi` turns that
// into an `unavailable` ApiError. The next call reconnects. The token travels in the HttpOnly cookie the server
// set on the first page load; the script never sees it.
import { BRIDGE_PATH, EVENT_NAMES, METHOD_NAMES } from '../../src-shared/ipc/contract'

export function bridgeClientScript(): string {
  return `// Satmachine Console headless bridge (generated from the IPC contract).
(() => {
  'use strict';
  const METHODS = ${JSON.stringify(METHOD_NAMES)};
  const EVENTS = ${JSON.stringify(EVENT_NAMES)};
  const URL_ = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + ${JSON.stringify(BRIDGE_PATH)};
  const pending = new Map();
  const listeners = new Map();
  let seq = 0;
  let socket = null;
  let opening = null;
  function failAll(message) {
    for (const p of pending.values()) p.reject(new Error(message));
    pending.clear();
  }
  function connect() {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    if (opening) return opening;
    opening = new Promise((resolve, reject) => {
      const ws = new WebSocket(URL_);
      ws.onopen = () => { socket = ws; opening = null; resolve(ws); };
      ws.onerror = () => { opening = null; reject(new Error('the console service is not reachable')); };
      ws.onclose = () => { if (socket === ws) socket = null; failAll('the connection to the console service closed'); };
      ws.onmessage = (ev) => {
        let m;
        try { m = JSON.parse(ev.data); } catch { return; }
        if (m && typeof m.event === 'string') {
          for (const cb of listeners.get(m.event) || []) { try { cb(m.payload); } catch (e) { console.error(e); } }
          return;
        }
        const p = m && pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        p.resolve(m.result);
      };
    });
    return opening;
  }
  async function call(method, args) {
    const ws = await connect();
    const id = ++seq;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, args }));
    });
  }
  const api = {};
  for (const m of METHODS) api[m] = (...args) => call(m, args);
  api.on = (event, cb) => {
    if (!EVENTS.includes(event)) throw new TypeError('unknown event: ' + String(event).slice(0, 64));
    if (typeof cb !== 'function') throw new TypeError('on(event, cb): cb must be a function');
    const set = listeners.get(event) || new Set();
    set.add(cb);
    listeners.set(event, set);
    connect().catch(() => {});
    return () => { set.delete(cb); };
  };
  Object.defineProperty(window, 'api', { value: Object.freeze(api), writable: false, configurable: false });
})();
`
}
