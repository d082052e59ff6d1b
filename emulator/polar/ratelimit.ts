/**
 * Per-organization rate limiter, modelled on Polar's (`asgi-ratelimit` with its Redis backend):
 * a FIXED window per key. The first request after a window has expired opens a new one of
 * 60 s holding `perMinute` requests (Redis `SET key limit EX 60 NX`); each accepted request
 * spends one (`DECR`); once none is left every request is refused until the window expires,
 * and a refused request spends nothing. So a burst of the whole budget is accepted at once,
 * and a budget run dry stays dry until the window ends, however slowly clients send.
 * Retry-After is what that backend answers: the window's length (60), not the time left in it.
 * Off (null) by default; changing the rate resets every window.
 */
export const WINDOW_MS = 60_000

interface Window {
  left: number
  endsAt: number
}

export class RateLimiter {
  private perMinute: number | null
  private windows = new Map<string, Window>()

  constructor(perMinute: number | null) {
    this.perMinute = perMinute
  }

  set(perMinute: number | null): void {
    if (perMinute !== null && !(perMinute > 0))
      throw new Error('rate limit must be a positive number or null')
    this.perMinute = perMinute
    this.windows = new Map()
  }

  get(): number | null {
    return this.perMinute
  }

  /** One request for `key`: null when allowed, else the Retry-After seconds. */
  take(key: string, now: number = Date.now()): number | null {
    const limit = this.perMinute
    if (limit === null) return null
    let window = this.windows.get(key)
    if (!window || now >= window.endsAt) {
      window = { left: Math.floor(limit), endsAt: now + WINDOW_MS }
      this.windows.set(key, window)
    }
    if (window.left < 1) return WINDOW_MS / 1000
    window.left--
    return null
  }
}
