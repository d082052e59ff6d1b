/**
 * Upload mode: plan → hash → upload (or reuse) → update benefits → delete earlier versions.
 * Inputs, files, the named benefits and (for replace) benefits:read are all checked before
 * the first write; any failed upload means no benefit is touched and nothing is deleted.
 */
import type { Dispatcher } from 'undici'
import {
  AggregateFailure,
  errorMessage,
  InputError,
  PolarApiError,
  throwIfCancelled
} from './errors.js'
import type { Inputs } from './inputs.js'
import { Limiter } from './limiter.js'
import type { Logger } from './log.js'
import type { PolarClient } from './polar/client.js'
import { deleteFiles, readAllBenefits } from './polar/operations.js'
import type { BenefitDownloadables, FileRead } from './polar/types.js'
import {
  benefitsListing,
  earlierVersions,
  findUnchanged,
  swapBenefitFiles,
  type Swap
} from './replace.js'
import { emptyReport, type FileResult, type RunReport } from './report.js'
import type { RetryPolicy } from './retry.js'
import { hashFile } from './upload/hash.js'
import { effectivePartSize, layoutParts } from './upload/parts.js'
import { planFiles, type PlannedFile } from './upload/plan.js'
import { createPartPool, type PartPool } from './upload/pool.js'
import { uploadFile } from './upload/upload.js'

export interface ProgressSink {
  start(name: string, total: number): void
  add(name: string, bytes: number): void
  finish(name: string): void
}

export interface UploadDeps {
  client: PolarClient
  s3: Dispatcher
  logger: Logger
  retry: RetryPolicy
  progress: ProgressSink
  /** Prints a finished file's lines as one log group (uploads run concurrently). */
  group(title: string, lines: string[]): void
  /** Filled with created-but-incomplete file IDs, for a cancelled job to wait on. */
  incomplete: Set<string>
  /** Fires when the job is cancelled: no write starts after it. */
  cancel?: AbortSignal
  partTimeoutMs?: number
}

// Hashing is CPU-bound and this runs on 2-core runners: one file at a time keeps a core free
// for the uploads of files already hashed.
const HASH_CONCURRENCY = 1
// Files created ahead of their parts getting PUT slots (see UploadContext.admission).
const FILES_AHEAD = 2

interface Outcome {
  result: FileResult
  createdAt: string | null
  /** A reused file whose version label is to be updated once every upload has succeeded. */
  versionUpdate?: string
}

/** Failed runs still carry what they did, for the outputs and the summary. */
function fail(error: Error, report: RunReport): never {
  throw Object.assign(error, { report })
}

