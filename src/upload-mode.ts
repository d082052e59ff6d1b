/**
 * Upload mode, as a sequence of phases whose results flow one way:
 *   prepare (local plan, then reads) → publish (hash, upload or reuse) → relabel reused files →
 *   swap into benefits (until each swap holds) → retire earlier versions (then verify again).
 * Inputs, files, the named benefits and (for replace) benefits:read are all checked before
 * the first write; a failed upload means no benefit is touched and nothing is deleted.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Dispatcher } from 'undici'
import {
  AggregateFailure,
  CancelledError,
  errorMessage,
  InputError,
  PolarApiError,
  throwIfCancelled
} from './errors.js'
import type { Inputs } from './inputs.js'
import { Limiter } from './limiter.js'
import type { Logger } from './log.js'
import type { PolarClient } from './polar/client.js'
import { benefitListings, deleteFiles, readAllBenefits } from './polar/operations.js'
import type { BenefitDownloadables, FileRead } from './polar/types.js'
import {
  Catalog,
  converge,
  planSwap,
  readForSwap,
  stillHolds,
  type Mine,
  type SwapRead
} from './benefits.js'
import { earlierVersions, FLAGGED_REASON, higherVersions, isFlagged, isNewer } from './replace.js'
import { checksumsText, emptyReport, type RunReport } from './report.js'
import { formatBytes } from './units.js'
import type { RetryPolicy } from './retry.js'
import { planFiles, type Plan } from './upload/plan.js'
import { createPartPool } from './upload/pool.js'
import {
  FLAGGED_LINE,
  publishFile,
  type Limits,
  type Outcome,
  type ProgressSink,
  type PublishOptions
} from './upload/publish.js'

export type { ProgressSink }

export interface UploadDeps {
  client: PolarClient
  s3: Dispatcher
  logger: Logger
  retry: RetryPolicy
  progress: ProgressSink
  /** Prints a finished file's lines as one log group (uploads run concurrently). */
  group(title: string, lines: string[], failed?: unknown): void
  /** Filled with created-but-incomplete file IDs, for a cancelled job to wait on. */
  incomplete: Set<string>
  /** Fires when the job is cancelled: no write starts after it. */
  cancel?: AbortSignal
  partTimeoutMs?: number
  /** RUNNER_TEMP: a scratch folder of this run goes there (downloads, the manifest). */
  tempRoot: string
}

// One file hashed at a time: its two hashes (whole file, parts) already take both cores of a
// runner, on worker threads, while this thread drives the uploads of files already hashed.
const HASH_CONCURRENCY = 1
// Pools' worth of parts created ahead of getting PUT slots (see UploadContext.admission): two
// large files, or as many one-part files as two pools hold.
const FILES_AHEAD = 2
/** Retire rounds: delete, verify this run's swaps, re-apply what another job undid, again. */
const RETIRE_ROUNDS = 3

/** What every phase after `prepare` works from. */
interface Prepared {
  plan: Plan
  /** Every file of the organization at the start of the run. */
  existing: FileRead[]
  /** The benefits in `benefit-ids`, as first read. */
  targets: BenefitDownloadables[]
  /** Every downloadables benefit (read when replacing: proves benefits:read before writes). */
  allBenefits: BenefitDownloadables[]
  catalog: Catalog
}

/** Failed runs still carry what they did, for the outputs and the summary. */
function withReport(error: unknown, report: RunReport): never {
  throw Object.assign(error instanceof Error ? error : new Error(String(error)), { report })
}

