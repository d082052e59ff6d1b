/**
 * Upload mode, as a sequence of phases, one file each:
 *   prepare (local plan, then reads) → publish-all (hash, upload or reuse; relabel reused
 *   files) → swap into benefits (until each swap holds) → retire earlier versions (then verify
 *   again).
 * Their results flow one way (Prepared → Outcome[] → the published files); the report is the
 * one thing every phase writes into, and a failure carries it out (RunFailure). Each phase
 * gets only the options it reads (prepare: the planners' and the planning reads').
 * Inputs, files, the named benefits and (for replace) benefits:read are all checked before
 * the first write; a failed upload means no benefit is touched and nothing is deleted.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Inputs } from '../../inputs.js'
import { emptyReport, type RunReport } from '../../run-report.js'
import type { PublishOptions } from '../../upload/publish.js'
import { rethrowWithReport, type Prepared, type UploadDeps } from './context.js'
import { prepare } from './prepare.js'
import { publishAll, publishManifest, relabelReused } from './publish-all.js'
import { retireEarlier } from './retire.js'
import { firstSwapRead, lookForFlags, publishedFiles, swapIntoBenefits } from './swap.js'

export type { UploadDeps }

export async function runUpload(inputs: Inputs, deps: UploadDeps): Promise<RunReport> {
  const report = emptyReport('upload', inputs.dryRun)
  const scratch = await mkdtemp(join(deps.tempRoot, 'polar-files-'))
  try {
    const { plan, reads } = await prepare(inputs, deps, report, scratch)
    if (plan.files.length === 0) return report
    // Hashing (seconds per GiB) starts at once; the reads finish meanwhile, before any write.
    const options = publishOptions(inputs)
    const { concurrency, dryRun, replace } = inputs
    const outcomes = await publishAll({ ...options, concurrency }, deps, plan, reads, report)
    const prepared: Prepared = { plan, ...(await reads) }
    // No published file has the manifest's name (checked in prepare).
    const manifest = inputs.checksumsManifest
    if (manifest) {
      outcomes.push(
        await publishManifest(manifest, options, deps, prepared, outcomes, report, scratch)
      )
    }
    await relabelReused({ dryRun }, deps, outcomes, report)
    // The swap's first benefit read does not depend on the flag check: both go out together
    // (the check still decides what the swap puts in).
    const first = dryRun ? undefined : firstSwapRead(deps, prepared)
    await lookForFlags({ dryRun, replace }, deps, prepared, outcomes)
    const own = publishedFiles(
      outcomes.filter(o => o.result.status !== 'flagged'),
      prepared.liveFiles
    )
    await swapIntoBenefits({ dryRun, replace }, deps, prepared, own, report, first)
    if (replace) await retireEarlier({ dryRun }, deps, prepared, own, report, outcomes)
    failIfFlagged(report)
    return report
  } catch (error) {
    rethrowWithReport(error, report)
  } finally {
    await rm(scratch, { recursive: true, force: true }) // downloaded assets can be gigabytes
  }
}

function publishOptions(inputs: Inputs): PublishOptions {
  return {
    version: inputs.version,
    partSize: inputs.partSize,
    reuseUnchanged: inputs.ifUnchanged === 'skip',
    dryRun: inputs.dryRun
  }
}

/** Flagged files fail the run, by name, once everything clean is published. */
function failIfFlagged(report: RunReport): void {
  const flagged = report.files.filter(f => f.status === 'flagged')
  if (flagged.length === 0) return
  const names = flagged.map(f => `${f.name} (${f.id})`).join(', ')
  report.failures.push(...flagged.map(f => `${f.name} (${f.id}): flagged as malicious by Polar`))
  throw new Error(
    `Polar flagged ${names} as malicious: its malware scan set flagged_malicious_at, so ` +
      'customers could not download it. Not published: no benefit was given it and no earlier ' +
      'version was replaced or deleted; it stays in Polar for your review. If it is a false ' +
      'positive, contact Polar support; otherwise rebuild from a clean machine and re-run.'
  )
}
