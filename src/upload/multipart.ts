/**
 * Uploads one file: create → PUT every part through the shared pool → complete.
 * If the file cannot complete, the created file is deleted by ID before the error goes up
 * (Polar cannot list incomplete uploads, so nobody else could find it). Expired presigned
 * URLs restart the file with a new create, since Polar has no way to re-sign a part.
 */
import { setMaxListeners } from 'node:events'
import type { Dispatcher } from 'undici'
import { errorMessage, throwIfCancelled, UrlExpiredError } from '../errors.js'
import type { Logger } from '../log.js'
import type { Limiter } from '../limiter.js'
import type { PolarClient } from '../polar/client.js'
import type {
  DownloadableFileCreate,
  FileRead,
  FileUpload,
  FileUploadCompleted
} from '../polar/types.js'
import type { RetryPolicy } from '../retry.js'
import type { FileHashes } from './hash.js'
import { chunkFor } from './body.js'
import type { PartRange } from './parts.js'
import type { PartPool } from './pool.js'
import { putPart } from './transfer.js'

const MAX_RESTARTS = 1

export interface UploadContext {
  client: PolarClient
  s3: Dispatcher
  /** One pool of part PUTs across all files (fixed size, or auto). */
  pool: PartPool
  /**
   * Files whose parts are not all under way yet. A file is created (and its URLs start to age)
   * only when it gets a place here, and gives it back once every part has a PUT slot: so at
   * most a few pools' worth of parts wait behind other parts, never a whole release's. A file
   * takes a place per part, up to the pool's size: small files are created together.
   */
  admission: Limiter
  /** IDs created but not yet completed or deleted: a cancelled job waits for this to empty. */
  incomplete: Set<string>
  /** Fires when the job is cancelled: no new create, PUT or completion starts after it. */
  signal?: AbortSignal
  retry: RetryPolicy
  logger: Logger
  partTimeoutMs: number
  /** Bytes of parts as they are sent (negative when a failed attempt's bytes go again). */
  onBytes?: (bytes: number) => void
  /** The file starts over (expired URLs): progress counts from zero again. */
  onRestart?: () => void
}

export interface UploadJob {
  path: string
  name: string
  mimeType: string
  size: number
  version: string | null
  parts: PartRange[]
  hashes: FileHashes
}

export async function uploadFile(ctx: UploadContext, job: UploadJob): Promise<FileRead> {
  for (let restart = 0; ; restart++) {
    const admitted = await ctx.admission.acquire(Math.min(job.parts.length, ctx.pool.limit))
    let created: FileUpload
    try {
      throwIfCancelled(ctx.signal)
      created = await createFor(ctx, job)
    } catch (error) {
      admitted()
      throw error
    }
    ctx.incomplete.add(created.id)
    ctx.logger.debug(
      `${job.name}: created file ${created.id} (${job.parts.length === 1 ? '1 part' : `${job.parts.length} parts`})`
    )
    try {
      throwIfCancelled(ctx.signal) // cancelled while the create was in flight
      const etags = await putParts(ctx, job, created, admitted)
      throwIfCancelled(ctx.signal)
      const done = await ctx.client.completeUpload(
        created.id,
        completionRequest(created, job, etags)
      )
      ctx.incomplete.delete(created.id)
      if (ctx.pool.describe) ctx.logger.debug(`${job.name}: ${ctx.pool.describe()}`)
      return done
    } catch (error) {
      admitted()
      const leftover = await rollback(ctx, job, created.id)
      if (leftover) throw new Error(`${errorMessage(error)}; ${leftover}`, { cause: error })
      if (error instanceof UrlExpiredError) {
        if (restart < MAX_RESTARTS) {
          ctx.logger.warning(
            `${job.name}: the presigned upload URLs expired before every part was sent; ` +
              'starting this file again with new URLs.'
          )
          ctx.onRestart?.()
          continue
        }
        throw new UrlExpiredError(
          `${job.name}: the upload outran the presigned URL lifetime twice (${error.message}). ` +
            'Polar signs upload URLs for one hour: upload fewer or smaller files per run, or ' +
            'check the runner’s upload bandwidth.'
        )
      }
      throw error
    }
  }
}

