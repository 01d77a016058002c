// Joins the PDFs Chromium printed for the parts of the quarterly report into one file (docs/audit-export.md
// "The report"), and lays the page furniture — title, DRAFT, "Page N of M" — over every page from one more PDF
// that Chromium printed with its own header and footer over M blank pages. Chromium numbers the pages of each print
// job from 1, so the parts are printed without header and footer and the numbers come from that overlay, whose
// fonts Chromium embeds like any other.
//
// Dependency-free on purpose: the operators' PCs have no poppler or qpdf, and the input is always Chromium's own
// PDF writer (Skia) — a classic cross-reference table, no object streams, no encryption. The reader handles
// exactly the PDF syntax (ISO 32000-1 §7.3) such a file uses and refuses anything else naming what it found, so a
// change in Chromium's output fails the export loudly instead of writing a broken report. Each overlay page becomes
// a form XObject (§8.10) drawn after the page's own content, which is wrapped in q … Q so that a graphics state
// left changed by Chromium cannot move it.
import { deflateSync, inflateSync } from 'node:zlib'

export class PdfMergeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PdfMergeError'
  }
}

/** A PDF value; names, numbers and strings keep their source text, so writing one back is byte-exact. */
export type PdfValue =
  | { t: 'num'; raw: string }
  | { t: 'name'; raw: string }
  | { t: 'str'; raw: string }
  | { t: 'kw'; raw: 'true' | 'false' | 'null' }
  /** `abs`: a number in the merged file already (not renumbered when written). */
  | { t: 'ref'; n: number; abs?: true }
  | { t: 'arr'; v: PdfValue[] }
  | { t: 'dict'; v: Map<string, PdfValue> }

export interface PdfObject {
  value: PdfValue
  /** The stream's bytes as stored (still encoded), as a latin1 string; null for a plain object. */
  stream: string | null
}

export interface ParsedPdf {
  objects: Map<number, PdfObject>
  /** The page objects in page order, each with the attributes it inherits from the page tree filled in. */
  pages: { n: number; dict: Map<string, PdfValue> }[]
}

const WS = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20])
const DELIM = new Set('()<>[]{}/%'.split('').map((c) => c.charCodeAt(0)))

class Reader {
  i = 0
  constructor(readonly s: string) {}

  skipWs(): void {
    const s = this.s
    for (;;) {
      const c = s.charCodeAt(this.i)
      if (WS.has(c)) this.i++
      else if (c === 0x25) {
        while (this.i < s.length && s[this.i] !== '\n' && s[this.i] !== '\r') this.i++
      } else return
    }
  }

  fail(what: string): never {
    throw new PdfMergeError(`unexpected PDF syntax at byte ${this.i}: ${what}`)
  }

  regular(): string {
    const start = this.i
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i)
      if (WS.has(c) || DELIM.has(c)) break
      this.i++
    }
    return this.s.slice(start, this.i)
  }

  value(): PdfValue {
    this.skipWs()
    const s = this.s
    const c = s[this.i]
    if (c === '<' && s[this.i + 1] === '<') {
      this.i += 2
      const v = new Map<string, PdfValue>()
      for (;;) {
        this.skipWs()
        if (s[this.i] === '>' && s[this.i + 1] === '>') {
          this.i += 2
          return { t: 'dict', v }
        }
        if (s[this.i] !== '/') this.fail('a dictionary key that is not a name')
        this.i++
        const key = this.regular()
        v.set(key, this.value())
      }
    }
    if (c === '<') {
      const end = s.indexOf('>', this.i)
      if (end < 0) this.fail('an unterminated hex string')
      const raw = s.slice(this.i, end + 1)
      this.i = end + 1
      return { t: 'str', raw }
    }
    if (c === '(') {
      const start = this.i
      let depth = 0
      for (; this.i < s.length; this.i++) {
        const ch = s[this.i]
        if (ch === '\\') this.i++
        else if (ch === '(') depth++
        else if (ch === ')' && --depth === 0) break
      }
      if (depth !== 0) this.fail('an unterminated string')
      this.i++
      return { t: 'str', raw: s.slice(start, this.i) }
    }
    if (c === '[') {
      this.i++
      const v: PdfValue[] = []
      for (;;) {
        this.skipWs()
        if (s[this.i] === ']') {
          this.i++
          return { t: 'arr', v }
        }
        if (this.i >= s.length) this.fail('an unterminated array')
        v.push(this.value())
      }
    }
    if (c === '/') {
      this.i++
      return { t: 'name', raw: `/${this.regular()}` }
    }
    const word = this.regular()
    if (word === 'true' || word === 'false' || word === 'null') return { t: 'kw', raw: word }
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) this.fail(`'${word.slice(0, 20)}'`)
    // An integer followed by another integer and R is an indirect reference.
    if (/^\d+$/.test(word)) {
      const m = /^\s+(\d+)\s+R(?![^\s()<>[\]{}/%])/.exec(s.slice(this.i, this.i + 24))
      if (m) {
        this.i += m[0].length
        return { t: 'ref', n: Number(word) }
      }
    }
    return { t: 'num', raw: word }
  }
}

