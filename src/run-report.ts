/** The run's report: what each mode did, for the outputs, the summary and the log. Pure data. */

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
