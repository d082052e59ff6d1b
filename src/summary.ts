/**
 * What a run did, in words and in the job summary's HTML. Pure: outputs.ts writes it out.
 * A dry run says what a real run would do, in the same terms; a failed run says so first.
 */
import type { RunReport } from './run-report.js'
import { formatBytes } from './units.js'

/** Rows of a long table shown before the rest is folded away. */
const SHOWN_ROWS = 10

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** The one-line total printed at the end of the log and on top of the summary. */
export function totalLine(report: RunReport): string {
  const dry = report.dryRun
  const parts: string[] = []
  if (report.mode === 'upload') {
    const uploads = report.files.filter(f => f.status === 'created' || f.status === 'planned')
    const bytes = uploads.reduce((sum, f) => sum + f.size, 0)
    const unchanged = report.files.filter(f => f.status === 'unchanged').length
    const flagged = report.files.filter(f => f.status === 'flagged').length
    const benefits = report.patchedBenefits.length
    parts.push(
      `${dry ? 'would upload' : 'uploaded'} ${plural(uploads.length, 'file')} (${formatBytes(bytes)})`,
      `${unchanged} unchanged`,
      ...(flagged ? [`${flagged} flagged as malicious`] : []),
      `${plural(benefits, 'benefit')} ${dry ? 'to update' : 'updated'}`
    )
  }
  parts.push(
    `${report.deleted.length} ${dry ? 'to delete' : 'deleted'}`,
    `${report.kept.length} ${dry ? 'to keep' : 'kept'}`
  )
  if (report.failures.length) parts.push(`${report.failures.length} failed`)
  const line = parts.join(', ')
  return dry ? `Dry run: ${line}` : line[0].toUpperCase() + line.slice(1)
}

export function renderSummary(report: RunReport): string {
  const html: string[] = []
  const title = `Polar files: ${report.mode}`
  const marker = report.failure ? ' — failed' : ''
  html.push(
    `<h3>${report.dryRun ? `${title} — dry run, nothing was changed` : title}${marker}</h3>`
  )
  if (report.failure) html.push(`<p><strong>Failed:</strong> ${text(report.failure)}</p>`)
  for (const note of report.apiNotes ?? []) html.push(`<p>⚠️ ${text(note)}</p>`)
  if (report.next) html.push(`<p><strong>Next:</strong> ${text(report.next)}</p>`)
  const nothing =
    !report.files.length &&
    !report.deleted.length &&
    !report.kept.length &&
    !report.failedFiles.length
  if (!report.failure || !nothing) html.push(`<p>${escape(totalLine(report))}</p>`)
  if (report.rules) html.push(`<p>${rulesLine(report)}</p>`)
  if (report.warnings.length) {
    html.push(
      '<h4>Warnings</h4>',
      `<ul>${report.warnings.map(w => `<li>${text(w)}</li>`).join('')}</ul>`
    )
  }
  if (report.hiddenSkipped) {
    html.push(
      `<p>${plural(report.hiddenSkipped, 'hidden file')} skipped (set <code>include-hidden-files: true</code> to publish them).</p>`
    )
  }
  if (report.files.length || report.failedFiles.length) html.push(...filesTable(report))
  if (report.patchedBenefits.length) html.push(...benefitChanges(report))
  if (report.deleted.length) {
    html.push(`<h4>${report.dryRun ? 'To delete' : 'Deleted'}</h4>`)
    html.push(
      ...folded(
        ['Name', 'Version', 'Size', 'File ID', 'Created'],
        report.deleted.map(d => [
          escape(d.name),
          d.version ? escape(d.version) : '—',
          d.size === undefined ? '—' : nowrap(formatBytes(d.size)),
          id(d.id),
          escape(shortDate(d.created_at))
        ]),
        'more'
      )
    )
  }
  if (report.kept.length) html.push(...keptSection(report))
  // A failed file's reason is in its row already.
  const inRows = new Set(report.failedFiles.map(f => `${f.path}: ${f.reason}`))
  const failures = report.failures.filter(f => !inRows.has(f))
  if (failures.length) {
    html.push('<h4>Failures</h4>', `<ul>${failures.map(f => `<li>${text(f)}</li>`).join('')}</ul>`)
  }
  return `${html.join('\n')}\n`
}