export async function runUpload(inputs: Inputs, deps: UploadDeps): Promise<RunReport> {
  const report = emptyReport('upload', inputs.dryRun)
  const scratch = await mkdtemp(join(deps.tempRoot, 'polar-files-'))
  try {
    const { plan, reads } = await prepare(inputs, deps, report, scratch)
    if (plan.files.length === 0) return report
    // Hashing (seconds per GiB) starts at once; the reads finish meanwhile, before any write.
    const outcomes = await publish(inputs, deps, plan, reads, report)
    const prepared: Prepared = { plan, ...(await reads) }
    if (inputs.checksumsManifest) {
      outcomes.push(await publishManifest(inputs, deps, prepared, outcomes, report, scratch))
    }
    await relabelReused(inputs, deps, outcomes, report)
    // The swap's first benefit read does not depend on the flag check: both go out together
    // (the check still decides what the swap puts in).
    const first = inputs.dryRun ? undefined : firstSwapRead(deps, prepared)
    await lookForFlags(inputs, deps, prepared, outcomes)
    const mine = publishedFiles(
      outcomes.filter(o => o.result.status !== 'flagged'),
      prepared.catalog
    )
    await swapIntoBenefits(inputs, deps, prepared, mine, report, first)
    if (inputs.replace) await retireEarlier(inputs, deps, prepared, mine, report, outcomes)
    failIfFlagged(report)
    return report
  } catch (error) {
    withReport(error, report)
  } finally {
    await rm(scratch, { recursive: true, force: true }) // downloaded assets can be gigabytes
  }
}

/** What the planning reads found (the file listing, the benefits). */
type Reads = Omit<Prepared, 'plan'>

/**
 * The local plan first (a bad path must not show up as an API error), then the reads, started
 * here and awaited by every file before its first write: every planning check still comes
 * before any write, and the hash pass need not wait for them.
 */
async function prepare(
  inputs: Inputs,
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
          await import('./github/source.js')
        ) // Octokit only for a release: cold start stays small
          .planRelease(inputs, {
            logger,
            retry: deps.retry,
            cancel: deps.cancel,
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
      catalog: new Catalog(client, existing)
    }
    for (const line of readsLines(inputs, plan, existing, found.targets)) logger.info(line)
    return found
  }
  const reads = plan.files.length > 0 ? read() : new Promise<Reads>(() => undefined)
  reads.catch(() => undefined) // observed by publish
  return { plan, reads }
}

/** The run's plan in one line, before any work: files, total size, version. */
function planLine(inputs: Inputs, plan: Plan): string {
  const bytes = plan.files.reduce((sum, f) => sum + f.size, 0)
  const names = plan.files.map(f => f.name)
  const shown = names.length > 6 ? [...names.slice(0, 5), `… (${names.length - 5} more)`] : names
  const count = plan.files.length === 1 ? '1 file' : `${plan.files.length} files`
  const version = inputs.version ? ` as ${inputs.version}` : ' (no version)'
  return `${inputs.dryRun ? 'Plan (dry run)' : 'Plan'}: ${count}, ${formatBytes(bytes)}${version}: ${shown.join(', ')}`
}

