import { MAX_RETRY_AFTER_MS } from '../retry.js'

/**
 * Paces API calls under the organization's requests-per-minute budget, so a large release
 * does not set off a storm of 429s. A token bucket whose burst plus one minute of refill never
 * exceeds the budget, so even a sliding one-minute window on the server stays under it.
 * A 429 pauses every caller until its Retry-After has passed.
 */
export class Pacer {
  private tokens: number
  private readonly burst: number
  private readonly perMs: number
  private last: number
  private pausedUntil = 0
  private queue: Promise<void> = Promise.resolve()

  constructor(
    perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = ms =>
      new Promise(r => setTimeout(r, ms))
  ) {
    this.burst = Math.max(1, Math.min(20, Math.floor(perMinute / 50)))
    this.perMs = Math.max(perMinute - this.burst, 1) / 60_000
    this.tokens = this.burst
    this.last = now()
  }

  /** Resolves when one more request may be sent. Callers are served in arrival order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken())
    this.queue = turn
    return turn
  }

  /** A 429 said to wait: hold everyone back until then (capped like every Retry-After). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + Math.min(ms, MAX_RETRY_AFTER_MS))
    this.tokens = 0
  }

  private async waitForToken(): Promise<void> {
    for (;;) {
      const now = this.now()
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now)
        continue
      }
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs)
      this.last = now
      if (this.tokens >= 1) {
        this.tokens -= 1
        return
      }
      await this.sleep(Math.ceil((1 - this.tokens) / this.perMs))
    }
  }
}
