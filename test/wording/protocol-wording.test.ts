// Keeps the words on screen and in docs/ in line with docs/protocol.md (issue #14, points 6 and 16): cash-out means
// the customer sells bitcoin and takes cash (§5.2), and only ATMs are delegated to (§2) — the console key is the key
// ATM records are encrypted to and receipts are signed with. Scans the renderer and docs sources as text.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../../', import.meta.url).pathname

function files(dir: string, exts: string[]): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name)
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...files(rel, exts))
    else if (exts.some((e) => name.endsWith(e))) out.push(rel)
  }
  return out
}

/** Sentences (or UI strings) of a source file, whitespace collapsed, so a phrase split over lines still matches. */
function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/[.;'"`<>]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

const SOURCES = [...files('src-renderer', ['.vue', '.ts']), ...files('docs', ['.md'])]

describe('point 6: one meaning of cash-out everywhere', () => {
  it('no renderer or docs text says a cash-out customer buys bitcoin or a cash-in customer sells it', () => {
    const wrong: string[] = []
    for (const f of SOURCES) {
      for (const s of sentences(readFileSync(join(ROOT, f), 'utf8'))) {
        if (/cash[-_ ]?out/i.test(s) && /customer buys bitcoin/i.test(s)) wrong.push(`${f}: ${s}`)
        if (/cash[-_ ]?in\b/i.test(s) && /customer sells bitcoin/i.test(s)) wrong.push(`${f}: ${s}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('the pairing form names each direction with the spec meaning (§5.2)', () => {
    const text = readFileSync(join(ROOT, 'src-renderer/components/PairForm.vue'), 'utf8')
    expect(text).toContain('Cash-out (customer sells bitcoin, takes cash)')
    expect(text).toContain('Cash-in (customer inserts cash, receives bitcoin)')
    const spec = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8')
    expect(spec).toContain('cash_out: customer sells bitcoin and takes cash')
  })
})

describe('point 16: the console key is not a delegation target', () => {
  it('no screen asks the operator to delegate to the console key', () => {
    const bad = files('src-renderer', ['.vue', '.ts']).filter((f) =>
      /delegate to this key/i.test(readFileSync(join(ROOT, f), 'utf8')),
    )
    expect(bad).toEqual([])
  })

  it('the setup card says what the console key is for', () => {
    const text = readFileSync(join(ROOT, 'src-renderer/components/OperatorSetupCard.vue'), 'utf8').replace(/\s+/g, ' ')
    expect(text).toContain('encrypt their records to this key')
    expect(text).toContain('signs settlement receipts with it')
    expect(text).toContain('pairing payload names it')
  })
})

describe('point 12 (revocation): the revoke step tells the operator about the wallet connection', () => {
  it('the revoke confirmation says the receive-only connection still takes payments and must be revoked in the wallet', () => {
    const text = readFileSync(join(ROOT, 'src-renderer/views/FleetView.vue'), 'utf8').replace(/\s+/g, ' ')
    expect(text).toContain(
      'Its receive-only wallet connection still takes payments: revoke that connection in your wallet too.',
    )
    const spec = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8').replace(/\s+/g, ' ')
    expect(spec).toContain('{"kinds":[30000],"authors":[<op>],"#d":["satmachine:fleet"]}')
    expect(spec).toContain('The operator MUST also revoke that connection in the wallet')
  })
})