/** Once the reads are in: the benefits it updates and the files it will replace. */
function readsLines(
  inputs: Inputs,
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

/**
 * Hash, then upload or reuse, every file; one file's failure does not stop the others. A failed
 * planning read fails the run as itself, at once (no file has written anything by then).
 */
async function publish(
  inputs: Inputs,
  deps: UploadDeps,
  plan: Plan,
  reads: Promise<Reads>,
  report: RunReport
): Promise<Outcome[]> {
  const existing = reads.then(r => r.existing)
  existing.catch(() => undefined) // a file cancelled before it awaits this must not crash the run
  // A failed read ends the run: no file starts hashing after it.
  const readFailed = new AbortController()
  let readError: unknown
  reads.catch((error: unknown) => {
    readError = error
    readFailed.abort(new CancelledError('not published: a planning read failed (see the error)'))
  })
  // Groups in plan order, whatever order the files finish in. A file stopped by a failed read
  // (a bad token) has no group: the run's error says it once, not once per file.
  const group = inPlanOrder(plan.files.length, (title, lines, failed) => {
    const runLevel =
      readFailed.signal.aborted && (failed === readError || failed instanceof CancelledError)
    if (!runLevel) deps.group(title, lines, failed)
  })
  const cancel = deps.cancel ? AbortSignal.any([deps.cancel, readFailed.signal]) : readFailed.signal
  const pool = createPartPool(inputs.concurrency)
  const limits: Limits = {
    hash: new Limiter(HASH_CONCURRENCY),
    admission: new Limiter(FILES_AHEAD * pool.limit),
    pool
  }
  const options = publishOptions(inputs)
  const files = Promise.allSettled(
    plan.files.map((file, i) =>
      publishFile(file, options, existing, limits, { ...deps, cancel, group: group(i) })
    )
  )
  const settled = await Promise.race([
    files,
    reads.then(() => new Promise<never>(() => undefined))
  ]).catch(async (error: unknown) => {
    await files // stopped by readFailed: their log groups come before the run's error
    throw error
  })
  // A file that failed before the reads ended (e.g. it changed while hashed) must not hide a
  // failed read (a 401 says more): the reads settle first, and their error wins.
  if (settled.some(s => s.status === 'rejected')) await reads
  const outcomes: Outcome[] = []
  const failed: { subject: string; error: unknown }[] = []
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') outcomes.push(s.value)
    else {
      const file = plan.files[i]
      failed.push({ subject: file.relativePath, error: s.reason })
      report.failedFiles.push({
        name: file.name,
        path: file.relativePath,
        size: file.size,
        reason: errorMessage(s.reason)
      })
    }
  })
  report.files = outcomes.map(o => o.result)
  if (failed.length > 0) {
    report.failures.push(...failed.map(f => `${f.subject}: ${errorMessage(f.error)}`))
    report.next =
      inputs.ifUnchanged === 'skip'
        ? 'Re-run the job: the files that completed are reused (if-unchanged: skip), so only the failed ones upload again.'
        : 'Re-run the job (with if-unchanged: upload every file uploads again; skip would reuse the files that completed).'
    throw new AggregateFailure(
      `${failed.length} of ${plan.files.length} file(s) failed to upload; ` +
        'no benefit was changed and no earlier version was deleted.',
      failed
    )
  }
  return outcomes
}

type Group = (title: string, lines: string[], failed?: unknown) => void

/** Per file index, a `group` that prints once every file before it has printed. */
function inPlanOrder(count: number, print: Group): (index: number) => Group {
  const waiting: (Parameters<Group> | undefined)[] = new Array<Parameters<Group> | undefined>(count)
  let next = 0
  return index =>
    (...args) => {
      waiting[index] = args
      while (next < count && waiting[next]) {
        print(...waiting[next]!)
        waiting[next++] = undefined
      }
    }
}

/**
 * `checksums-manifest`: the `checksums` text of the files published, as one more downloadable
 * file under the same rules (reused when unchanged, swapped into benefits, replacing).
 */