export async function runUpload(inputs: Inputs, deps: UploadDeps): Promise<RunReport> {
  const { client, logger } = deps
  const report = emptyReport('upload', inputs.dryRun)

  // The file list is a read that every later step needs: start it while the disk is scanned.
  const needExisting =
    inputs.replace || inputs.ifUnchanged === 'skip' || inputs.benefitIds.length > 0
  const listing = needExisting ? client.listFiles() : Promise.resolve([] as FileRead[])
  listing.catch(() => undefined) // observed below; a planning error must not leave it unhandled

  // 1. Local plan.
  const planned = await planFiles(inputs)
  if (planned.length === 0) {
    const message = `No files matched the patterns in \`files\` (${inputs.patterns.join(', ')}) under ${inputs.workingDirectory}.`
    if (inputs.ifNoFilesFound === 'error') {
      throw new InputError(
        'files',
        `${message.slice(0, -1)}. Check the paths, or set if-no-files-found: warn.`
      )
    }
    if (inputs.ifNoFilesFound === 'warn') logger.warning(message)
    else logger.info(message)
    return report
  }

  // 2. Reads: existing files, the named benefits, and (to protect customers) every benefit.
  const existing = await listing
  const targets = await readTargetBenefits(client, inputs.benefitIds)
  const names = new Set(planned.map(p => p.name))
  const hasEarlier = existing.some(f => f.service === 'downloadable' && names.has(f.name))
  const allBenefits =
    inputs.replace && hasEarlier ? await readAllBenefits(client, 'replace', 'replace: false') : []

  // 3. Hash, then upload or reuse, every file; one file's failure does not stop the others.
  const limits = {
    hashLimiter: new Limiter(HASH_CONCURRENCY),
    admission: new Limiter(FILES_AHEAD),
    pool: createPartPool(inputs.concurrency)
  }
  const settled = await Promise.allSettled(
    planned.map(file => processFile(file, inputs, deps, existing, limits))
  )
  const outcomes: Outcome[] = []
  const failed: { subject: string; error: unknown }[] = []
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') outcomes.push(s.value)
    else failed.push({ subject: planned[i].relativePath, error: s.reason })
  })
  report.files = outcomes.map(o => o.result)
  if (failed.length > 0) {
    report.failures.push(...failed.map(f => `${f.subject}: ${errorMessage(f.error)}`))
    fail(
      new AggregateFailure(
        `${failed.length} of ${planned.length} file(s) failed to upload; ` +
          'no benefit was changed and no earlier version was deleted.',
        failed
      ),
      report
    )
  }

  // 4. Version labels of reused files, now that every upload has succeeded.
  for (const o of outcomes) {
    if (!o.versionUpdate || inputs.dryRun) continue
    try {
      throwIfCancelled(deps.cancel)
      await client.updateFileVersion(o.result.id!, o.versionUpdate)
    } catch (error) {
      report.failures.push(`version of ${o.result.name} (${o.result.id}): ${errorMessage(error)}`)
    }
  }
  if (report.failures.length > 0) {
    fail(
      new Error(
        'Updating the version of reused files failed, so no benefit was changed and no earlier ' +
          `version was deleted:\n  - ${report.failures.join('\n  - ')}`
      ),
      report
    )
  }

  // 5. Swap new IDs into the named benefits, then delete unlisted earlier versions.
  const swaps = outcomes.map(o => ({
    result: o.result,
    newId: o.result.id ?? `(new ${o.result.name})`,
    replacedIds: earlierVersions(
      { id: o.result.id, name: o.result.name, createdAt: o.createdAt },
      existing
    ).map(f => f.id)
  }))
  const liveIds = new Set(existing.map(f => f.id))
  const after = new Map<string, string[]>()
  for (const target of targets) {
    try {
      after.set(target.id, await updateBenefit(target, swaps, liveIds, inputs.dryRun, deps, report))
    } catch (error) {
      report.failures.push(`benefit ${target.id}: ${errorMessage(error)}`)
    }
  }
  if (report.failures.length > 0) {
    fail(
      new Error(
        'Updating benefits failed' +
          `${inputs.replace ? ', so no earlier version was deleted' : ''}:\n  - ${report.failures.join('\n  - ')}`
      ),
      report
    )
  }
  if (!inputs.replace) return report

  const candidates = swaps.flatMap(s => s.replacedIds.map(id => ({ id, swap: s })))
  if (candidates.length === 0) return report
  // Re-read benefits right before deleting, so a benefit changed meanwhile still protects its files.
  const benefitsNow = inputs.dryRun
    ? allBenefits.map(b => ({ id: b.id, files: after.get(b.id) ?? b.properties.files }))
    : (await readAllBenefits(client, 'replace', 'replace: false')).map(b => ({
        id: b.id,
        files: b.properties.files
      }))
  const toDelete: typeof candidates = []
  for (const c of candidates) {
    const listedIn = benefitsListing(c.id, benefitsNow)
    if (listedIn.length === 0) {
      toDelete.push(c)
      continue
    }
    const reason = `still in benefit ${listedIn.join(', ')}`
    report.kept.push({ id: c.id, name: c.swap.result.name, reason })
    logger.warning(
      `Kept ${c.swap.result.name} (${c.id}): it is ${reason}. Add that benefit to ` +
        '`benefit-ids` so the new file takes its place, or remove the file from the benefit in Polar.'
    )
  }

  const byId = new Map(existing.map(f => [f.id, f]))
  const record = (c: (typeof candidates)[number]) => {
    report.deleted.push({
      id: c.id,
      name: c.swap.result.name,
      created_at: byId.get(c.id)?.created_at
    })
    c.swap.result.replaced_ids.push(c.id)
  }
  if (inputs.dryRun) {
    toDelete.forEach(record)
    for (const c of toDelete)
      logger.info(`Would delete earlier version ${c.swap.result.name} (${c.id})`)
    return report
  }
  const { deleted, failed: notDeleted } = await deleteFiles(client, toDelete, deps.cancel)
  for (const c of deleted) {
    record(c)
    logger.info(`Deleted earlier version ${c.swap.result.name} (${c.id})`)
  }
  if (notDeleted.length > 0) {
    const lines = notDeleted.map(f => `${f.item.swap.result.name} (${f.item.id}): ${f.reason}`)
    report.failures.push(...lines.map(l => `not deleted: ${l}`))
    fail(
      new Error(
        `Uploads succeeded, but ${lines.length} earlier version(s) could not be deleted ` +
          `(delete them in Polar, or re-run):\n  - ${lines.join('\n  - ')}`
      ),
      report
    )
  }
  return report
}

