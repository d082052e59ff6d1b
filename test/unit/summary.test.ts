/** The job summary's layout rules, on a report built by hand. */
import { describe, expect, test } from '@jest/globals'
import { emptyReport, type RunReport } from '../../src/report.js'
import { renderSummary, totalLine } from '../../src/summary.js'
import { formatBytes } from '../../src/units.js'

const uuid = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`
const sha = 'ab'.repeat(32)

function upload(): RunReport {
  const r = emptyReport('upload', false)
  r.files = [
    {
      id: uuid(1),
      name: 'app.zip',
      path: 'dist/app.zip',
      size: 3 * 1024 * 1024,
      mime_type: 'application/zip',
      sha256: sha,
      version: 'v2',
      status: 'created',
      replaced_ids: [uuid(2)]
    }
  ]
  r.deleted = [{ id: uuid(2), name: 'app.zip', created_at: '2026-01-01T10:20:30Z' }]
  r.patchedBenefits = [{ id: uuid(9), before: [uuid(2), uuid(3)], after: [uuid(1), uuid(3)] }]
  return r
}

describe('renderSummary', () => {
  test('short SHA and IDs in the table, the full ones folded below; a Version column', () => {
    const html = renderSummary(upload())
    expect(html).toContain('<th>Version</th>')
    expect(html).toContain(`<code>${sha.slice(0, 12)}</code>`)
    expect(html).toMatch(
      new RegExp(
        `<details><summary>Full SHA-256 checksums and file IDs</summary><pre>${sha}  ${uuid(1)}  app.zip</pre>`
      )
    )
    expect(html).not.toMatch(new RegExp(`<td><code[^>]*>${uuid(1)}</code></td>`))
  })
  test('a benefit change names what replaced what', () => {
    expect(renderSummary(upload())).toContain(
      `app.zip: <code title="${uuid(2)}">00000002</code> → <code title="${uuid(1)}">00000001</code>`
    )
  })
  test('a failed run says so first, with no empty table', () => {
    const r = emptyReport('upload', false)
    r.failure = "Input 'files': is required in upload mode."
    const html = renderSummary(r)
    expect(html).toMatch(
      /^<h3>Polar files: upload<\/h3>\n<p><strong>Failed:<\/strong> Input 'files'/
    )
    expect(html).not.toContain('<table>')
  })
  test('a long kept list: reasons counted, the interesting rows first, the rest folded', () => {
    const r = emptyReport('cleanup', false)
    for (let i = 0; i < 30; i++) r.kept.push({ id: uuid(i), name: `n${i}.zip`, reason: 'newest 1' })
    r.kept.push({ id: uuid(99), name: 'listed.zip', reason: `in benefit ${uuid(50)}` })
    const html = renderSummary(r)
    expect(html).toContain('31 files (30 newest 1 per name, 1 listed in a benefit).')
    expect(html.indexOf('listed.zip')).toBeLessThan(html.indexOf('n0.zip'))
    expect(html).toContain('<details><summary>21 more kept files</summary>')
    expect(html).toContain(`in benefit <code title="${uuid(50)}">00000050</code>`)
  })
})

describe('totalLine', () => {
  test('a dry run speaks of what would happen, in the same terms', () => {
    const real = upload()
    const dry = { ...upload(), dryRun: true }
    dry.files = dry.files.map(f => ({ ...f, status: 'planned' as const, id: null }))
    expect(totalLine(real)).toBe(
      'Uploaded 1 file (3.0 MiB), 0 unchanged, 1 benefit updated, 1 deleted, 0 kept'
    )
    expect(totalLine(dry)).toBe(
      'Dry run: would upload 1 file (3.0 MiB), 0 unchanged, 1 benefit to update, 1 to delete, 0 to keep'
    )
  })
})

describe('formatBytes', () => {
  test('a rate under 1 KiB is whole bytes, never a raw float', () => {
    expect(formatBytes(21 / 0.28)).toBe('75 B')
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023.6)).toBe('1024 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
  })
})