function filesTable(report: RunReport): string[] {
  const status = (s: string) =>
    s === 'planned'
      ? 'to upload'
      : s === 'flagged'
        ? '<strong>⚠️ flagged as malicious</strong> — not published'
        : s
  const rows = report.files.map(f => [
    escape(f.name),
    f.version ? escape(f.version) : '—',
    nowrap(formatBytes(f.size)),
    `<code>${f.sha256.slice(0, 12)}</code>`,
    f.id ? id(f.id) : '—',
    status(f.status),
    f.replaced_ids.length ? f.replaced_ids.map(id).join(' ') : '—'
  ])
  // Failed files in the same table (not in the outputs): the row says why.
  const failedRows = report.failedFiles.map(f => [
    escape(f.name),
    '—',
    nowrap(formatBytes(f.size)),
    '—',
    '—',
    `<strong>failed</strong>: ${text(f.reason)}`,
    '—'
  ])
  // Name first, each value on its own line: fits a narrow summary pane, whatever the names.
  const full = report.files
    .map(f => `${f.name}\n  sha256   ${f.sha256}\n  file ID  ${f.id ?? '(not uploaded yet)'}`)
    .join('\n')
  const deletedHeader = report.dryRun ? 'Earlier versions to delete' : 'Earlier versions deleted'
  const header = ['Name', 'Version', 'Size', 'SHA-256', 'File ID', 'Status', deletedHeader]
  return [
    ...table(header, inPathOrder(report, rows, failedRows)),
    ...(report.files.length
      ? [
          `<details><summary>Full SHA-256 checksums and file IDs</summary><pre>${escape(full)}</pre></details>`
        ]
      : [])
  ]
}

/** Failed files' rows among the others, in the plan's order (by path), not after them. */
function inPathOrder(report: RunReport, rows: string[][], failedRows: string[][]): string[][] {
  if (failedRows.length === 0) return rows
  const all = [
    ...report.files.map((f, i) => ({ path: f.path, row: rows[i] })),
    ...report.failedFiles.map((f, i) => ({ path: f.path, row: failedRows[i] }))
  ]
  return all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map(r => r.row)
}

/** Per benefit: each replaced file with its replacement, then files added or removed alone. */
function benefitChanges(report: RunReport): string[] {
  const names = new Map<string, string>()
  for (const f of report.files) names.set(f.id ?? `(new ${f.name})`, f.name)
  for (const d of report.deleted) names.set(d.id, d.name)
  for (const k of report.kept) names.set(k.id, k.name)
  const ref = (fileId: string) => (fileId.startsWith('(new ') ? 'the new upload' : id(fileId))
  const items = report.patchedBenefits.map(b => {
    const added = b.after.filter(x => !b.before.includes(x))
    const removed = b.before.filter(x => !b.after.includes(x))
    const lines: string[] = []
    for (const old of removed) {
      const name = names.get(old)
      const taker = added.findIndex(a => name !== undefined && names.get(a) === name)
      if (taker >= 0) {
        lines.push(`${escape(name!)}: ${ref(old)} → ${ref(added[taker])}`)
        added.splice(taker, 1)
      } else lines.push(`${escape(names.get(old) ?? 'a file')} ${ref(old)} removed`)
    }
    for (const a of added) lines.push(`${escape(names.get(a) ?? 'a file')} ${ref(a)} added`)
    const list = lines.length ? lines.map(l => `<li>${l}</li>`).join('') : '<li>reordered</li>'
    const label = b.description ? `${escape(b.description)} ${id(b.id)}` : id(b.id)
    return `<li>${label} (${b.before.length} → ${plural(b.after.length, 'file')})<ul>${list}</ul></li>`
  })
  return [
    `<h4>${report.dryRun ? 'Benefits to update' : 'Benefits updated'}</h4>`,
    `<ul>${items.join('')}</ul>`
  ]
}

