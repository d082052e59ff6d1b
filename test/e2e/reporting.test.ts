/**
 * What a user sees at the end of a run: a dry run that says what a real run would do, outputs
 * that claim only what happened, a failed run that says so (outputs on every exit path), and
 * error messages that never carry a raw body or a secret.
 */
import { describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { runAction, useEmulator, workspace, type FileOutput } from './harness.js'

const emu = useEmulator()

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString()
const base = () => ({ token: emu.token, 'api-url': emu.apiUrl, retries: '1' })
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const OUTPUTS = ['file-ids', 'file-id', 'files', 'deleted-ids', 'checksums', 'checksums-file']

describe('a dry run says exactly what the real run then does', () => {
  test('to upload, unchanged, benefits to update, to delete, to keep — the same numbers', async () => {
    const t = Date.now()
    const same = { [`a-${t}.zip`]: 'unchanged a', [`b-${t}.zip`]: 'unchanged b' }
    for (const [name, content] of Object.entries(same)) {
      emu.seedFile({ name, sha256: hex(content), size: content.length, version: 'v1' })
    }
    const fresh = `c-${t}.zip`
    const oldC = emu.seedFile({ name: fresh, createdAt: daysAgo(9) })
    const listedElsewhere = emu.seedFile({ name: fresh, createdAt: daysAgo(20) })
    const ben = emu.seedBenefit({ files: [oldC.id] })
    emu.seedBenefit({ files: [listedElsewhere.id] })
    const ws = workspace({ ...same, [fresh]: randomBytes(1536) })
    const inputs = { ...base(), files: '*.zip', 'benefit-ids': ben.id, version: 'v2' }

    const dry = await runAction({ ...inputs, 'dry-run': 'true' }, { workspace: ws })
    expect(dry.code).toBe(0)
    expect(emu.log().filter(e => WRITES.has(e.method))).toEqual([])
    expect(dry.json<FileOutput[]>('files').map(f => [f.status, f.version])).toEqual([
      ['unchanged', 'v2'],
      ['unchanged', 'v2'],
      ['planned', 'v2']
    ])
    const total = '1 file (1.5 KiB), 2 unchanged, 1 benefit to update, 1 to delete, 1 to keep'
    expect(dry.stdout).toContain(`Dry run: would upload ${total}`)
    expect(dry.stdout).toMatch(/unchanged: would reuse/)
    expect(dry.stdout).toMatch(
      new RegExp(`Would delete earlier version ${fresh} .*\\(.*B, ${oldC.id}\\)`)
    )
    expect(dry.stdout).toContain(`Would keep ${fresh} (${listedElsewhere.id})`)
    expect(dry.stdout).not.toMatch(/\bKept\b|reusing/)
    expect(dry.summary).toContain('dry run, nothing was changed')
    expect(dry.summary).toContain('Benefits to update')
    expect(dry.summary).not.toContain('Benefits updated')

    const real = await runAction(inputs, { workspace: ws })
    expect(real.code).toBe(0)
    expect(real.json<FileOutput[]>('files').map(f => f.status)).toEqual([
      'unchanged',
      'unchanged',
      'created'
    ])
    expect(real.stdout).toContain(
      'Uploaded 1 file (1.5 KiB), 2 unchanged, 1 benefit updated, 1 deleted, 1 kept'
    )
    expect(real.json('deleted-ids')).toEqual(dry.json('deleted-ids'))
  })
})

describe('outputs claim only what happened', () => {
  test('after a failed upload, a reused file keeps the version Polar holds', async () => {
    const t = Date.now()
    const content = 'reused bytes'
    const reused = emu.seedFile({
      name: `r-${t}.zip`,
      sha256: hex(content),
      size: content.length,
      version: 'v1'
    })
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'status', status: 500, times: 10 })
    const run = await runAction(
      { ...base(), files: '*.zip', version: 'v2', retries: '0' },
      { workspace: workspace({ [`r-${t}.zip`]: content, [`n-${t}.zip`]: 'new' }) }
    )
    expect(run.code).toBe(1)
    const files = run.json<FileOutput[]>('files')
    expect(files).toEqual([expect.objectContaining({ id: reused.id, version: 'v1' })])
    expect(emu.log().some(e => e.method === 'PATCH')).toBe(false)
    expect(run.summary).toMatch(/<strong>Failed:<\/strong> 1 of 2 file\(s\) failed to upload/)
  })

  test('a bad input: a Failed line, no empty table, every output set (empty)', async () => {
    const run = await runAction(
      { ...base(), files: '*.zip', 'part-size': '1KiB' },
      { workspace: workspace({ 'a.zip': 'a' }) }
    )
    expect(run.code).toBe(1)
    expect(run.summary).toContain("<strong>Failed:</strong> Input 'part-size'")
    expect(run.summary).not.toContain('<table>')
    expect(run.summary).not.toMatch(/Uploaded 0 files/)
    expect(Object.keys(run.outputs).sort()).toEqual([...OUTPUTS].sort())
    expect(run.json('file-ids')).toEqual([])
    expect(run.json('files')).toEqual([])
    expect(run.json('deleted-ids')).toEqual([])
    expect(run.stdout).not.toMatch(/Uploaded 0 files/)
  })

  test('a failure with a list of reasons keeps every reason in the summary', async () => {
    const ws = workspace({ 'linux/app.zip': 'l', 'mac/app.zip': 'm', 'win/app.zip': 'w' })
    const run = await runAction({ ...base(), files: '*/app.zip' }, { workspace: ws })
    expect(run.code).toBe(1)
    expect(run.summary).toMatch(/<strong>Failed:<\/strong> 2 matched file\(s\) cannot be uploaded/)
    for (const pair of ['linux/app.zip and mac/app.zip', 'linux/app.zip and win/app.zip']) {
      expect(run.summary).toMatch(new RegExp(`<li>${pair} would both be named 'app.zip'`))
    }
  })

  test('small files: the log rate is whole bytes, never a raw float', async () => {
    const ws = workspace({ 'NOTES.txt': 'notes for this release' })
    const run = await runAction({ ...base(), files: 'NOTES.txt' }, { workspace: ws })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/created \S+ in \d+\.\d s \((\d+ B|\d+\.\d [KMG]iB)\/s\)/)
    expect(run.stdout).not.toMatch(/\d\.\d{3,} B/)
  })
})

