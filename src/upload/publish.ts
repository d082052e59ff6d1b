/**
 * One planned file, published: hashed, then reused (same name and SHA-256 already in Polar) or
 * uploaded. Its log lines are printed as one group when it is done (files run concurrently).
 */
import type { Dispatcher } from 'undici'
import { errorMessage } from '../errors.js'
import type { Limiter } from '../limiter.js'
import type { Logger } from '../log.js'
import type { PolarClient } from '../polar/client.js'
import type { FileRead } from '../polar/types.js'
import { findUnchanged, isFlagged, relabel } from '../replace.js'
import type { FileResult } from '../run-report.js'
import type { RetryPolicy } from '../retry.js'
import { formatBytes } from '../units.js'
import { hashFile, WORKER_THRESHOLD, type FileHashes } from './hash.js'
import { effectivePartSize, layoutParts, type PartRange } from './parts.js'
import type { PlannedFile } from './plan.js'
import type { PartPool } from './pool.js'
import { uploadFile } from './multipart.js'

export interface ProgressSink {
  start(name: string, total: number): void
  add(name: string, bytes: number): void
  finish(name: string): void
}

export interface PublishDeps {
  client: PolarClient
  s3: Dispatcher
  logger: Logger
  retry: RetryPolicy
  progress: ProgressSink
  /** Prints a finished file's lines as one log group; `failed` is its error, if any. */
  group(title: string, lines: string[], failed?: unknown): void
  /** Filled with created-but-incomplete file IDs, for a cancelled job to wait on. */
  incomplete: Set<string>
  /** Fires when the job is cancelled: no write starts after it. */
  signal?: AbortSignal
  partTimeoutMs?: number
}

export interface Slots {
  /** Hashing is CPU-bound; runners have 2 cores. */
  hash: Limiter
  /** Files created ahead of their parts getting PUT slots (see UploadContext.admission). */
  admission: Limiter
  /** Part PUTs in flight, across all files (fixed size, or auto). */
  pool: PartPool
}

export interface PublishOptions {
  version: string | null
  partSize: number
  reuseUnchanged: boolean
  dryRun: boolean
}

export interface Outcome {
  /** As reported: for a reused file, the label Polar holds (until `relabel` is applied). */
  result: FileResult
  createdAt: string | null
  /** A reused file's new version label, applied once every upload has succeeded. */
  relabel?: string
  /** A created file as its completion returned it (the swap need not look it up again). */
  file?: FileRead
}

/**
 * `existing` is the run's file listing, promised: the planning reads finish while the file
 * hashes, and are awaited before the reuse decision and the first write.
 */
export async function publishFile(
  file: PlannedFile,
  options: PublishOptions,
  existing: Promise<FileRead[]>,
  slots: Slots,
  deps: PublishDeps
): Promise<Outcome> {
  const lines: string[] = [] // the group's title names the file and its path
  // Its retry and rollback lines go into its group, not before it; warnings show at once too.
  const logger: Logger = {
    debug: m => deps.logger.debug(m),
    info: m => lines.push(m),
    warning: m => {
      lines.push(`warning: ${m}`)
      deps.logger.warning(m)
    }
  }
  let failure: unknown
  const partSize = effectivePartSize(file.size, options.partSize)
  const parts = layoutParts(file.size, partSize)
  const base = (sha256: string): BaseResult => ({
    name: file.name,
    path: file.relativePath,
    size: file.size,
    mime_type: file.mimeType,
    sha256,
    replaced_ids: []
  })
  try {
    const byDigest = await fromDigest(file, options, existing, base, lines)
    if (byDigest) return byDigest
    const hash = () => hashFile(file.path, file.size, parts, deps.signal)
    // A file below the thread threshold is hashed here in a moment: it need not queue behind
    // the one large file the threads are hashing (a release of small files creates them together).
    const hashes =
      file.hashes ?? (await (file.size < WORKER_THRESHOLD ? hash() : slots.hash.run(hash)))
    lines.push(
      `size: ${formatBytes(file.size)}, ${parts.length === 1 ? '1 part' : `${parts.length} parts of ≤ ${formatBytes(partSize)}`}`,
      `sha256: ${hashes.sha256Hex}`
    )
    const listing = await existing // every planning check done: from here on it may write
    const reuse = options.reuseUnchanged
      ? findUnchanged(file.name, hashes.sha256Hex, listing, options.version)
      : undefined
    if (reuse) return reused(base(hashes.sha256Hex), reuse, options, lines)
    if (options.dryRun) {
      lines.push('would upload (dry run)')
      return planned(base(hashes.sha256Hex), options)
    }
    const job = { file, parts, hashes, version: options.version }
    return created(base(hashes.sha256Hex), await upload(job, slots, deps, logger, lines), options)
  } catch (error) {
    failure = error
    lines.push(`failed: ${errorMessage(error)}`)
    throw error
  } finally {
    deps.group(`${file.name} ← ${file.relativePath}`, lines, failure)
  }
}