/**
 * Kept files: cleanup keeps most of an organization's files for dull reasons ("newest 1"), so
 * the reasons are counted, and the rows that need a look (a benefit, a newer version) come first.
 */
function keptSection(report: RunReport): string[] {
  const counts = new Map<string, number>()
  for (const k of report.kept)
    counts.set(category(k.reason), (counts.get(category(k.reason)) ?? 0) + 1)
  const dull = (reason: string) => /^(newest|not old enough)/.test(reason)
  const sorted = [...report.kept].sort((a, b) => Number(dull(a.reason)) - Number(dull(b.reason)))
  const why = [...counts].map(([reason, n]) => `${n} ${escape(reason)}`).join(', ')
  // Benefit IDs in a reason shortened like every other ID (the log has them whole).
  const reason = (r: string) =>
    escape(r).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, m => id(m))
  return [
    `<h4>${report.dryRun ? 'To keep' : 'Kept'}</h4>`,
    `<p>${plural(report.kept.length, 'file')} (${why}).</p>`,
    ...folded(
      ['Name', 'File ID', 'Why'],
      sorted.map(k => [escape(k.name), id(k.id), reason(k.reason)]),
      'more kept files'
    )
  ]
}

/** A kept file's reason without its IDs and versions, to count alike ones together. */
function category(reason: string): string {
  if (reason.startsWith('newest')) return `${reason} per name`
  if (reason.startsWith('in benefit')) return 'listed in a benefit'
  if (reason.startsWith('newer version')) return 'a newer version'
  if (reason.startsWith('listed again')) return 'listed again by another job'
  return reason
}

/** A table of the first rows, the rest folded into a <details> below it. */
function folded(header: string[], rows: string[][], more: string): string[] {
  if (rows.length <= SHOWN_ROWS) return table(header, rows)
  return [
    ...table(header, rows.slice(0, SHOWN_ROWS)),
    `<details><summary>${rows.length - SHOWN_ROWS} ${more}</summary>`,
    ...table(header, rows.slice(SHOWN_ROWS)),
    '</details>'
  ]
}

function table(header: string[], rows: string[][]): string[] {
  const tr = (cells: string[], tag: string) =>
    `<tr>${cells.map(c => `<${tag}>${c}</${tag}>`).join('')}</tr>`
  return [`<table>${tr(header, 'th')}${rows.map(r => tr(r, 'td')).join('')}</table>`]
}

/** The first 8 characters of a UUID: enough to tell files apart, short enough for one line. */
function id(value: string): string {
  return `<code title="${escape(value)}">${escape(value.slice(0, 8))}</code>`
}

/** `2026-10-05 13:37 UTC`: Polar's times are UTC, and the log prints them whole. */
function shortDate(iso: string | undefined): string {
  if (!iso) return ''
  const t = new Date(iso)
  return Number.isNaN(t.getTime()) ? iso : `${t.toISOString().replace('T', ' ').slice(0, 16)} UTC`
}

/** Cleanup's rules in words: what it kept, what it deleted, over which names. */
function rulesLine(report: RunReport): string {
  const r = report.rules!
  const age = r.olderThan === '0' ? 'of any age' : `older than ${escape(r.olderThan)}`
  const names = r.names.map(n => `<code>${escape(n)}</code>`).join(', ')
  const benefits = r.protectBenefitFiles ? '; files a benefit lists are kept' : ''
  return `Rules: per name, keep the newest ${r.keep}, delete the rest ${age}${benefits}. Names: ${names}.`
}

/** Text of a message: escaped, with its `code` spans as code (no literal backticks). */
function text(message: string): string {
  return escape(message).replace(/`([^`]+)`/g, '<code>$1</code>')
}

/** A size that does not break over two lines in a narrow column. */
function nowrap(value: string): string {
  return value.replace(' ', '\u00a0')
}

export function escape(text: string): string {
  return text.replace(/[&<>"]/g, c => `&#${c.charCodeAt(0)};`)
}
