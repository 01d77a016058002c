// The operator signer provider: none by default; a software signer only with the demo flag AND a key file; a key
// file without the flag, or a malformed one, is refused naming the option.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@noble/hashes/utils.js'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, describe, expect, it } from 'vitest'
import { buildRosterTemplate } from '../../src-shared/nostr/roster'
import { signEventChecked } from '../../src-shared/signer'
import {
  NO_OPERATOR_SIGNER,
  noOperatorSigner,
  OperatorSignerError,
  operatorSignerFromOptions,
  SOFTWARE_OPERATOR_SIGNER_FLAG,
} from './operator-signer'

const dir = mkdtempSync(join(tmpdir(), 'operator-signer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const SK = new Uint8Array(32).fill(0x23)

describe('operatorSignerFromOptions', () => {
  it('no key file: no signer, whatever the flags', async () => {
    for (const demoFlags of [[], [SOFTWARE_OPERATOR_SIGNER_FLAG]]) {
      const p = await operatorSignerFromOptions({ demoFlags })
      expect(p.current()).toBeNull()
      expect(p.pubkey()).toBeNull()
      expect(p.describe()).toBe(NO_OPERATOR_SIGNER)
    }
    expect(noOperatorSigner().current()).toBeNull()
  })

  it('flag + key file: a software signer over that key whose signatures check against it', async () => {
    const f = join(dir, 'k.hex')
    writeFileSync(f, `${bytesToHex(SK)}\n`)
    const p = await operatorSignerFromOptions({ demoFlags: [SOFTWARE_OPERATOR_SIGNER_FLAG], operatorKeyFile: f })
    const pk = getPublicKey(SK)
    expect(p.pubkey()).toBe(pk)
    expect(p.describe()).toMatch(/^DEMO software operator signer/)
    expect(p.describe()).not.toContain(bytesToHex(SK))
    const ev = await signEventChecked(p.current()!, buildRosterTemplate([], 1_800_000_000), pk)
    expect(ev.pubkey).toBe(pk)
    await expect(
      signEventChecked(p.current()!, buildRosterTemplate([], 1_800_000_000), 'ab'.repeat(32)),
    ).rejects.toThrow(/different key/)
  })

  it('refuses a key file without the demo flag, and a malformed key file, naming operatorKeyFile', async () => {
    const good = join(dir, 'good.hex')
    writeFileSync(good, bytesToHex(SK))
    const bad = join(dir, 'bad.hex')
    writeFileSync(bad, 'not hex')
    for (const o of [
      { demoFlags: [], operatorKeyFile: good },
      { demoFlags: [SOFTWARE_OPERATOR_SIGNER_FLAG], operatorKeyFile: bad },
    ]) {
      const e = await operatorSignerFromOptions(o).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(OperatorSignerError)
      expect((e as OperatorSignerError).field).toBe('operatorKeyFile')
      expect((e as Error).message).not.toContain(bytesToHex(SK))
    }
  })
})
