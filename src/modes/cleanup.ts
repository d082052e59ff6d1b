/**
 * Cleanup mode: per name (selected by `names`), keep the newest `keep` files, and of the rest
 * delete those older than `older-than`, never one that a downloadables benefit lists (unless
 * protect-benefit-files is off). Deletes run in a bounded pool; failures are collected.
 */
import { minimatch } from 'minimatch'
import { RunFailure } from '../errors.js'
import type { Inputs } from '../inputs.js'
import type { Logger } from '../log.js'
import type { PolarClient } from '../polar/client.js'
import { benefitListings, deleteFiles, readAllBenefits } from '../polar/operations.js'
import type { FileRead } from '../polar/types.js'
import { FLAGGED_REASON, isFlagged } from '../replace.js'
import { emptyReport, type KeptFile, type RunReport } from '../run-report.js'
import { formatBytes } from '../units.js'

export interface CleanupDecision {
  delete: FileRead[]
  kept: KeptFile[]
}

/** `names`: glob patterns over file names; `!` patterns exclude. Pure. */
export function nameSelector(patterns: string[]): (name: string) => boolean {
  const include = patterns.filter(p => !p.startsWith('!'))
  const exclude = patterns.filter(p => p.startsWith('!')).map(p => p.slice(1))
  const opts = { dot: true, nocomment: true, nonegate: true }
  return name =>
    include.some(p => minimatch(name, p, opts)) && !exclude.some(p => minimatch(name, p, opts))
}

/** What to delete and what to keep (and why). Pure. */
export function decideCleanup(
  files: FileRead[],
  options: { names: string[]; keep: number; olderThanMs: number; now: number },
  listedBy: Map<string, string[]>
): CleanupDecision {
  const selected = nameSelector(options.names)
  const groups = new Map<string, FileRead[]>()
  const decision: CleanupDecision = { delete: [], kept: [] }
  for (const f of files) {
    if (f.service !== 'downloadable' || !selected(f.name)) continue
    // Never deleted (Polar's review), never one of the `keep` newest (customers get 403).
    if (isFlagged(f)) {
      decision.kept.push({ id: f.id, name: f.name, reason: FLAGGED_REASON })
      continue
    }
    const group = groups.get(f.name) ?? []
    group.push(f)
    groups.set(f.name, group)
  }
  for (const name of [...groups.keys()].sort()) {
    const group = groups
      .get(name)!
      .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || (a.id < b.id ? -1 : 1))
    group.forEach((f, i) => {
      const age = options.now - Date.parse(f.created_at)
      let reason: string | null = null
      if (i < options.keep) reason = `newest ${options.keep}`
      else if (options.olderThanMs > 0 && age <= options.olderThanMs) reason = 'not old enough'
      else if (listedBy.has(f.id)) reason = `in benefit ${listedBy.get(f.id)!.join(', ')}`
      if (reason) decision.kept.push({ id: f.id, name, reason })
      else decision.delete.push(f)
    })
  }
  return decision
}

export async function runCleanup(
  inputs: Inputs,
  deps: { client: PolarClient; logger: Logger; signal?: AbortSignal }
): Promise<RunReport> {
  const { client, logger } = deps
  const report = emptyReport('cleanup', inputs.dryRun)
  report.rules = {
    keep: inputs.keep,
    olderThan: inputs.olderThanText,
    names: inputs.names,
    protectBenefitFiles: inputs.protectBenefitFiles
  }
  const files = await client.listFiles()
  const listedBy = inputs.protectBenefitFiles
    ? benefitListings(await readAllBenefits(client, 'protect-benefit-files'))
    : new Map<string, string[]>()
  const decision = decideCleanup(
    files,
    { names: inputs.names, keep: inputs.keep, olderThanMs: inputs.olderThanMs, now: Date.now() },
    listedBy
  )
  report.kept = decision.kept
  // The kept files worth a look (most are kept for being the newest of their name).
  for (const k of decision.kept.filter(
    k => k.reason.startsWith('in benefit') || k.reason === FLAGGED_REASON
  )) {
    logger.info(`${inputs.dryRun ? 'Would keep' : 'Kept'} ${k.name} (${k.id}): ${k.reason}`)
  }
  const record = (f: FileRead) => {
    report.deleted.push({
      id: f.id,
      name: f.name,
      created_at: f.created_at,
      version: f.version,
      size: f.size
    })
  }
  if (inputs.dryRun) {
    decision.delete.forEach(record)
    for (const f of decision.delete) logger.info(`Would delete ${describeFile(f)}`)
    return report
  }
  const { deleted, failed } = await deleteFiles(client, decision.delete, deps.signal)
  for (const f of deleted) {
    record(f)
    logger.info(`Deleted ${describeFile(f)}`)
  }
  for (const { item: f, reason } of failed) report.failures.push(`${f.name} (${f.id}): ${reason}`)
  if (report.failures.length > 0) {
    throw new RunFailure(
      new Error(
        `${report.failures.length} file(s) could not be deleted:\n  - ${report.failures.join('\n  - ')}`
      ),
      report
    )
  }
  return report
}

/** A file as the log names it: name, version, size, ID and creation time. */
function describeFile(f: FileRead): string {
  const version = f.version ? ` ${f.version}` : ''
  return `${f.name}${version} (${formatBytes(f.size)}, ${f.id}, created ${f.created_at})`
}
