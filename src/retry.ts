/**
 * Retries with exponential backoff and full jitter, honouring a server's Retry-After.
 * Only failures the classifier calls retriable are retried (network errors, timeouts, 429, 5xx).
 */

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

/** Longest Retry-After we honour before giving up waiting (a misconfigured proxy could say days). */
const MAX_RETRY_AFTER_MS = 10 * 60_000

export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  classify: (error: unknown) => Verdict,
  onRetry?: (error: unknown, n: number, delayMs: number) => void,
  sleep: (ms: number) => Promise<void> = delay
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n)
    } catch (error) {
      const verdict = classify(error)
      if (!verdict.retriable || n >= policy.retries) throw error
      const backoff = Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n)
      const wait = Math.max(backoff, Math.min(verdict.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS))
      onRetry?.(error, n + 1, wait)
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

export function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Errors raised by the network layer itself (no HTTP status): always worth another try. */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    return (
      code.startsWith('UND_ERR_') ||
      ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND'].includes(code)
    )
  }
  return error.name === 'SocketError' || error.name === 'TimeoutError'
}
