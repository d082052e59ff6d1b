/**
 * Primary rate limit (contract §8): a fixed one-hour window per token (anonymous requests share
 * one), reported on every API response as x-ratelimit-*. Exceeding it answers GitHub's 403.
 */
interface Window {
  used: number
  resetAt: number // epoch seconds
}

export interface LimitSnapshot {
  headers: Record<string, string>
  exceeded: boolean
}

export class HourlyLimits {
  private windows = new Map<string, Window>()

  constructor(
    private readonly perHour: number,
    private readonly anonymousPerHour = 60
  ) {}

  private window(key: string): Window {
    const now = Math.floor(Date.now() / 1000)
    let w = this.windows.get(key)
    if (!w || w.resetAt <= now) {
      w = { used: 0, resetAt: now + 3600 }
      this.windows.set(key, w)
    }
    return w
  }

  private limit(key: string | null): number {
    return key === null ? this.anonymousPerHour : this.perHour
  }

  /** Current headers for `key` (a token, or null for anonymous) without counting a request. */
  peek(key: string | null): Record<string, string> {
    const w = this.window(key ?? '')
    return headers(this.limit(key), w.used, w.resetAt)
  }

  /** Count one request. */
  take(key: string | null): LimitSnapshot {
    const w = this.window(key ?? '')
    const limit = this.limit(key)
    if (w.used >= limit) return { headers: headers(limit, w.used, w.resetAt), exceeded: true }
    w.used += 1
    return { headers: headers(limit, w.used, w.resetAt), exceeded: false }
  }

  /** Headers of an exhausted window ending in `resetInSeconds` (the primary-rate-limit fault). */
  exhausted(key: string | null, resetInSeconds: number): Record<string, string> {
    const limit = this.limit(key)
    return headers(limit, limit, Math.floor(Date.now() / 1000) + resetInSeconds)
  }
}

function headers(limit: number, used: number, resetAt: number): Record<string, string> {
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(limit - used, 0)),
    'x-ratelimit-used': String(used),
    'x-ratelimit-reset': String(resetAt),
    'x-ratelimit-resource': 'core'
  }
}
