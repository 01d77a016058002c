// Atomic JSON files on a real file system: a write replaces the file whole (mode 0600, no temp file left behind),
// reads tell a missing file from a corrupt one, and the serial queue runs tasks in order even after a failure.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readJsonFile, serialQueue, writeJsonAtomic } from './fs-atomic'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'fs-atomic-'))
  dirs.push(d)
  return d
}

describe('writeJsonAtomic / readJsonFile', () => {
  it('writes pretty JSON with mode 0600 and leaves only the target file', async () => {
    const dir = tmp()
    await writeJsonAtomic(dir, 'x.json', { a: 1 })
    await writeJsonAtomic(dir, 'x.json', { a: 2, b: [true] })
    expect(readFileSync(join(dir, 'x.json'), 'utf8')).toBe('{\n  "a": 2,\n  "b": [\n    true\n  ]\n}\n')
    expect(readdirSync(dir)).toEqual(['x.json'])
    if (process.platform !== 'win32') expect(statSync(join(dir, 'x.json')).mode & 0o777).toBe(0o600)
    expect(await readJsonFile(join(dir, 'x.json'))).toEqual({ kind: 'json', value: { a: 2, b: [true] } })
  })

  it('tells a missing file from one that is not JSON', async () => {
    const dir = tmp()
    expect(await readJsonFile(join(dir, 'none.json'))).toEqual({ kind: 'missing' })
    writeFileSync(join(dir, 'bad.json'), '{ torn')
    const r = await readJsonFile(join(dir, 'bad.json'))
    expect(r.kind).toBe('not-json')
    expect(r.kind === 'not-json' && r.reason.length > 0).toBe(true)
  })

  it('throws read errors other than a missing file', async () => {
    await expect(readJsonFile(tmp())).rejects.toMatchObject({ code: 'EISDIR' })
  })
})

describe('serialQueue', () => {
  it('runs tasks one after another, and a failed task does not stop the next', async () => {
    const serial = serialQueue()
    const order: string[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const first = serial(async () => {
      await gate
      order.push('first')
      throw new Error('boom')
    })
    const second = serial(async () => {
      order.push('second')
      return 2
    })
    expect(order).toEqual([])
    release()
    await expect(first).rejects.toThrow('boom')
    expect(await second).toBe(2)
    expect(order).toEqual(['first', 'second'])
  })
})
