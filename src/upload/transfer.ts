/**
 * PUTs one part to its presigned S3 URL: a fresh byte-range stream from disk for every attempt,
 * Content-Length set, exactly the headers Polar returned, no Authorization header, the URL used
 * byte for byte. The URL is a credential: it never appears in a log line or an error.
 */
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { PartUploadError, UrlExpiredError } from '../errors.js'
import { describeError, redact, type Logger } from '../log.js'
import {
  isNetworkError,
  parseRetryAfter,
  withRetry,
  type RetryPolicy,
  type Verdict
} from '../retry.js'
import type { UploadPart } from '../polar/types.js'
import { rangeBody } from './body.js'

/** Assume at least this throughput when judging whether a URL will outlive a part's PUT. */
const WORST_CASE_BYTES_PER_MS = 2 * 1024 // ≈ 2 MB/s
const URL_SAFETY_MS = 1000

export interface PartTarget {
  filePath: string
  /** Name for messages (never the URL). */
  label: string
  part: UploadPart
}

export interface PutOptions {
  dispatcher: Dispatcher
  retry: RetryPolicy
  logger: Logger
  timeoutMs: number
  signal?: AbortSignal
  now?: () => number
  /** Told before each retry (the pool backs off on failures). */
  onRetry?: () => void
  /** Read size for the body (see body.ts chunkFor). */
  chunkBytes?: number
  /**
   * Bytes handed to the socket as they go (undici asks for a chunk once the socket took the
   * one before it); a failed attempt takes its bytes back (negative), since a retry resends.
   */
  onSent?: (bytes: number) => void
}

/** Splits a URL into origin and path without decoding or re-encoding any byte of it. */
export function splitUrl(url: string): { origin: string; path: string } {
  const schemeEnd = url.indexOf('://')
  const pathStart = url.indexOf('/', schemeEnd + 3)
  if (schemeEnd < 0 || pathStart < 0) throw new Error('malformed presigned URL')
  return { origin: url.slice(0, pathStart), path: url.slice(pathStart) }
}

/** S3 refused a part (or answered 200 without an ETag); never carries the URL. */
class S3Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly s3Message: string | undefined,
    readonly retryAfterMs: number | undefined
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ''}`)
  }
}

/** The chunks of `body`, each counted as the reader takes it. */
async function* counted(
  body: AsyncIterable<Buffer>,
  count: (bytes: number) => void
): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    count(chunk.length)
    yield chunk
  }
}

/** Returns the part's ETag (quoted, as S3 sent it). */
export async function putPart(target: PartTarget, options: PutOptions): Promise<string> {
  const { part, label } = target
  const url = splitUrl(part.url)
  try {
    return await withRetry(() => sendPart(target, url, options), {
      policy: options.retry,
      classify: retriablePut,
      signal: options.signal,
      logger: options.logger,
      label: `${label}: part ${part.number}`,
      describe: describePut,
      onRetry: options.onRetry
    })
  } catch (error) {
    throw putFailure(error, target)
  }
}

/** One attempt: a fresh byte-range stream from disk, its bytes counted as they go. */
async function sendPart(
  target: PartTarget,
  { origin, path }: { origin: string; path: string },
  options: PutOptions
): Promise<string> {
  const { part, filePath, label } = target
  const now = options.now ?? Date.now
  const bytes = part.chunk_end - part.chunk_start
  // Don't send a part whose URL will expire before it can arrive: S3 would refuse it anyway.
  if (now() + URL_SAFETY_MS + bytes / WORST_CASE_BYTES_PER_MS >= Date.parse(part.expires_at)) {
    throw new UrlExpiredError(`the presigned URL of part ${part.number} of ${label} expired`)
  }
  const source =
    bytes === 0 ? null : rangeBody(filePath, part.chunk_start, part.chunk_end, options.chunkBytes)
  let sent = 0
  const onSent = options.onSent
  const body =
    source && onSent
      ? counted(source.body, n => {
          sent += n
          onSent(n)
        })
      : source?.body
  try {
    const response = await options.dispatcher.request({
      origin,
      path,
      method: 'PUT',
      headers: { ...(part.headers ?? {}), 'content-length': String(bytes) },
      // undici documents async iterables as bodies; its types do not list them.
      body: (body ?? '') as Readable | string,
      signal: options.signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs
    })
    const text = await response.body.text()
    if (response.statusCode !== 200) {
      throw new S3Refusal(
        response.statusCode,
        xmlField(text, 'Code'),
        xmlField(text, 'Message'),
        parseRetryAfter(response.headers['retry-after'])
      )
    }
    const etag = response.headers['etag']
    if (typeof etag !== 'string' || !etag) {
      throw new S3Refusal(200, 'MissingETag', 'S3 answered 200 without an ETag', undefined)
    }
    return etag
  } catch (error) {
    if (sent > 0) onSent?.(-sent)
    throw error
  } finally {
    source?.release()
  }
}

function retriablePut(error: unknown): Verdict {
  if (error instanceof S3Refusal) {
    // RequestTimeout (400): S3 gave up waiting for the body; AWS's SDKs retry it too.
    const retriable =
      error.status === 429 ||
      error.status >= 500 ||
      error.code === 'MissingETag' ||
      error.code === 'RequestTimeout'
    return { retriable, retryAfterMs: error.retryAfterMs }
  }
  return { retriable: isNetworkError(error) }
}

/** The last failure as the error the upload reports. */
function putFailure(error: unknown, { part, label }: PartTarget): Error {
  if (error instanceof UrlExpiredError) return error
  if (error instanceof S3Refusal) {
    if (error.status === 403 && /expired/i.test(error.s3Message ?? '')) {
      return new UrlExpiredError(`S3 refused part ${part.number} of ${label}: its URL expired`)
    }
    return new PartUploadError(
      part.number,
      error.status,
      error.code,
      `S3 refused part ${part.number} of ${label}: HTTP ${error.status} ${error.code ?? ''}` +
        `${error.s3Message ? ` — ${redact(error.s3Message)}` : ''}`
    )
  }
  return new PartUploadError(
    part.number,
    0,
    undefined,
    `part ${part.number} of ${label} could not be sent: ${describePut(error)}`
  )
}

function describePut(error: unknown): string {
  return error instanceof S3Refusal ? error.message : describeError(error)
}

function xmlField(xml: string, field: string): string | undefined {
  const m = new RegExp(`<${field}>([^<]*)</${field}>`).exec(xml)
  return m?.[1]
}