describe('hints for the files that were (or were not) matched', () => {
  test('dist\\*.zip: the backslash is an escape; / works on every OS', async () => {
    const ws = workspace({ 'dist/a.zip': 'a' })
    const run = await runAction({ ...base(), files: 'dist\\*.zip' }, { workspace: ws })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "A backslash in a pattern escapes the next character: write 'dist/*.zip' (/ works on every OS)."
    )
  })
  test('files: dist (a folder) and an empty file: warnings in the log and the summary', async () => {
    const ws = workspace({ 'dist/a.zip': 'a', 'dist/sub/b.zip': 'b', 'dist/empty.zip': '' })
    const run = await runAction({ ...base(), files: 'dist', 'dry-run': 'true' }, { workspace: ws })
    expect(run.code).toBe(0)
    const folder =
      "'dist' in `files` is a folder: every file below it, in every subfolder, is published."
    expect(run.stdout).toContain(`::warning::${folder}`)
    expect(run.stdout).toContain('::warning::dist/empty.zip is empty (0 bytes)')
    expect(run.summary).toContain('<h4>Warnings</h4>')
    expect(run.summary).toContain("'dist' in <code>files</code> is a folder")
    expect(run.summary).toContain('dist/empty.zip is empty (0 bytes)')
  })
  test('if-no-files-found: warn: the warning is in the summary too', async () => {
    const ws = workspace({ 'a.zip': 'a' })
    const run = await runAction(
      { ...base(), files: 'a.zip\nb.dmg', 'if-no-files-found': 'warn', 'dry-run': 'true' },
      { workspace: ws }
    )
    expect(run.code).toBe(0)
    expect(run.summary).toMatch(
      /<h4>Warnings<\/h4>\n<ul><li>1 of 2 patterns in <code>files<\/code> matched no file under .*'b\.dmg'/
    )
  })
})

