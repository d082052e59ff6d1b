/**
 * Outputs, the job summary and the core logger: the only module besides main.ts (and post.ts,
 * the post step's edge) that uses @actions/core.
 */
import * as core from '@actions/core'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from './log.js'
import { checksumsText, type RunReport } from './run-report.js'
import { renderSummary } from './summary.js'

export const coreLogger: Logger = {
  debug: m => core.debug(m),
  info: m => core.info(m),
  warning: m => core.warning(m)
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

export async function writeSummary(report: RunReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderSummary(report)).write()
}
