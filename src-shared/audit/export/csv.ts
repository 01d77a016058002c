// CSV as RFC 4180 writes it: fields separated by commas, records by CRLF, a field quoted (with inner quotes
// doubled) only when it holds a comma, a quote, CR or LF, and a final CRLF after the last record. UTF-8, no byte
// order mark. Pure (no Node/DOM): the exporter writes with it and `verify-audit` reads with the same rules, so a
// third party's spreadsheet or script sees exactly the bytes whose SHA-256 the manifest lists.

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message)
    this.name = 'CsvError'
  }
}

const NEEDS_QUOTES = /[",\r\n]/

export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

export function csvLine(fields: readonly string[]): string {
  let out = ''
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) out += ','
    out += csvField(fields[i] as string)
  }
  return `${out}\r\n`
}

/** A whole file: the header then every row, each row exactly as wide as the header. */
export function encodeCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const parts: string[] = [csvLine(header)]
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as readonly string[]
    if (row.length !== header.length)
      throw new CsvError(r + 2, `row ${r + 1} has ${row.length} fields; the header has ${header.length}`)
    parts.push(csvLine(row))
  }
  return parts.join('')
}

export interface ParsedCsv {
  header: string[]
  /** Data rows; `rows[i]` is on line `lines[i]` of the file (1-based, the header is line 1). */
  rows: string[][]
  lines: number[]
}

/**
 * Parses a file written by `encodeCsv` (CRLF or LF record ends accepted). Every record must have as many fields as
 * the header; the error names the line.
 */
export function parseCsv(text: string): ParsedCsv {
  const records: string[][] = []
  const starts: number[] = []
  let line = 1
  let i = 0
  const n = text.length
  while (i < n) {
    const startLine = line
    const fields: string[] = []
    for (;;) {
      let field = ''
      if (text[i] === '"') {
        i++
        for (;;) {
          if (i >= n) throw new CsvError(startLine, `line ${startLine}: a quoted field is not closed`)
          const c = text[i] as string
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"'
              i += 2
              continue
            }
            i++
            break
          }
          if (c === '\n') line++
          field += c
          i++
        }
        const next = text[i]
        if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n')
          throw new CsvError(line, `line ${line}: text after a closing quote`)
      } else {
        let j = i
        while (j < n) {
          const c = text[j]
          if (c === ',' || c === '\r' || c === '\n') break
          if (c === '"') throw new CsvError(line, `line ${line}: a quote inside an unquoted field`)
          j++
        }
        field = text.slice(i, j)
        i = j
      }
      fields.push(field)
      if (text[i] === ',') {
        i++
        continue
      }
      break
    }
    if (text[i] === '\r') i++
    if (text[i] === '\n') i++
    else if (i < n) throw new CsvError(line, `line ${line}: a record does not end with a line break`)
    records.push(fields)
    starts.push(startLine)
    line++
  }
  const header = records.shift()
  starts.shift()
  if (!header) throw new CsvError(1, 'the file is empty (no header)')
  for (let r = 0; r < records.length; r++) {
    const rec = records[r] as string[]
    if (rec.length !== header.length)
      throw new CsvError(
        starts[r] as number,
        `line ${starts[r]}: ${rec.length} fields where the header has ${header.length}`,
      )
  }
  return { header, rows: records, lines: starts }
}
