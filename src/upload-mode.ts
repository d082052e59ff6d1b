/**
 * Upload mode: plan → hash → upload (or reuse) → update benefits → delete earlier versions.
 * Every read and check happens before the first write; any failed upload means no benefit is
 * touched and nothing is deleted.
 */
import type { Dispatcher } from 'undici'
import { AggregateFailure, errorMessage, InputError, PlanError, PolarApiError } from './errors.js'
import type { Inputs } from './inputs.js'
import { Limiter, mapSettled } from './limiter.js'
import type { Logger } from './log.js'
import type { PolarClient } from './polar/client.js'
import type { BenefitDownloadables, FileRead } from './polar/types.js'
import {
  benefitsListing,
  earlierVersions,
  findUnchanged,
  swapBenefitFiles,
  type BenefitChange,
  type Swap
} from './replace.js'
import { emptyReport, type FileResult, type RunReport } from './report.js'
import type { RetryPolicy } from './retry.js'
import { hashFile } from './upload/hash.js'
import { effectivePartSize, layoutParts } from './upload/parts.js'
import { planFiles, type PlannedFile } from './upload/plan.js'
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
  partTimeoutMs?: number
}

const DELETE_CONCURRENCY = 4
// Hashing is CPU-bound and this runs on 2-core runners: one file at a time keeps a core free
// for the uploads of files already hashed.
const HASH_CONCURRENCY = 1
// Files created ahead of their parts getting PUT slots (see UploadContext.admission).
const FILES_AHEAD = 2

interface Outcome {
  result: FileResult
  createdAt: string | null
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
      throw new PlanError(`${message} Check the paths, or set if-no-files-found: warn.`)
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
    inputs.replace && hasEarlier ? await readAllBenefits(client) : ([] as BenefitDownloadables[])

  // 3. Hash, then upload or reuse, every file; one file's failure does not stop the others.
  const hashLimiter = new Limiter(HASH_CONCURRENCY)
  const pool = new Limiter(inputs.concurrency)
  const admission = new Limiter(FILES_AHEAD)
  const settled = await Promise.allSettled(
    planned.map(file => processFile(file, inputs, deps, existing, { hashLimiter, admission, pool }))
  )
  const outcomes: (Outcome | null)[] = settled.map((s, i) => {
    if (s.status === 'fulfilled') return s.value
    report.failures.push(`${planned[i].relativePath}: ${errorMessage(s.reason)}`)
    return null
  })
  report.files = outcomes.filter((o): o is Outcome => o !== null).map(o => o.result)
  if (report.failures.length > 0) {
    throw Object.assign(
      new AggregateFailure(
        `${report.failures.length} of ${planned.length} file(s) failed to upload; ` +
          'no benefit was changed and no earlier version was deleted.',
        settled
          .map((s, i) => ({ s, i }))
          .filter(({ s }) => s.status === 'rejected')
          .map(({ s, i }) => ({
            subject: planned[i].relativePath,
            error: (s as PromiseRejectedResult).reason
          }))
      ),
      { report }
    )
  }

  // 4. Replace: swap new IDs into the named benefits, then delete unlisted earlier versions.
  const ok = outcomes as Outcome[]
  const swaps: (Swap & { result: FileResult })[] = ok.map(o => ({
    result: o.result,
    newId: o.result.id ?? `(new ${o.result.name})`,
    replacedIds: earlierVersions(
      { id: o.result.id, name: o.result.name, createdAt: o.createdAt },
      existing
    ).map(f => f.id)
  }))
  const liveIds = new Set(existing.map(f => f.id))
  const changes = targets.map(b => swapBenefitFiles(b, swaps, liveIds))
  const patchFailed = await applyBenefitChanges(changes, inputs.dryRun, deps, report)
  if (patchFailed) {
    throw Object.assign(
      new Error(
        `Updating benefits failed${inputs.replace ? ', so no earlier version was deleted' : ''}:\n  - ${report.failures.join('\n  - ')}`
      ),
      { report }
    )
  }
  if (!inputs.replace) return report

  const byId = new Map(existing.map(f => [f.id, f]))
  const candidates = swaps.flatMap(s => s.replacedIds.map(id => ({ id, swap: s })))
  if (candidates.length === 0) return report
  // Re-read benefits right before deleting, so a benefit changed meanwhile still protects its files.
  const benefitsNow = inputs.dryRun
    ? allBenefits.map(b => {
        const change = changes.find(c => c.benefitId === b.id)
        return { id: b.id, files: change ? change.files : b.properties.files }
      })
    : (await readAllBenefits(client)).map(b => ({ id: b.id, files: b.properties.files }))
  const toDelete: { id: string; swap: (typeof swaps)[number] }[] = []
  for (const c of candidates) {
    const listedIn = benefitsListing(c.id, benefitsNow)
    if (listedIn.length > 0) {
      const reason = `still in benefit ${listedIn.join(', ')}`
      report.kept.push({ id: c.id, name: c.swap.result.name, reason })
      logger.warning(
        `Kept ${c.swap.result.name} (${c.id}): it is ${reason}. Add that benefit to ` +
          '`benefit-ids` so the new file takes its place, or remove the file from the benefit in Polar.'
      )
    } else {
      toDelete.push(c)
    }
  }

