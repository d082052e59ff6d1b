/**
 * Retries with exponential backoff and full jitter, honouring a server's Retry-After.
 * Only failures the classifier calls retriable are retried (network errors, timeouts, 429, 5xx).
 */
import { describeError, type Logger } from './log.js'

export interface RetryPolicy {
  retries: number
  baseDelayMs: number
  maxDelayMs: number
}

export interface Verdict {
  retriable: boolean
  /** From a Retry-After header: wait at least this long. */
  retryAfterMs?: number
}

export const DEFAULT_POLICY: RetryPolicy = { retries: 5, baseDelayMs: 500, maxDelayMs: 30_000 }

/** Longest Retry-After we wait out (a misconfigured proxy could say days): longer ones are capped. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000

export interface RetryOptions {
  policy: RetryPolicy
  /** Called only while `signal` has not fired: an aborted call is never retried. */
  classify: (error: unknown) => Verdict
  /** Stops the retries, and cuts a backoff short. */
  signal?: AbortSignal
  /** Where the retry line goes: `<label>: <describe(error)>; retry n/N in x.x s`. */
  logger?: Logger
  label?: string
  /** The failure as the retry line words it (default: its name and message). */
  describe?: (error: unknown) => string
  /** Told before each retry (the part pool backs off on failures). */
  onRetry?: () => void
  /** Waits out a backoff (default: `delay`, cut short by `signal`); tests record it instead. */
  sleep?: (ms: number) => Promise<void>
}

export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryOptions
): Promise<T> {
  const { policy, classify, signal, logger, label, describe = describeError } = options
  const sleep = options.sleep ?? ((ms: number) => delay(ms, signal))
  for (let n = 0; ; n++) {
    try {
      return await attempt(n)
    } catch (error) {
      const verdict: Verdict = signal?.aborted ? { retriable: false } : classify(error)
      if (!verdict.retriable || n >= policy.retries) throw error
      const backoff = Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n)
      const wait = Math.max(backoff, Math.min(verdict.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS))
      options.onRetry?.()
      logger?.info(
        `${label}: ${describe(error)}; retry ${n + 1}/${policy.retries} in ${(wait / 1000).toFixed(1)} s`
      )
      await sleep(wait)
    }
  }
}

/** Retry-After as seconds or an HTTP date → milliseconds (undefined if absent or unreadable). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()) {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Waits `ms`, or less if `signal` fires first (a cancelled job does not sit out a backoff). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** Network failures worth another try; not our own aborts, closed clients or bad arguments. */
const RETRIABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT'
])

export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && RETRIABLE_CODES.has(code)) return true
  // undici wraps the socket's error as the cause of a SocketError.
  return error.cause !== error && isNetworkError(error.cause)
}