type BaseResult = Omit<FileResult, 'id' | 'status' | 'version'>

/**
 * A release asset whose GitHub digest is known needs no download and no hash pass when it is
 * reused, or in a dry run: its outcome from the digest alone, else undefined.
 */
async function fromDigest(
  file: PlannedFile,
  options: PublishOptions,
  existing: Promise<FileRead[]>,
  base: (sha256: string) => BaseResult,
  lines: string[]
): Promise<Outcome | undefined> {
  if (!file.sha256) return undefined
  const known =
    options.reuseUnchanged && findUnchanged(file.name, file.sha256, await existing, options.version)
  if (known) {
    lines.push(
      `size: ${formatBytes(file.size)}`,
      file.path
        ? `sha256: ${file.sha256}`
        : `sha256: ${file.sha256} (GitHub's digest; not downloaded)`
    )
    return reused(base(file.sha256), known, options, lines)
  }
  if (options.dryRun && !file.path) {
    lines.push(
      `size: ${formatBytes(file.size)}`,
      `sha256: ${file.sha256} (GitHub's digest)`,
      'would upload (dry run)'
    )
    return planned(base(file.sha256), options)
  }
  return undefined
}

/** A dry run's file that would be uploaded. */
function planned(base: BaseResult, options: PublishOptions): Outcome {
  return {
    result: { ...base, id: null, version: options.version, status: 'planned' },
    createdAt: null
  }
}

/** The multipart upload, with its progress lines and the rate it reached. */
async function upload(
  job: { file: PlannedFile; parts: PartRange[]; hashes: FileHashes; version: string | null },
  slots: Slots,
  deps: PublishDeps,
  logger: Logger,
  lines: string[]
): Promise<FileRead> {
  const { file } = job
  deps.progress.start(file.name, file.size)
  const uploadStarted = Date.now() // the rate below is the upload's, not the hash pass's
  let read: FileRead
  try {
    read = await uploadFile(
      {
        client: deps.client,
        s3: deps.s3,
        pool: slots.pool,
        admission: slots.admission,
        incomplete: deps.incomplete,
        signal: deps.signal,
        retry: deps.retry,
        logger,
        partTimeoutMs: deps.partTimeoutMs ?? 300_000,
        onBytes: bytes => deps.progress.add(file.name, bytes),
        onRestart: () => deps.progress.start(file.name, file.size)
      },
      {
        path: file.path,
        name: file.name,
        mimeType: file.mimeType,
        size: file.size,
        version: job.version,
        parts: job.parts,
        hashes: job.hashes
      }
    )
  } finally {
    deps.progress.finish(file.name)
  }
  const seconds = (Date.now() - uploadStarted) / 1000
  lines.push(
    `created ${read.id} in ${seconds.toFixed(1)} s (${formatBytes(file.size / Math.max(seconds, 0.001))}/s)`
  )
  if (isFlagged(read)) lines.push(FLAGGED_LINE)
  return read
}

/** A file this run created (flagged if Polar's scan already flagged it). */
function created(base: BaseResult, read: FileRead, options: PublishOptions): Outcome {
  return {
    result: {
      ...base,
      id: read.id,
      version: options.version,
      status: isFlagged(read) ? 'flagged' : 'created'
    },
    createdAt: read.created_at,
    file: read
  }
}

export const FLAGGED_LINE =
  "flagged: Polar's malware scan flagged it as malicious; not published (left for review)"

/** A file already in Polar with this name and content: reused, its label raised (never lowered). */
function reused(
  base: BaseResult,
  reuse: FileRead,
  options: PublishOptions,
  lines: string[]
): Outcome {
  const label = relabel(reuse.version, options.version) ?? undefined
  lines.push(
    `unchanged: ${options.dryRun ? 'would reuse' : 'reusing'} ${reuse.id} (same name and SHA-256)`
  )
  if (label) {
    lines.push(
      `version ${reuse.version ?? '(none)'} → ${label} ` +
        (options.dryRun ? '(planned)' : 'once every upload has succeeded')
    )
  } else if (options.version && options.version !== reuse.version) {
    lines.push(`version stays ${reuse.version}: it is higher than ${options.version}`)
  }
  return {
    // A dry run reports the label it would set; a real run only what Polar holds.
    result: {
      ...base,
      id: reuse.id,
      version: options.dryRun ? (label ?? reuse.version) : reuse.version,
      status: 'unchanged'
    },
    createdAt: reuse.created_at,
    relabel: label
  }
}
