/** The upload mode's first phase: the local plan, then the planning reads (before any write). */
import { InputError } from '../../errors.js'
import type { ReleaseOptions } from '../../github/source.js'
import type { Inputs } from '../../inputs.js'
import { readAllBenefits, readTargetBenefits } from '../../polar/operations.js'
import type { BenefitDownloadables, FileRead } from '../../polar/types.js'
import { LiveFiles } from '../../live-files.js'
import { earlierVersions } from '../../replace.js'
import type { RunReport } from '../../run-report.js'
import { formatBytes } from '../../units.js'
import { planFiles, type Plan, type PlanOptions } from '../../upload/plan.js'
import type { Reads, UploadDeps } from './context.js'

/** What prepare reads: the planners' options, and what decides the planning reads. */
export type PrepareOptions = PlanOptions &
  ReleaseOptions &
  Pick<Inputs, 'replace' | 'benefitIds' | 'checksumsManifest'>

/**
 * The local plan first (a bad path must not show up as an API error), then the reads, started
 * here and awaited by every file before its first write: every planning check still comes
 * before any write, and the hash pass need not wait for them.
 */
export async function prepare(
  inputs: PrepareOptions,
  deps: UploadDeps,
  report: RunReport,
  scratch: string
): Promise<{ plan: Plan; reads: Promise<Reads> }> {
  const { client, logger } = deps
  // The file list is a read every later step needs: start it while the disk is scanned.
  const needExisting =
    inputs.replace || inputs.ifUnchanged === 'skip' || inputs.benefitIds.length > 0
  const ahead = new AbortController()
  const listing = needExisting ? client.listFiles(ahead.signal) : Promise.resolve([] as FileRead[])
  listing.catch(() => undefined) // observed below; a planning error must not leave it unhandled
  // So is the listing of every benefit (replace needs it), beside it.
  const all = inputs.replace ? readAllBenefits(client, 'replace', ahead.signal) : undefined
  all?.catch(() => undefined)

  let plan: Plan
  try {
    plan = inputs.release
      ? await (
          await import('../../github/source.js')
        ) // Octokit only for a release: cold start stays small
          .planRelease(inputs, {
            logger,
            retry: deps.retry,
            signal: deps.signal,
            existing: () => listing,
            tempRoot: scratch
          })
      : await planFiles(inputs)
  } catch (error) {
    ahead.abort() // a local mistake is the whole story: no API error or retry after it
    throw error
  }
  if (plan.files.length === 0) ahead.abort() // nothing to publish: the listing is not needed
  const manifest = inputs.checksumsManifest
  const clash = manifest === null ? undefined : plan.files.find(f => f.name === manifest)
  if (clash) {
    ahead.abort()
    throw new InputError(
      'checksums-manifest',
      `'${manifest}' is also the name of a published file (${clash.relativePath}). Choose another manifest name.`
    )
  }
  if (plan.hiddenSkipped > 0) {
    logger.info(
      `Skipped ${plan.hiddenSkipped} hidden file(s) (a name or folder starting with '.'); ` +
        'set include-hidden-files: true to publish them.'
    )
  }
  if (plan.unmatchedMessage) {
    if (inputs.ifNoFilesFound === 'warn') {
      logger.warning(plan.unmatchedMessage)
      report.warnings.push(plan.unmatchedMessage) // a green run missing a platform says so
    } else logger.info(plan.unmatchedMessage)
  }
  for (const warning of plan.warnings) {
    logger.warning(warning)
    report.warnings.push(warning)
  }
  report.hiddenSkipped = plan.hiddenSkipped
  if (plan.files.length > 0) logger.info(planLine(inputs, plan))
  const read = async (): Promise<Reads> => {
    // Independent reads go out together. The listing of every benefit carries those of
    // `benefit-ids` too: each is read once, by ID only when the listing is not read or lacks it.
    const targets = all
      ? all.then(
          benefits => readTargetBenefits(client, inputs.benefitIds, benefits),
          // Its own error (e.g. no benefits:read) comes after the checks of `benefit-ids`.
          () => readTargetBenefits(client, inputs.benefitIds)
        )
      : readTargetBenefits(client, inputs.benefitIds)
    targets.catch(() => undefined)
    const existing = await listing
    const found = {
      existing,
      targets: await targets,
      allBenefits: (await all) ?? [],
      liveFiles: new LiveFiles(client, existing)
    }
    for (const line of readsLines(inputs, plan, existing, found.targets)) logger.info(line)
    return found
  }
  const reads = plan.files.length > 0 ? read() : new Promise<Reads>(() => undefined)
  reads.catch(() => undefined) // observed by publish
  return { plan, reads }
}

/** The run's plan in one line, before any work: files, total size, version. */
function planLine(inputs: PrepareOptions, plan: Plan): string {
  const bytes = plan.files.reduce((sum, f) => sum + f.size, 0)
  const names = plan.files.map(f => f.name)
  const shown = names.length > 6 ? [...names.slice(0, 5), `… (${names.length - 5} more)`] : names
  const count = plan.files.length === 1 ? '1 file' : `${plan.files.length} files`
  const version = inputs.version ? ` as ${inputs.version}` : ' (no version)'
  return `${inputs.dryRun ? 'Plan (dry run)' : 'Plan'}: ${count}, ${formatBytes(bytes)}${version}: ${shown.join(', ')}`
}

/** Once the reads are in: the benefits it updates and the files it will replace. */
function readsLines(
  inputs: PrepareOptions,
  plan: Plan,
  existing: FileRead[],
  targets: BenefitDownloadables[]
): string[] {
  const lines: string[] = []
  if (targets.length > 0) {
    lines.push(`Benefits to update: ${targets.map(t => `${t.description} (${t.id})`).join(', ')}`)
  }
  if (!inputs.replace) return lines
  const earlier = plan.files.flatMap(f =>
    earlierVersions({ id: null, name: f.name, createdAt: null, version: inputs.version }, existing)
  )
  if (earlier.length > 0) {
    const list = earlier.map(f => `${f.name}${f.version ? ` ${f.version}` : ''}`)
    lines.push(
      `${inputs.dryRun ? 'Would replace' : 'Replaces'} ${earlier.length} earlier file(s) once every upload has succeeded and the ` +
        `benefits are updated (an unchanged one is reused instead): ${list.join(', ')}`
    )
  }
  return lines
}