function createFor(ctx: UploadContext, job: UploadJob): Promise<FileUpload> {
  return ctx.client.createFile(createRequest(job))
}

/** The create body (at 10,000 parts about 1.5 MB: under Polar's 10 MiB request limit). */
export function createRequest(job: Omit<UploadJob, 'path'>): DownloadableFileCreate {
  return {
    service: 'downloadable',
    name: job.name,
    mime_type: job.mimeType,
    size: job.size,
    checksum_sha256_base64: job.hashes.sha256Base64,
    version: job.version,
    upload: {
      parts: job.parts.map((p, i) => ({
        number: p.number,
        chunk_start: p.start,
        chunk_end: p.end,
        checksum_sha256_base64: job.hashes.partSha256Base64[i]
      }))
    }
  }
}

/** The `/uploaded` body: every part's ETag and checksum, in order. */
export function completionRequest(
  created: Pick<FileUpload, 'upload'>,
  job: Pick<UploadJob, 'parts' | 'hashes'>,
  etags: string[]
): FileUploadCompleted {
  return {
    id: created.upload.id,
    path: created.upload.path,
    parts: job.parts.map((p, i) => ({
      number: p.number,
      checksum_etag: etags[i],
      checksum_sha256_base64: job.hashes.partSha256Base64[i]
    }))
  }
}

/** Every part through the pool; the first failure stops the rest of this file's parts. */
async function putParts(
  ctx: UploadContext,
  job: UploadJob,
  created: FileUpload,
  allStarted: () => void
): Promise<string[]> {
  const byNumber = new Map(created.upload.parts.map(p => [p.number, p]))
  const abort = new AbortController()
  setMaxListeners(0, abort.signal) // one listener per part PUT in flight
  const onCancel = () => abort.abort(ctx.signal?.reason)
  ctx.signal?.addEventListener('abort', onCancel, { once: true })
  let started = 0
  const results = await Promise.allSettled(
    job.parts.map(range =>
      ctx.pool.run(async () => {
        if (++started === job.parts.length) allStarted()
        if (abort.signal.aborted) throw abort.signal.reason
        const part = byNumber.get(range.number)
        if (!part || part.chunk_start !== range.start || part.chunk_end !== range.end) {
          throw new Error(
            `Polar returned no upload URL matching part ${range.number} of ${job.name}`
          )
        }
        try {
          const etag = await putPart(
            { filePath: job.path, label: job.name, part },
            {
              dispatcher: ctx.s3,
              retry: ctx.retry,
              logger: ctx.logger,
              timeoutMs: ctx.partTimeoutMs,
              signal: abort.signal,
              onRetry: () => ctx.pool.retried?.(),
              chunkBytes: chunkFor(ctx.pool.limit),
              onSent: ctx.onBytes
            }
          )
          return etag
        } catch (error) {
          if (!abort.signal.aborted) abort.abort(error)
          throw error
        }
      }, range.end - range.start)
    )
  )
  ctx.signal?.removeEventListener('abort', onCancel)
  throwIfCancelled(ctx.signal)
  const failed = results.find(r => r.status === 'rejected')
  if (failed) throw abort.signal.reason ?? (failed as PromiseRejectedResult).reason
  return results.map(r => (r as PromiseFulfilledResult<string>).value)
}

/** Deletes the file this attempt created; says what was left behind if that fails too. */
async function rollback(ctx: UploadContext, job: UploadJob, id: string): Promise<string | null> {
  try {
    await ctx.client.deleteFile(id)
    ctx.incomplete.delete(id)
    ctx.logger.info(`${job.name}: deleted the incomplete upload ${id}`)
    return null
  } catch (error) {
    return (
      `the incomplete upload ${id} could not be deleted either (${errorMessage(error)}); ` +
      `delete it with DELETE /v1/files/${id}`
    )
  }
}
