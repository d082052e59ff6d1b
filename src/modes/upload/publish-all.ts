/**
 * The upload mode's publish phase: every file hashed, then uploaded or reused; the checksums
 * manifest; the version labels of reused files.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AggregateFailure, CancelledError, errorMessage, throwIfCancelled } from '../../errors.js'
import { Limiter } from '../../limiter.js'
import { checksumsText, type RunReport } from '../../run-report.js'
import type { Plan } from '../../upload/plan.js'
import { createPartPool, type Concurrency } from '../../upload/pool.js'
import { publishFile, type Slots, type Outcome, type PublishOptions } from '../../upload/publish.js'
import type { Prepared, Reads, UploadDeps } from './context.js'

// One file hashed at a time: its two hashes (whole file, parts) already take both cores of a
// runner, on worker threads, while this thread drives the uploads of files already hashed.
const HASH_CONCURRENCY = 1
// Pools' worth of parts created ahead of getting PUT slots (see UploadContext.admission in
// upload/multipart.ts): two large files, or as many one-part files as two pools hold.
const FILES_AHEAD = 2

/** What publishAll reads: each file's options, and the size of the pool of part PUTs. */
export interface PublishAllOptions extends PublishOptions {
  concurrency: Concurrency
}

/**
 * Hash, then upload or reuse, every file; one file's failure does not stop the others. A failed
 * planning read fails the run as itself, at once (no file has written anything by then).
 */
export async function publishAll(
  options: PublishAllOptions,
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
  const signal = deps.signal ? AbortSignal.any([deps.signal, readFailed.signal]) : readFailed.signal
  const pool = createPartPool(options.concurrency)
  const slots: Slots = {
    hash: new Limiter(HASH_CONCURRENCY),
    admission: new Limiter(FILES_AHEAD * pool.limit),
    pool
  }
  const files = Promise.allSettled(
    plan.files.map((file, i) =>
      publishFile(file, options, existing, slots, { ...deps, signal, group: group(i) })
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
    report.next = options.reuseUnchanged
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
export async function publishManifest(
  name: string,
  options: PublishOptions,
  deps: UploadDeps,
  { existing }: Prepared,
  outcomes: Outcome[],
  report: RunReport,
  scratch: string
): Promise<Outcome> {
  const text = checksumsText(outcomes.map(o => o.result).filter(r => r.status !== 'flagged'))
  const path = join(scratch, 'checksums-manifest')
  await writeFile(path, text)
  const slots: Slots = {
    hash: new Limiter(1),
    admission: new Limiter(1),
    pool: createPartPool(1)
  }
  const file = {
    path,
    relativePath: name,
    name,
    size: Buffer.byteLength(text),
    mimeType: 'text/plain'
  }
  report.manifest = name
  try {
    const outcome = await publishFile(file, options, Promise.resolve(existing), slots, deps)
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

/** Version labels of reused files, now that every upload has succeeded. */
export async function relabelReused(
  { dryRun }: { dryRun: boolean },
  deps: UploadDeps,
  outcomes: Outcome[],
  report: RunReport
): Promise<void> {
  if (dryRun) return
  for (const o of outcomes) {
    if (!o.relabel) continue
    try {
      throwIfCancelled(deps.signal)
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