  if (inputs.dryRun) {
    for (const c of toDelete) recordDeleted(report, c, byId)
    return report
  }
  const results = await mapSettled(toDelete, DELETE_CONCURRENCY, c => client.deleteFile(c.id))
  const failedDeletes: string[] = []
  results.forEach((r, i) => {
    const c = toDelete[i]
    if (r.status === 'fulfilled') {
      recordDeleted(report, c, byId)
      logger.info(`Deleted earlier version ${c.swap.result.name} (${c.id})`)
    } else {
      failedDeletes.push(`${c.swap.result.name} (${c.id}): ${errorMessage(r.reason)}`)
    }
  })
  if (failedDeletes.length > 0) {
    report.failures.push(...failedDeletes.map(f => `not deleted: ${f}`))
    throw Object.assign(
      new Error(
        `Uploads succeeded, but ${failedDeletes.length} earlier version(s) could not be deleted ` +
          `(delete them in Polar, or re-run):\n  - ${failedDeletes.join('\n  - ')}`
      ),
      { report }
    )
  }
  return report
}

function recordDeleted(
  report: RunReport,
  c: { id: string; swap: { result: FileResult } },
  byId: Map<string, FileRead>
): void {
  report.deletedIds.push(c.id)
  report.deleted.push({
    id: c.id,
    name: c.swap.result.name,
    created_at: byId.get(c.id)?.created_at
  })
  c.swap.result.replaced_ids.push(c.id)
}

async function processFile(
  file: PlannedFile,
  inputs: Inputs,
  deps: UploadDeps,
  existing: FileRead[],
  limits: { hashLimiter: Limiter; admission: Limiter; pool: Limiter }
): Promise<Outcome> {
  const lines: string[] = []
  const partSize = effectivePartSize(file.size, inputs.partSize)
  const parts = layoutParts(file.size, partSize)
  const started = Date.now()
  try {
    const hashes = await limits.hashLimiter.run(() => hashFile(file.path, file.size, parts))
    lines.push(
      `path: ${file.relativePath}`,
      `size: ${file.size} bytes, ${parts.length} part(s) of ≤ ${partSize} bytes`
    )
    lines.push(`sha256: ${hashes.sha256Hex}`)
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
      let version = reuse.version
      if (inputs.version && inputs.version !== reuse.version) {
        if (!inputs.dryRun) await deps.client.updateFileVersion(reuse.id, inputs.version)
        lines.push(
          `version ${reuse.version ?? '(none)'} → ${inputs.version}${inputs.dryRun ? ' (planned)' : ''}`
        )
        version = inputs.version
      }
      return {
        result: { ...base, id: reuse.id, version, status: inputs.dryRun ? 'planned' : 'unchanged' },
        createdAt: reuse.created_at
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
          retry: deps.retry,
          logger: deps.logger,
          partTimeoutMs: deps.partTimeoutMs ?? 300_000,
          onBytes: bytes => deps.progress.add(file.name, bytes)
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

async function readAllBenefits(client: PolarClient): Promise<BenefitDownloadables[]> {
  try {
    return await client.listDownloadablesBenefits()
  } catch (error) {
    if (error instanceof PolarApiError && error.status === 403) {
      throw new PlanError(
        'replace needs to read your downloadables benefits (so no customer loses a file), but the ' +
          'token lacks the benefits:read scope. Give the token benefits:read, or set replace: false.'
      )
    }
    throw error
  }
}

async function applyBenefitChanges(
  changes: BenefitChange[],
  dryRun: boolean,
  deps: UploadDeps,
  report: RunReport
): Promise<boolean> {
  let failed = false
  for (const change of changes) {
    if (change.droppedStale.length) {
      deps.logger.warning(
        `Benefit ${change.benefitId} lists file(s) Polar no longer has (${change.droppedStale.join(', ')}); ` +
          'they are dropped from it.'
      )
    }
    if (!change.changed) continue
    if (!dryRun) {
      try {
        await deps.client.patchBenefitFiles(change.benefitId, change.files, change.archived)
      } catch (error) {
        failed = true
        report.failures.push(`benefit ${change.benefitId}: ${errorMessage(error)}`)
        continue
      }
    }
    report.patchedBenefits.push({
      id: change.benefitId,
      before: change.before,
      after: change.files
    })
    deps.logger.info(
      `${dryRun ? 'Would update' : 'Updated'} benefit ${change.benefitId}: ${change.files.join(', ')}`
    )
  }
  return failed
}