describe('the log reads in plan order', () => {
  test('a plan line first; one group per file in plan order, its retry lines inside; benefits by name', async () => {
    const t = Date.now()
    const [a, b, c] = [`a-${t}.zip`, `b-${t}.zip`, `c-${t}.zip`]
    const old = emu.seedFile({ name: b, version: 'v1', createdAt: daysAgo(3) })
    const ben = emu.seedBenefit({ description: 'Early access', files: [old.id] })
    // a.zip (first in the plan) finishes last, after one retry of its part.
    const first = new RegExp(a.replace('.', '\\.'))
    emu.injectFault({ target: 's3', method: 'PUT', path: first, kind: 'status', status: 500 })
    emu.injectFault({ target: 's3', method: 'PUT', path: first, kind: 'delay', ms: 600 })
    const ws = workspace({ [a]: randomBytes(2048), [b]: randomBytes(3000), [c]: 'c' })
    const run = await runAction(
      { ...base(), files: '*.zip', version: 'v2', 'benefit-ids': ben.id },
      { workspace: ws }
    )
    expect(run.code).toBe(0)
    const out = run.stdout
    const plan = out.indexOf(`Plan: 3 files, 4.9 KiB as v2: ${a}, ${b}, ${c}`)
    expect(plan).toBeGreaterThan(-1)
    expect(out).toContain(`Benefits to update: Early access (${ben.id})`)
    expect(out).toMatch(new RegExp(`Replaces 1 earlier file\\(s\\) .*: ${b} v1`))
    const groups = [...out.matchAll(/::group::(\S+) ← /g)].map(m => m[1])
    expect(groups).toEqual([a, b, c])
    expect(plan).toBeLessThan(out.indexOf('::group::'))
    const groupOfA = out.slice(out.indexOf(`::group::${a}`), out.indexOf(`::group::${b}`))
    expect(groupOfA).toMatch(new RegExp(`${a}: part 1: .*500.*; retry 1/1`))
    expect(out.split('retry 1/1').length - 1).toBe(1) // nowhere else
    expect(out).not.toMatch(/\(\d+ bytes\)|^path: /m)
    expect(out).toContain(`Updated benefit Early access (${ben.id}): ${b} ${old.id.slice(0, 8)} → `)
    expect(out).not.toMatch(
      /Updated benefit .*[0-9a-f]{8}-[0-9a-f]{4}-.*, [0-9a-f]{8}-[0-9a-f]{4}-/
    )
  })
})

describe('errors never echo raw bodies', () => {
  test('a 500 whose body echoes the request: no token, no header dump, in any output', async () => {
    emu.injectFault({
      target: 'api',
      path: '/v1/files/',
      kind: 'status',
      status: 500,
      echo: true,
      times: 20
    })
    const run = await runAction(
      { ...base(), files: '*.zip', retries: '0' },
      { workspace: workspace({ 'a.zip': 'a' }) }
    )
    expect(run.code).toBe(1)
    const secret = emu.token.slice('polar_oat_'.length)
    // `::add-mask::` is the runner's masking command itself, never shown in a log.
    const seen = run.everything.replace(/^::add-mask::.*$/m, '')
    expect(seen).not.toContain(secret)
    expect(seen).not.toMatch(/user-agent:|polar-version:/i)
    expect(run.stdout).toMatch(
      /::error::Polar API GET \/v1\/files\/ failed: HTTP 500 — GET \/v1\/files\//
    )
  })
})
