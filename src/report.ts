/** Outputs, the job summary and progress lines: the only module besides main.ts using @actions/core. */
import * as core from '@actions/core'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from './log.js'
import { renderSummary } from './summary.js'
import { formatBytes } from './units.js'

export { totalLine } from './summary.js'

export type FileStatus = 'created' | 'unchanged' | 'planned' | 'flagged'

export interface FileResult {
  id: string | null
  name: string
  path: string
  size: number
  mime_type: string
  sha256: string
  version: string | null
  status: FileStatus
  replaced_ids: string[]
}

export interface DeletedFile {
  id: string
  name: string
  created_at?: string
  version?: string | null
  size?: number
}

export interface KeptFile {
  id: string
  name: string
  reason: string
}

export interface RunReport {
  mode: 'upload' | 'cleanup'
  dryRun: boolean
  files: FileResult[]
  /** Deleted (or, in a dry run, to delete) with their names, for the summary. */
  deleted: DeletedFile[]
  kept: KeptFile[]
  patchedBenefits: { id: string; description?: string; before: string[]; after: string[] }[]
  failures: string[]
  /** Files that failed to upload (not in `files` nor the outputs): their summary rows. */
  failedFiles: { name: string; path: string; size: number; reason: string }[]
  /** Warnings of the run (ignored inputs, patterns that matched nothing, empty files). */
  warnings: string[]
  /** What to do next after a failure, when there is a clear step (the summary shows it). */
  next?: string
  /** Cleanup's rules as given, so the summary says why these files went. */
  rules?: { keep: number; olderThan: string; names: string[]; protectBenefitFiles: boolean }
  /** Matched files left out for being hidden (see include-hidden-files). */
  hiddenSkipped: number
  /** Why the run failed (its error's first line, scrubbed), if it did. */
  failure?: string
  /** The checksums manifest's name (`checksums-manifest`): not in the `checksums` output. */
  manifest?: string
  /** Polar API version notes (a retired pin, a coming removal), shown on top of the summary. */
  apiNotes?: string[]
}

export const coreLogger: Logger = {
  debug: m => core.debug(m),
  info: m => core.info(m),
  warning: m => core.warning(m)
}

export function emptyReport(mode: 'upload' | 'cleanup', dryRun: boolean): RunReport {
  return {
    mode,
    dryRun,
    files: [],
    deleted: [],
    kept: [],
    patchedBenefits: [],
    failures: [],
    failedFiles: [],
    warnings: [],
    hiddenSkipped: 0
  }
}

export function setOutputs(report: RunReport): void {
  const done = report.files // files that failed are not in the report, only in its failures
  // A dry run uploads and reuses nothing: its plan is in `files` and `deleted-ids`.
  const ids = report.dryRun ? [] : done.map(f => f.id).filter((id): id is string => id !== null)
  core.setOutput('file-ids', JSON.stringify(ids))
  core.setOutput('file-id', ids[0] ?? '')
  // Keys in the documented order, whatever order the results were built in.
  const files = done.map(f => ({
    id: f.id,
    name: f.name,
    path: f.path,
    size: f.size,
    mime_type: f.mime_type,
    sha256: f.sha256,
    version: f.version,
    status: f.status,
    replaced_ids: f.replaced_ids
  }))
  core.setOutput('files', JSON.stringify(files))
  core.setOutput('deleted-ids', JSON.stringify(report.deleted.map(d => d.id)))
  // Published files only: a flagged one is not downloadable.
  const checksums = checksumsText(
    done.filter(f => f.name !== report.manifest && f.status !== 'flagged')
  )
  core.setOutput('checksums', checksums)
  const dir = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'polar-checksums-'))
  const file = join(dir, 'SHA256SUMS')
  writeFileSync(file, checksums)
  core.setOutput('checksums-file', file)
}

/**
 * sha256sum's text for these files, as `sha256sum -c` and actions/attest's subject-checksums
 * read it: `<hex>  <name>` per file, sorted by name, LF line ends, a final LF. A name with a
 * backslash or a line break is escaped the way GNU sha256sum does (the line starts with `\`).
 */
export function checksumsText(files: { name: string; sha256: string }[]): string {
  return [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(f => {
      if (!/[\\\n\r]/.test(f.name)) return `${f.sha256}  ${f.name}\n`
      const name = f.name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
      return `\\${f.sha256}  ${name}\n`
    })
    .join('')
}

export async function writeSummary(report: RunReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderSummary(report)).write()
}

/**
 * Progress lines for long uploads: bytes as they are sent, %, and the rate since the last line
 * (not since the file was queued: a file waiting for a slot or a part in a retry would drag
 * an average down), at most every `everyMs`.
 */
export class Progress {
  private readonly files = new Map<
    string,
    { total: number; sent: number; lastSent: number; lastAt: number | null }
  >()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 5000
  ) {}

  start(name: string, total: number): void {
    this.files.set(name, { total, sent: 0, lastSent: 0, lastAt: null })
    if (!this.timer) {
      this.timer = setInterval(() => this.print(), this.everyMs)
      this.timer.unref()
    }
  }

  add(name: string, bytes: number): void {
    const f = this.files.get(name)
    if (!f) return
    f.lastAt ??= Date.now() // the rate counts from the first byte sent
    f.sent = Math.max(0, f.sent + bytes)
  }

  finish(name: string): void {
    this.files.delete(name)
    if (this.files.size === 0) this.stop()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private print(): void {
    const now = Date.now()
    for (const [name, f] of this.files) {
      if (f.lastAt === null) {
        this.logger.info(`${name}: waiting to start (${formatBytes(f.total)})`)
        continue
      }
      const pct = f.total ? Math.floor((f.sent / f.total) * 100) : 100
      const seconds = (now - f.lastAt) / 1000
      const rate = seconds > 0 ? Math.max(0, f.sent - f.lastSent) / seconds : 0
      f.lastSent = f.sent
      f.lastAt = now
      this.logger.info(
        `${name}: ${formatBytes(f.sent)} / ${formatBytes(f.total)} (${pct}%), ${formatBytes(rate)}/s`
      )
    }
  }
}
