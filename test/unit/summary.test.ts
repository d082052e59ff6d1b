/** The job summary's layout rules, on a report built by hand. */
import { describe, expect, test } from '@jest/globals'
import { emptyReport, type RunReport } from '../../src/run-report.js'
import { renderSummary, totalLine } from '../../src/summary.js'

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
        `<details><summary>Full SHA-256 checksums and file IDs</summary><pre>app.zip\n  sha256   ${sha}\n  file ID  ${uuid(1)}</pre>`
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
      /^<h3>Polar files: upload — failed<\/h3>\n<p><strong>Failed:<\/strong> Input 'files'/
    )
    expect(html).not.toContain('<table>')
  })
  test('the checksums fold: no line wider than a SHA-256 and its label (fits at 1000 px)', () => {
    const r = upload()
    r.files[0].name = 'acme-studio-enterprise-edition-windows-arm64-setup.exe'
    const pre = /<pre>([\s\S]*?)<\/pre>/.exec(renderSummary(r))![1]
    for (const line of pre.split('\n')) expect(line.length).toBeLessThanOrEqual(75)
  })
  test('no literal backticks: code spans of messages render as code', () => {
    const r = emptyReport('upload', false)
    r.failure = 'HTTP 401 invalid_token. Check the `token` and `server` inputs.'
    r.failures = ['dist/a.zip: narrow `files`']
    r.warnings = ["1 of 2 patterns in `files` matched no file under /ws: 'dist/*.dmg'."]
    const html = renderSummary(r)
    expect(html).not.toContain('`')
    expect(html).toContain('Check the <code>token</code> and <code>server</code> inputs.')
  })
  test('warnings (if-no-files-found: warn) appear in the summary', () => {
    const r = upload()
    r.warnings = ["1 of 2 patterns in `files` matched no file under /ws: 'dist/*.dmg'."]
    expect(renderSummary(r)).toMatch(
      /<h4>Warnings<\/h4>\n<ul><li>1 of 2 patterns in .*dist\/\*\.dmg/
    )
  })
  test('a failed file has its row with the reason, and the next step is said', () => {
    const r = upload()
    r.failure =
      '1 of 2 file(s) failed to upload; no benefit was changed and no earlier version was deleted.'
    r.failedFiles = [{ name: 'b.zip', path: 'dist/b.zip', size: 2048, reason: 'S3 refused part 1' }]
    r.failures = ['dist/b.zip: S3 refused part 1']
    r.next = 'Re-run the job: the files that completed are reused (if-unchanged: skip).'
    const html = renderSummary(r)
    expect(html).toContain('<td>b.zip</td><td>—</td><td>2.0\u00a0KiB</td>')
    expect(html).toContain('<strong>failed</strong>: S3 refused part 1')
    expect(html.indexOf('<td>app.zip</td>')).toBeLessThan(html.indexOf('<td>b.zip</td>'))
    r.failedFiles[0].path = 'dist/a.zip' // in path order among the others, not after them
    expect(renderSummary(r).indexOf('<td>b.zip</td>')).toBeLessThan(
      renderSummary(r).indexOf('<td>app.zip</td>')
    )
    expect(html).toContain('<p><strong>Next:</strong> Re-run the job')
    expect(html).not.toContain('<h4>Failures</h4>') // said once, in the row
  })
  test('deleted files: version, size, and times with their zone; the column says deleted', () => {
    const r = upload()
    r.deleted[0] = { ...r.deleted[0], version: 'v1', size: 3 * 1024 * 1024 }
    const html = renderSummary(r)
    expect(html).toContain('<th>Earlier versions deleted</th>')
    expect(html).not.toContain('<th>Replaced</th>')
    expect(html).toContain(
      `<td>app.zip</td><td>v1</td><td>3.0\u00a0MiB</td><td><code title="${uuid(2)}">00000002</code></td><td>2026-01-01 10:20 UTC</td>`
    )
  })
  test('benefits by description and short ID', () => {
    const r = upload()
    r.patchedBenefits[0].description = 'Early access'
    expect(renderSummary(r)).toContain(
      `<li>Early access <code title="${uuid(9)}">00000009</code> (2 → 2 files)`
    )
  })
  test('cleanup states its rules', () => {
    const r = emptyReport('cleanup', false)
    r.rules = {
      keep: 2,
      olderThan: '7d',
      names: ['*.zip', '!*-lts.zip'],
      protectBenefitFiles: true
    }
    expect(renderSummary(r)).toContain(
      '<p>Rules: per name, keep the newest 2, delete the rest older than 7d; files a benefit lists are kept. Names: <code>*.zip</code>, <code>!*-lts.zip</code>.</p>'
    )
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
