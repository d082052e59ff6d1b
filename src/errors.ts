/**
 * Explicit error classes. Each carries a message written for the person reading the job log:
 * what went wrong, which input or file, and how to fix it.
 */
import type { RunReport } from './run-report.js'

/** A bad input value. Raised while planning, before any write request. */
export class InputError extends Error {
  override readonly name = 'InputError'
  constructor(
    readonly input: string,
    message: string
  ) {
    super(`Input '${input}': ${message}`)
  }
}

/** A problem with the matched files themselves (unreadable, duplicate names, too large). */
export class PlanError extends Error {
  override readonly name = 'PlanError'
}

/** A Polar API call that failed for good (after retries, or not retriable). */
export class PolarApiError extends Error {
  override readonly name = 'PolarApiError'
  constructor(
    readonly status: number,
    readonly method: string,
    readonly route: string,
    readonly code: string | undefined,
    readonly detail: string,
    hint?: string
  ) {
    const head = `Polar API ${method} ${route} failed: ${status === 0 ? 'no response' : `HTTP ${status}`}`
    const parts = [detail, hint].filter(p => p).map(p => sentence(p!))
    super(`${head}${code ? ` ${code}` : ''}${parts.length ? ` — ${parts.join(' ')}` : ''}`)
  }
}

/** A GitHub API call (the `release` source) that failed for good. */
export class GitHubApiError extends Error {
  override readonly name = 'GitHubApiError'
  constructor(
    readonly status: number,
    method: string,
    route: string,
    detail: string
  ) {
    super(
      `GitHub API ${method} ${route} failed: ${status === 0 ? 'no response' : `HTTP ${status}`}` +
        ` — ${sentence(detail)}`
    )
  }
}

/** A release asset whose download is not what GitHub said it is (size or digest). */
export class AssetMismatchError extends Error {
  override readonly name = 'AssetMismatchError'
  constructor(
    readonly asset: string,
    readonly what: 'size' | 'digest',
    message: string
  ) {
    super(message)
  }
}

/** A part PUT to the presigned S3 URL failed for good. Never carries the URL. */
export class PartUploadError extends Error {
  override readonly name = 'PartUploadError'
  constructor(
    readonly partNumber: number,
    readonly status: number,
    readonly s3Code: string | undefined,
    message: string
  ) {
    super(message)
  }
}

/** Other writers kept overwriting a benefit, so this run's swap could not be made to hold. */
export class BenefitConflictError extends Error {
  override readonly name = 'BenefitConflictError'
  constructor(
    readonly benefitId: string,
    message: string
  ) {
    super(`Benefit ${benefitId}: ${message}`)
  }
}

/** The presigned URLs expired (or would) before every part could be sent. */
export class UrlExpiredError extends Error {
  override readonly name = 'UrlExpiredError'
}

/** The job was cancelled (SIGINT/SIGTERM): no new write starts. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError'
  constructor(message = 'the job was cancelled') {
    super(message)
  }
}

/**
 * Throws once `signal` has fired — its own CancelledError when it carries one (it says why),
 * else a new one: called before each write that may start.
 */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledBy(signal)
}

export function cancelledBy(signal: AbortSignal): CancelledError {
  return signal.reason instanceof CancelledError ? signal.reason : new CancelledError()
}

/** Several independent failures, reported together. */
export class AggregateFailure extends Error {
  override readonly name = 'AggregateFailure'
  constructor(
    readonly summary: string,
    readonly errors: { subject: string; error: unknown }[]
  ) {
    super(`${summary}\n` + errors.map(e => `  - ${e.subject}: ${errorMessage(e.error)}`).join('\n'))
  }
}

/**
 * A run that failed, with what it did before (for the outputs and the summary). Its message is
 * its cause's, which main.ts prints as it is.
 */
export class RunFailure extends Error {
  override readonly name = 'RunFailure'
  constructor(
    override readonly cause: unknown,
    readonly report: RunReport
  ) {
    super(errorMessage(cause), { cause })
  }
}

/** `text` ending in one full stop (Polar's details sometimes have one, sometimes not). */
function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