async function processFile(
  file: PlannedFile,
  inputs: Inputs,
  deps: UploadDeps,
  existing: FileRead[],
  limits: { hashLimiter: Limiter; admission: Limiter; pool: PartPool }
): Promise<Outcome> {
  const lines: string[] = []
  const partSize = effectivePartSize(file.size, inputs.partSize)
  const parts = layoutParts(file.size, partSize)
  const started = Date.now()
  try {
    const hashes = await limits.hashLimiter.run(() => {
      throwIfCancelled(deps.cancel)
      return hashFile(file.path, file.size, parts)
    })
    lines.push(
      `path: ${file.relativePath}`,
      `size: ${file.size} bytes, ${parts.length} part(s) of ≤ ${partSize} bytes`,
      `sha256: ${hashes.sha256Hex}`
    )
    const base: Omit<FileResult, 'id' | 'status'> = {
      name: file.name,
      path: file.relativePath,
      size: file.size,
      mime_type: file.mimeType,
      sha256: hashes.sha256Hex,
      version: inputs.version,
      replaced_ids: []
    }
    const reuse =
      inputs.ifUnchanged === 'skip'
        ? findUnchanged(file.name, hashes.sha256Hex, existing)
        : undefined

    if (reuse) {
      lines.push(`unchanged: reusing ${reuse.id} (same name and SHA-256)`)
      const versionUpdate =
        inputs.version && inputs.version !== reuse.version ? inputs.version : undefined
      if (versionUpdate) {
        lines.push(
          `version ${reuse.version ?? '(none)'} → ${versionUpdate}${inputs.dryRun ? ' (planned)' : ''}`
        )
      }
      return {
        result: {
          ...base,
          id: reuse.id,
          version: versionUpdate ?? reuse.version,
          status: inputs.dryRun ? 'planned' : 'unchanged'
        },
        createdAt: reuse.created_at,
        versionUpdate
      }
    }
    if (inputs.dryRun) {
      lines.push('would upload (dry run)')
      return { result: { ...base, id: null, status: 'planned' }, createdAt: null }
    }

    deps.progress.start(file.name, file.size)
    let read: FileRead
    try {
      read = await uploadFile(
        {
          client: deps.client,
          s3: deps.s3,
          pool: limits.pool,
          admission: limits.admission,
          incomplete: deps.incomplete,
          cancel: deps.cancel,
          retry: deps.retry,
          logger: deps.logger,
          partTimeoutMs: deps.partTimeoutMs ?? 300_000,
          onBytes: bytes => deps.progress.add(file.name, bytes),
          onRestart: () => deps.progress.start(file.name, file.size)
        },
        {
          path: file.path,
          name: file.name,
          mimeType: file.mimeType,
          size: file.size,
          version: inputs.version,
          parts,
          hashes
        }
      )
    } finally {
      deps.progress.finish(file.name)
    }
    const seconds = (Date.now() - started) / 1000
    lines.push(
      `created ${read.id} in ${seconds.toFixed(1)} s (${(file.size / 1e6 / Math.max(seconds, 0.001)).toFixed(1)} MB/s)`
    )
    return { result: { ...base, id: read.id, status: 'created' }, createdAt: read.created_at }
  } catch (error) {
    lines.push(`failed: ${errorMessage(error)}`)
    throw error
  } finally {
    deps.group(`${file.name} ← ${file.relativePath}`, lines)
  }
}

/** Planning check of `benefit-ids`: each exists in this organization and holds files. */
async function readTargetBenefits(
  client: PolarClient,
  ids: string[]
): Promise<BenefitDownloadables[]> {
  const out: BenefitDownloadables[] = []
  for (const id of ids) {
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
    out.push(benefit)
  }
  return out
}

/**
 * Swaps the new IDs into one benefit and PATCHes it; returns its file list afterwards.
 * The benefit is read again right before the PATCH (uploads can take long, and another job
 * may have changed it), and an ID we do not know is dropped only if Polar confirms it is gone.
 */
async function updateBenefit(
  planningCopy: BenefitDownloadables,
  swaps: Swap[],
  knownLive: Set<string>,
  dryRun: boolean,
  deps: UploadDeps,
  report: RunReport
): Promise<string[]> {
  const { client, logger } = deps
  const newIds = new Set(swaps.map(s => s.newId))
  for (let attempt = 0; ; attempt++) {
    const benefit = dryRun ? planningCopy : await client.getBenefit(planningCopy.id)
    // First try: IDs missing from the start-of-run listing are looked up. After a 422 (a listed
    // file was deleted since), every listed ID is, since the listing itself is out of date.
    const live = attempt === 0 ? new Set(knownLive) : new Set<string>()
    const toCheck = benefit.properties.files.filter(id => !live.has(id) && !newIds.has(id))
    if (toCheck.length > 0) for (const f of await client.getFiles(toCheck)) live.add(f.id)
    const change = swapBenefitFiles(benefit, swaps, live)
    if (change.droppedStale.length) {
      logger.warning(
        `Benefit ${change.benefitId} lists file(s) Polar no longer has (${change.droppedStale.join(', ')}); ` +
          'they are dropped from it.'
      )
    }
    if (!change.changed) return change.files
    if (!dryRun) {
      try {
        throwIfCancelled(deps.cancel)
        await client.patchBenefitFiles(change.benefitId, change.files, change.archived)
      } catch (error) {
        // A file listed there was deleted between our read and the PATCH: read again, once.
        const fileGone =
          error instanceof PolarApiError &&
          error.status === 422 &&
          /File not found/i.test(error.message)
        if (fileGone && attempt === 0) continue
        throw error
      }
    }
    report.patchedBenefits.push({
      id: change.benefitId,
      before: change.before,
      after: change.files
    })
    logger.info(
      `${dryRun ? 'Would update' : 'Updated'} benefit ${change.benefitId}: ${change.files.join(', ')}`
    )
    return change.files
  }
}
