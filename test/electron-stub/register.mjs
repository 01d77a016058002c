// Registers the ESM resolve hook that maps `electron` to the stub below, so the BUILT main bundle can be loaded
// under plain Node (`node --import ./test/electron-stub/register.mjs …`). Test-only.
import { register } from 'node:module'

register(new URL('./hooks.mjs', import.meta.url))