const asDict = (v: PdfValue | undefined, what: string): Map<string, PdfValue> => {
  if (v?.t !== 'dict') throw new PdfMergeError(`${what} is not a dictionary`)
  return v.v
}

/** Reads a PDF written by Chromium: every object, and the pages in order. */
export function parsePdf(bytes: Uint8Array): ParsedPdf {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  if (!s.startsWith('%PDF-')) throw new PdfMergeError('not a PDF (no %PDF- header)')
  const objects = new Map<number, PdfObject>()
  const head = /(\d+)\s+(\d+)\s+obj\b/g
  const r = new Reader(s)
  let at = 0
  for (;;) {
    head.lastIndex = at
    const m = head.exec(s)
    // The objects end where the cross-reference table starts; a stream-compressed one is refused below.
    const xref = s.indexOf('\nxref', at)
    if (!m || (xref >= 0 && m.index > xref)) break
    r.i = m.index + m[0].length
    const value = r.value()
    r.skipWs()
    let stream: string | null = null
    if (s.startsWith('stream', r.i)) {
      r.i += 6
      if (s[r.i] === '\r') r.i++
      if (s[r.i] === '\n') r.i++
      const len = value.t === 'dict' ? value.v.get('Length') : undefined
      if (len?.t !== 'num') throw new PdfMergeError(`object ${m[1]}: a stream without a direct /Length`)
      const n = Number(len.raw)
      stream = s.slice(r.i, r.i + n)
      r.i += n
      r.skipWs()
      if (!s.startsWith('endstream', r.i)) throw new PdfMergeError(`object ${m[1]}: /Length does not end the stream`)
      r.i += 9
      r.skipWs()
    }
    if (!s.startsWith('endobj', r.i)) r.fail(`object ${m[1]} does not end with endobj`)
    at = r.i + 6
    if (value.t === 'dict') {
      const type = value.v.get('Type')
      if (type?.t === 'name' && (type.raw === '/ObjStm' || type.raw === '/XRef'))
        throw new PdfMergeError('the PDF uses compressed object streams, which this merger does not read')
    }
    objects.set(Number(m[1]), { value, stream })
  }
  const trailerAt = s.lastIndexOf('trailer')
  if (trailerAt < 0) throw new PdfMergeError('the PDF has no trailer')
  r.i = trailerAt + 7
  const trailer = asDict(r.value(), 'the trailer')
  if (trailer.has('Encrypt')) throw new PdfMergeError('the PDF is encrypted')
  const root = trailer.get('Root')
  if (root?.t !== 'ref') throw new PdfMergeError('the trailer names no /Root')
  const deref = (v: PdfValue | undefined): PdfValue | undefined => (v?.t === 'ref' ? objects.get(v.n)?.value : v)
  const catalog = asDict(deref(root), 'the catalog')
  const pages: ParsedPdf['pages'] = []
  const INHERITED = ['Resources', 'MediaBox', 'CropBox', 'Rotate']
  const walk = (ref: PdfValue | undefined, inherited: Map<string, PdfValue>, depth: number) => {
    if (ref?.t !== 'ref' || depth > 64) throw new PdfMergeError('a broken page tree')
    const node = asDict(objects.get(ref.n)?.value, `page tree object ${ref.n}`)
    const type = node.get('Type')
    if (type?.t === 'name' && type.raw === '/Pages') {
      const next = new Map(inherited)
      for (const k of INHERITED) if (node.has(k)) next.set(k, node.get(k) as PdfValue)
      const kids = node.get('Kids')
      if (kids?.t !== 'arr') throw new PdfMergeError(`page tree node ${ref.n} has no /Kids`)
      for (const k of kids.v) walk(k, next, depth + 1)
    } else {
      const dict = new Map(node)
      for (const [k, v] of inherited) if (!dict.has(k)) dict.set(k, v)
      pages.push({ n: ref.n, dict })
    }
  }
  walk(catalog.get('Pages'), new Map(), 0)
  return { objects, pages }
}

