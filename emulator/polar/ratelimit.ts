/**
 * Per-organization rate limiter: a token bucket of `perMinute` tokens refilled continuously at
 * perMinute/60 per second (so bursts up to the budget, then a steady rate — like Polar's limiter).
 * Off (null) by default; changing the rate resets every bucket.
 */
interface Bucket {
  tokens: number
  updatedAt: number
}

export class RateLimiter {
  private perMinute: number | null
  private buckets = new Map<string, Bucket>()

  constructor(perMinute: number | null) {
    this.perMinute = perMinute
  }

  set(perMinute: number | null): void {
    if (perMinute !== null && !(perMinute > 0))
      throw new Error('rate limit must be a positive number or null')
    this.perMinute = perMinute
    this.buckets = new Map()
  }

  get(): number | null {
    return this.perMinute
  }

  /** Consume one token for `key`: null when allowed, else whole seconds until a token is back. */
  take(key: string, now: number = Date.now()): number | null {
    const limit = this.perMinute
    if (limit === null) return null
    const perMs = limit / 60000
    const bucket = this.buckets.get(key) ?? { tokens: limit, updatedAt: now }
    bucket.tokens = Math.min(limit, bucket.tokens + (now - bucket.updatedAt) * perMs)
    bucket.updatedAt = now
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return null
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000))
  }
}