async function publishManifest(
  inputs: Inputs,
  deps: UploadDeps,
  { existing }: Prepared,
  outcomes: Outcome[],
  report: RunReport,
  scratch: string
): Promise<Outcome> {
  const name = inputs.checksumsManifest! // no published file has it (checked in prepare)
  const text = checksumsText(outcomes.map(o => o.result).filter(r => r.status !== 'flagged'))
  const path = join(scratch, 'checksums-manifest')
  await writeFile(path, text)
  const limits: Limits = {
    hash: new Limiter(1),
    admission: new Limiter(1),
    pool: createPartPool(1)
  }
  const options = publishOptions(inputs)
  const file = {
    path,
    relativePath: name,
    name,
    size: Buffer.byteLength(text),
    mimeType: 'text/plain'
  }
  report.manifest = name
  try {
    const outcome = await publishFile(file, options, Promise.resolve(existing), limits, deps)
    report.files.push(outcome.result)
    return outcome
  } catch (error) {
    report.failures.push(`${name}: ${errorMessage(error)}`)
    throw new Error(
      `The checksums manifest ${name} failed to upload; no benefit was changed and no earlier ` +
        `version was deleted: ${errorMessage(error)}`,
      { cause: error }
    )
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

/** Version labels of reused files, now that every upload has succeeded. */
async function relabelReused(
  inputs: Inputs,
  deps: UploadDeps,
  outcomes: Outcome[],
  report: RunReport
): Promise<void> {
  if (inputs.dryRun) return
  for (const o of outcomes) {
    if (!o.relabel) continue
    try {
      throwIfCancelled(deps.cancel)
      await deps.client.updateFileVersion(o.result.id!, o.relabel)
      deps.logger.info(
        `Version of ${o.result.name} (${o.result.id}): ${o.result.version ?? '(none)'} → ${o.relabel}`
      )
      o.result.version = o.relabel // only now is it true
    } catch (error) {
      report.failures.push(`version of ${o.result.name} (${o.result.id}): ${errorMessage(error)}`)
    }
  }
  if (report.failures.length > 0) {
    throw new Error(
      'Updating the version of reused files failed, so no benefit was changed and no earlier ' +
        `version was deleted:\n  - ${report.failures.join('\n  - ')}`
    )
  }
}

/**
 * Polar scans an upload after it completes, with no documented delay: before a new file goes
 * into a benefit or replaces anything, read it once more. (The benefit swap reads these same
 * files through the catalog, so with benefits this read costs nothing extra.)
 */
async function lookForFlags(
  inputs: Inputs,
  deps: UploadDeps,
  prepared: Prepared,
  outcomes: Outcome[]
): Promise<void> {
  if (inputs.dryRun || (prepared.targets.length === 0 && !inputs.replace)) return
  const created = outcomes.filter(o => o.result.status === 'created' && o.result.id)
  if (created.length === 0) return
  const live = await prepared.catalog.live(created.map(o => o.result.id!))
  for (const o of created) {
    const file = live.get(o.result.id!)
    if (file && isFlagged(file)) {
      o.result.status = 'flagged'
      deps.logger.warning(`${o.result.name} (${o.result.id}): ${FLAGGED_LINE}.`)
    }
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

/** The files this run publishes, as the swap and replace rules see them. */
function publishedFiles(outcomes: Outcome[], catalog: Catalog): Mine[] {
  return outcomes.map(({ result, createdAt, file }) => {
    if (file) catalog.add(file) // its completion's answer: no lookup before the swap
    const mine: Mine = {
      id: result.id ?? `(new ${result.name})`,
      name: result.name,
      createdAt,
      version: result.version
    }
    if (result.id === null) {
      // A dry run's file that does not exist yet: known to the swap rules, never looked up.
      catalog.add({
        id: mine.id,
        name: mine.name,
        service: 'downloadable',
        version: mine.version,
        created_at: new Date(8.64e15).toISOString(),
        is_uploaded: true
      } as FileRead)
    }
    return mine
  })
}

/** Swap the new IDs into each benefit of `benefit-ids`, until a fresh read shows it holding. */
async function swapIntoBenefits(
  inputs: Inputs,
  deps: UploadDeps,
  { targets, catalog, existing }: Prepared,
  mine: Mine[],
  report: RunReport,
  first?: Promise<SwapRead>
): Promise<void> {
  for (const [i, target] of targets.entries()) {
    try {
      if (inputs.dryRun) {
        const live = await catalog.live([...target.properties.files, ...mine.map(m => m.id)])
        const change = planSwap(target, mine, live)
        if (change.changed) {
          report.patchedBenefits.push({
            id: target.id,
            description: target.description,
            before: change.before,
            after: change.files
          })
          deps.logger.info(
            `Would update benefit ${benefitName(target)}: ${swapText(change.before, change.files, existing, mine)}`
          )
        }
        continue
      }
      const outcome = await converge(
        target.id,
        mine,
        catalog,
        deps,
        target.properties.files,
        i === 0 ? first : undefined
      )
      if (outcome.patched) {
        report.patchedBenefits.push({
          id: target.id,
          description: target.description,
          before: outcome.before,
          after: outcome.after
        })
        deps.logger.info(
          `Updated benefit ${benefitName(target)}: ${swapText(outcome.before, outcome.after, existing, mine)}`
        )
      }
    } catch (error) {
      report.failures.push(`benefit ${target.id}: ${errorMessage(error)}`)
      throw new Error(
        (inputs.replace
          ? 'Updating benefits failed, so no earlier version was deleted:'
          : 'Updating benefits failed:') + `\n  - ${report.failures.join('\n  - ')}`,
        { cause: error }
      )
    }
  }
}

/** The first benefit's read for its swap, started now (one at a time: later ones would age). */
function firstSwapRead(deps: UploadDeps, { targets }: Prepared): Promise<SwapRead> | undefined {
  if (targets.length === 0) return undefined
  const read = readForSwap(deps.client, targets[0].id)
  read.catch(() => undefined) // awaited by the swap; a failed flag check must not leave it unhandled
  return read
}

function benefitName(b: BenefitDownloadables): string {
  return `${b.description} (${b.id})`
}

/** A benefit's change by file name (`app.zip: 946b8b1a → c4cb184b`), not a list of UUIDs. */
function swapText(before: string[], after: string[], existing: FileRead[], mine: Mine[]): string {
  const name = (id: string) =>
    mine.find(m => m.id === id)?.name ?? existing.find(f => f.id === id)?.name ?? 'a file'
  const short = (id: string) => (id.startsWith('(new ') ? 'the new upload' : id.slice(0, 8))
  const added = after.filter(id => !before.includes(id))
  const removed = before.filter(id => !after.includes(id))
  const parts: string[] = []
  for (const old of removed) {
    const i = added.findIndex(a => name(a) === name(old))
    if (i >= 0) parts.push(`${name(old)} ${short(old)} → ${short(added.splice(i, 1)[0])}`)
    else parts.push(`${name(old)} ${short(old)} removed`)
  }
  for (const a of added) parts.push(`${name(a)} ${short(a)} added`)
  return `${parts.join(', ') || 'reordered'} (${after.length === 1 ? '1 file' : `${after.length} files`})`
}

interface Candidate {
  file: FileRead
  mine: Mine
}

/**
 * Delete the earlier versions of the published files that no benefit lists, then check that
 * this run's swaps still hold: another job's PATCH built from an old read can land late and
 * put an old ID back. If so, apply the swap again and retire what it freed, a few rounds.
 */
async function retireEarlier(
  inputs: Inputs,
  deps: UploadDeps,
  prepared: Prepared,
  published: Mine[],
  report: RunReport,
  outcomes: Outcome[]
): Promise<void> {
  const { client, logger } = deps
  let mine = published
  const targetIds = new Set(prepared.targets.map(t => t.id))
  const gone = new Set<string>()
  let listedBy = new Map<string, string[]>()
  let candidates: Candidate[] = []
  for (let round = 1; round <= RETIRE_ROUNDS; round++) {
    // Which benefits list what, read beside the file listing when the run already knows it has
    // earlier versions to retire (else only once the listing shows some).
    const early =
      !inputs.dryRun && (round > 1 || mine.some(m => earlierVersions(m, prepared.existing).length))
        ? readAllBenefits(client, 'replace')
        : undefined
    early?.catch(() => undefined) // awaited below, or not needed
    // Read again: files of other jobs of this release may have appeared since the start.
    const files = inputs.dryRun ? prepared.existing : await client.listFiles()
    if (round === 1) {
      mine = withoutLateFlags(files, mine, outcomes, logger)
      reportHigherVersions(files, mine, report, logger, inputs.dryRun)
      if (!inputs.dryRun) await checkStillPublished(files, mine, deps)
    }
    candidates = mine.flatMap(m =>
      earlierVersions(m, files)
        .filter(f => !gone.has(f.id))
        .map(file => ({ file, mine: m }))
    )
    // A flagged earlier version is left for Polar's review, as cleanup leaves it.
    for (const c of candidates.filter(c => round === 1 && isFlagged(c.file))) {
      report.kept.push({ id: c.file.id, name: c.mine.name, reason: FLAGGED_REASON })
    }
    candidates = candidates.filter(c => !isFlagged(c.file))
    if (candidates.length === 0) return
    listedBy = benefitListings(
      inputs.dryRun
        ? plannedBenefits(prepared.allBenefits, report)
        : await (early ?? readAllBenefits(client, 'replace'))
    )
    const free = candidates.filter(c => !listedBy.has(c.file.id))
    if (inputs.dryRun) {
      for (const c of free) {
        record(report, c)
        logger.info(
          `Would delete earlier version ${c.mine.name}${c.file.version ? ` ${c.file.version}` : ''} (${formatBytes(c.file.size)}, ${c.file.id})`
        )
      }
      break
    }
    const { deleted, failed } = await deleteFiles(
      client,
      free.map(c => ({ ...c, id: c.file.id })),
      deps.cancel
    )
    for (const c of deleted) {
      gone.add(c.file.id)
      record(report, c)
      logger.info(
        `Deleted earlier version ${c.mine.name}${c.file.version ? ` ${c.file.version}` : ''} (${formatBytes(c.file.size)}, ${c.file.id})`
      )
    }
    // A run exits only when its own swaps hold on a fresh read after its deletes (even when
    // some of them failed): a late PATCH built from an old read may have undone them.
    const broken = await repairSwaps(targetIds, mine, prepared, deps)
    if (failed.length > 0) {
      const lines = failed.map(f => `${f.item.mine.name} (${f.item.id}): ${f.reason}`)
      report.failures.push(...lines.map(l => `not deleted: ${l}`))
      throw new Error(
        `Uploads succeeded, but ${lines.length} earlier version(s) could not be deleted ` +
          `(delete them in Polar, or re-run):\n  - ${lines.join('\n  - ')}`
      )
    }
    const inTargets = candidates.some(c => listedBy.get(c.file.id)?.some(b => targetIds.has(b)))
    if (broken === 0 && !inTargets) break
  }
  for (const c of candidates.filter(c => !gone.has(c.file.id) && listedBy.has(c.file.id))) {
    keepListed(c, listedBy.get(c.file.id)!, targetIds, inputs.dryRun, report, logger)
  }
}

/**
 * A file flagged after the swap (the scan is asynchronous): it replaces nothing, and the run
 * fails naming it. It was swapped in already, so say where to take it out.
 */
function withoutLateFlags(
  files: FileRead[],
  mine: Mine[],
  outcomes: Outcome[],
  logger: Logger
): Mine[] {
  const flagged = new Set(files.filter(isFlagged).map(f => f.id))
  for (const o of outcomes) {
    if (o.result.status !== 'created' || !flagged.has(o.result.id!)) continue
    o.result.status = 'flagged'
    logger.warning(
      `${o.result.name} (${o.result.id}): ${FLAGGED_LINE}. Polar flagged it after it was put ` +
        'into the benefits: remove it from them in Polar; no earlier version was deleted.'
    )
  }
  return mine.filter(m => !flagged.has(m.id))
}

/** Re-applies this run's swap to each benefit a fresh read shows undone; how many there were. */
async function repairSwaps(
  targetIds: Set<string>,
  mine: Mine[],
  prepared: Prepared,
  deps: UploadDeps
): Promise<number> {
  let broken = 0
  const ids = [...targetIds]
  // Every benefit read at once; a swap found undone is applied again, one benefit at a time.
  const holds = await Promise.all(
    ids.map(id => stillHolds(id, mine, prepared.catalog, deps.client))
  )
  for (const id of ids.filter((_, i) => !holds[i])) {
    broken++
    deps.logger.warning(
      `Benefit ${id}: another job's update, made from an older read, undid this run's swap ` +
        'after it was verified; applying it again.'
    )
    await converge(id, mine, prepared.catalog, deps)
  }
  return broken
}

function record(report: RunReport, c: Candidate): void {
  report.deleted.push({
    id: c.file.id,
    name: c.mine.name,
    created_at: c.file.created_at,
    version: c.file.version,
    size: c.file.size
  })
  report.files.find(f => f.name === c.mine.name)?.replaced_ids.push(c.file.id)
}

function keepListed(
  c: Candidate,
  benefits: string[],
  targetIds: Set<string>,
  dryRun: boolean,
  report: RunReport,
  logger: Logger
): void {
  const keep = dryRun ? 'Would keep' : 'Kept'
  const mine = benefits.filter(b => targetIds.has(b))
  const others = benefits.filter(b => !targetIds.has(b))
  if (others.length > 0) {
    report.kept.push({
      id: c.file.id,
      name: c.mine.name,
      reason: `in benefit ${others.join(', ')}`
    })
    logger.warning(
      `${keep} ${c.mine.name} (${c.file.id}): benefit ${others.join(', ')} lists it and is not in ` +
        '`benefit-ids`, so deleting it would take the download from its customers. Add that ' +
        'benefit to `benefit-ids` so the new file takes its place, or remove the file from it in Polar.'
    )
  } else {
    report.kept.push({
      id: c.file.id,
      name: c.mine.name,
      reason: `listed again in benefit ${mine.join(', ')}`
    })
    logger.warning(
      `${keep} ${c.mine.name} (${c.file.id}): another job of this release put it back into ` +
        `benefit ${mine.join(', ')} while this run retired it. Re-run this job, or let cleanup ` +
        'mode remove it later.'
    )
  }
}

/** Same-name files a higher version protects: kept, and said so. */
function reportHigherVersions(
  files: FileRead[],
  mine: Mine[],
  report: RunReport,
  logger: Logger,
  dryRun: boolean
): void {
  for (const m of mine) {
    for (const f of higherVersions(m, files)) {
      report.kept.push({ id: f.id, name: f.name, reason: `newer version ${f.version}` })
      logger.info(
        `${dryRun ? 'Would keep' : 'Kept'} ${f.name} (${f.id}): newer version ${f.version} than this run's ${m.version}.`
      )
    }
  }
}

/**
 * A published file that is gone by now was replaced by a newer upload of its name (another
 * job of this release): fine, said so. Gone with nothing newer is someone else's delete.
 */
async function checkStillPublished(files: FileRead[], mine: Mine[], deps: UploadDeps) {
  const missing = mine.filter(m => !files.some(f => f.id === m.id))
  if (missing.length === 0) return
  const found = new Set((await deps.client.getFiles(missing.map(m => m.id))).map(f => f.id))
  for (const m of missing.filter(m => !found.has(m.id))) {
    const newer = files.find(f => isNewer(f, m))
    if (!newer) {
      throw new Error(
        `${m.name} (${m.id}) was deleted while this run was publishing it, and no newer file ` +
          'of that name exists. Re-run the job.'
      )
    }
    deps.logger.info(
      `${m.name} (${m.id}) was replaced meanwhile by a newer upload of that name (${newer.id}).`
    )
  }
}

/** In a dry run: every benefit as it would be after this run's swaps. */
function plannedBenefits(
  all: BenefitDownloadables[],
  report: RunReport
): { id: string; files: string[] }[] {
  const after = new Map(report.patchedBenefits.map(b => [b.id, b.after]))
  return all.map(b => ({ id: b.id, files: after.get(b.id) ?? b.properties.files }))
}

/**
 * Planning check of `benefit-ids`: each exists in this organization and holds files. Those in
 * `listed` (the listing of every downloadables benefit, when it was read) are not read again.
 */
async function readTargetBenefits(
  client: PolarClient,
  ids: string[],
  listed: BenefitDownloadables[] = []
): Promise<BenefitDownloadables[]> {
  return Promise.all(ids.map(id => listed.find(b => b.id === id) ?? readTargetBenefit(client, id)))
}

async function readTargetBenefit(client: PolarClient, id: string): Promise<BenefitDownloadables> {
  let benefit: BenefitDownloadables
  try {
    benefit = await client.getBenefit(id)
  } catch (error) {
    if (error instanceof PolarApiError && error.status === 404) {
      throw new InputError(
        'benefit-ids',
        `benefit ${id} does not exist in this organization. Copy the ID of a downloadables benefit from Polar.`
      )
    }
    throw error
  }
  if (benefit.type !== 'downloadables') {
    throw new InputError(
      'benefit-ids',
      `benefit ${id} is a '${benefit.type}' benefit; only downloadables benefits hold files.`
    )
  }
  return benefit
}