const NAME_OVERLAY = '/SatmachinePageFurniture'

/** Writes a value with every reference renumbered by `map`. */
function write(v: PdfValue, map: (n: number) => number, out: string[]): void {
  switch (v.t) {
    case 'num':
    case 'name':
    case 'str':
    case 'kw':
      out.push(v.raw)
      return
    case 'ref':
      out.push(`${v.abs ? v.n : map(v.n)} 0 R`)
      return
    case 'arr':
      out.push('[')
      v.v.forEach((x, i) => {
        if (i > 0) out.push(' ')
        write(x, map, out)
      })
      out.push(']')
      return
    case 'dict':
      out.push('<<')
      for (const [k, x] of v.v) {
        out.push(`/${k} `)
        write(x, map, out)
        out.push('\n')
      }
      out.push('>>')
      return
  }
}

/** The decoded bytes of a page's /Contents (a stream or an array of them), for use as a form XObject's stream. */
function pageContent(doc: ParsedPdf, contents: PdfValue | undefined): string {
  const refs = contents?.t === 'arr' ? contents.v : contents ? [contents] : []
  const parts: string[] = []
  for (const r of refs) {
    if (r.t !== 'ref') throw new PdfMergeError('a page /Contents entry is not a reference')
    const o = doc.objects.get(r.n)
    if (!o || o.stream === null || o.value.t !== 'dict') throw new PdfMergeError(`content stream ${r.n} is missing`)
    const filter = o.value.v.get('Filter')
    if (!filter) parts.push(o.stream)
    else if (filter.t === 'name' && filter.raw === '/FlateDecode' && !o.value.v.has('DecodeParms'))
      parts.push(inflateSync(Buffer.from(o.stream, 'latin1')).toString('latin1'))
    else throw new PdfMergeError(`content stream ${r.n} uses a filter this merger does not decode`)
  }
  return parts.join('\n')
}

/**
 * One PDF of every page of `parts` in order, each page with the same-numbered page of `overlay` drawn over it.
 * The overlay must have exactly as many pages as the parts together.
 */
export function mergeWithOverlay(parts: readonly Uint8Array[], overlay: Uint8Array): { pdf: Buffer; pages: number } {
  const docs = parts.map(parsePdf)
  const over = parsePdf(overlay)
  const total = docs.reduce((a, d) => a + d.pages.length, 0)
  if (over.pages.length !== total)
    throw new PdfMergeError(`the page furniture has ${over.pages.length} pages for ${total} report pages`)

  // Object numbers: 1 catalog, 2 page tree, 3 and 4 the two shared wrapper streams, then each input's objects
  // shifted past the previous ones, then one form XObject per page.
  const chunks: Buffer[] = []
  const offsets: number[] = []
  let size = 0
  const emit = (s: string) => {
    const b = Buffer.from(s, 'latin1')
    chunks.push(b)
    size += b.length
  }
  const object = (n: number, body: string) => {
    offsets[n] = size
    emit(`${n} 0 obj\n${body}\nendobj\n`)
  }
  const streamObject = (n: number, dict: Map<string, PdfValue>, data: string, map: (n: number) => number) => {
    dict.set('Length', { t: 'num', raw: String(data.length) })
    const out: string[] = []
    write({ t: 'dict', v: dict }, map, out)
    offsets[n] = size
    emit(`${n} 0 obj\n${out.join('')} stream\n`)
    emit(data)
    emit('\nendstream\nendobj\n')
  }
  emit('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n')
  let next = 5
  const bases = [...docs, over].map((d) => {
    const base = next
    next += Math.max(0, ...d.objects.keys()) + 1
    return base
  })
  const formBase = next
  const pageNums: number[] = []
  const id = (n: number) => n

  // The shared wrappers: "q" before the page's own content, "Q" and the overlay after it.
  streamObject(3, new Map(), 'q\n', id)
  streamObject(4, new Map(), `Q\nq ${NAME_OVERLAY} Do Q\n`, id)

  // The overlay's objects except its page tree, catalog and page dictionaries; each page becomes a form.
  const overBase = bases[docs.length] as number
  const overMap = (n: number) => n + overBase
  const skipOver = new Set(over.pages.map((p) => p.n))
  const isTree = (o: PdfObject) => {
    if (o.value.t !== 'dict') return false
    const t = o.value.v.get('Type')
    return t?.t === 'name' && (t.raw === '/Pages' || t.raw === '/Catalog' || t.raw === '/Page')
  }
  for (const [n, o] of over.objects) {
    if (skipOver.has(n) || isTree(o)) continue
    copyObject(n, o, overMap)
  }
  over.pages.forEach((p, i) => {
    const form = new Map<string, PdfValue>([
      ['Type', { t: 'name', raw: '/XObject' }],
      ['Subtype', { t: 'name', raw: '/Form' }],
      ['BBox', p.dict.get('MediaBox') ?? { t: 'arr', v: [0, 0, 595.92, 842.88].map((x) => num(x)) }],
      ['Resources', p.dict.get('Resources') ?? { t: 'dict', v: new Map() }],
      ['Filter', { t: 'name', raw: '/FlateDecode' }],
    ])
    const data = deflateSync(Buffer.from(pageContent(over, p.dict.get('Contents')), 'latin1')).toString('latin1')
    streamObject(formBase + i, form, data, overMap)
  })

  let pageIndex = 0
  docs.forEach((d, di) => {
    const base = bases[di] as number
    const map = (n: number) => n + base
    const pageSet = new Set(d.pages.map((p) => p.n))
    for (const [n, o] of d.objects) {
      if (pageSet.has(n) || isTree(o)) continue
      copyObject(n, o, map)
    }
    for (const p of d.pages) {
      const dict = new Map(p.dict)
      dict.set('Parent', { t: 'ref', n: 2, abs: true })
      dict.delete('StructParents')
      const resources = new Map(
        asDict(deref(d, dict.get('Resources')) ?? { t: 'dict', v: new Map() }, 'page resources'),
      )
      const xobjects = new Map(asDict(deref(d, resources.get('XObject')) ?? { t: 'dict', v: new Map() }, 'XObjects'))
      xobjects.set(NAME_OVERLAY.slice(1), { t: 'ref', n: formBase + pageIndex, abs: true })
      resources.set('XObject', { t: 'dict', v: xobjects })
      dict.set('Resources', { t: 'dict', v: resources })
      const own = dict.get('Contents')
      const list = own?.t === 'arr' ? own.v : own ? [own] : []
      dict.set('Contents', { t: 'arr', v: [{ t: 'ref', n: 3, abs: true }, ...list, { t: 'ref', n: 4, abs: true }] })
      const out: string[] = []
      write({ t: 'dict', v: dict }, map, out)
      pageNums.push(map(p.n))
      object(map(p.n), out.join(''))
      pageIndex++
    }
  })

  object(1, '<</Type /Catalog\n/Pages 2 0 R>>')
  // A flat page tree: viewers handle thousands of kids, and it keeps the page order obvious.
  object(2, `<</Type /Pages\n/Count ${pageNums.length}\n/Kids [${pageNums.map((n) => `${n} 0 R`).join(' ')}]>>`)

  const count = formBase + total
  const xrefAt = size
  const rows: string[] = [`xref\n0 ${count}\n`, '0000000000 65535 f \n']
  for (let n = 1; n < count; n++) {
    const o = offsets[n]
    rows.push(o === undefined ? '0000000000 65535 f \n' : `${String(o).padStart(10, '0')} 00000 n \n`)
  }
  emit(rows.join(''))
  emit(`trailer\n<</Size ${count}\n/Root 1 0 R>>\nstartxref\n${xrefAt}\n%%EOF\n`)
  return { pdf: Buffer.concat(chunks), pages: pageNums.length }

  function copyObject(n: number, o: PdfObject, map: (n: number) => number): void {
    if (o.stream !== null && o.value.t === 'dict') streamObject(map(n), new Map(o.value.v), o.stream, map)
    else {
      const out: string[] = []
      write(o.value, map, out)
      object(map(n), out.join(''))
    }
  }
}

const num = (x: number): PdfValue => ({ t: 'num', raw: String(x) })

function deref(d: ParsedPdf, v: PdfValue | undefined): PdfValue | undefined {
  return v?.t === 'ref' ? d.objects.get(v.n)?.value : v
}
