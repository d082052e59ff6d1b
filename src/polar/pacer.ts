import { MAX_RETRY_AFTER_MS } from '../retry.js'

/** After a 429 the pace drops to at most this fraction of what it was (see `throttled`). */
export const DECREASE = 0.5
/** After a drop, the pace holds this long before it climbs again. */
export const PLATEAU_MS = 60_000
/** Then it climbs linearly: from nothing to the full budget in this time. */
export const RECOVERY_MS = 300_000
/** Aim a little under the estimated share (see `throttled`): the estimate is an upper bound. */
const SHARE_MARGIN = 0.9
/** Requests this run must have sent before its share can be estimated (else: just halve). */
const MIN_SAMPLE = 20
/** 429s of requests already in flight when the pace dropped do not drop it again. */
const HOLD_OFF_MS = 5000

/**
 * Paces API calls under the organization's requests-per-minute budget, so a large release
 * does not set off a storm of 429s. A token bucket whose burst plus one minute of refill never
 * exceeds the budget, so even a sliding one-minute window on the server stays under it.
 *
 * The budget is shared by every job of the organization: a 429 means others are spending it
 * too. Then every caller waits out Retry-After, and this run's pace drops (multiplicative
 * decrease) and climbs back linearly (additive increase), so several jobs started together
 * settle near their share instead of bursting into each other.
 */
export class Pacer {
  private tokens: number
  private readonly burst: number
  private readonly maxPerMs: number
  private last: number
  private pausedUntil = 0
  /** When the pace last dropped, and to what: recovery climbs from there. */
  private droppedAt = -Infinity
  private droppedTo = 0
  /** Requests sent since this run started, until its first 429 (see `throttled`). */
  private readonly startedAt: number
  private sent = 0
  private queue: Promise<void> = Promise.resolve()

  constructor(
    perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = ms =>
      new Promise(r => setTimeout(r, ms))
  ) {
    this.burst = Math.max(1, Math.min(20, Math.floor(perMinute / 50)))
    this.maxPerMs = Math.max(perMinute - this.burst, 1) / 60_000
    this.tokens = this.burst
    this.last = now()
    this.startedAt = this.last
  }

  /**
   * Resolves when `count` more requests may be sent (taken together, so they can go out back
   * to back). Callers are served in arrival order.
   */
  take(count = 1): Promise<void> {
    const turn = this.queue.then(() => this.waitFor(count))
    this.queue = turn
    return turn
  }

  /** Requests per minute this run allows itself now. */
  pace(): number {
    return this.rate(this.now()) * 60_000
  }

  /** A 429 said to wait: hold everyone back until then (capped like every Retry-After), and slow down. */
  throttled(retryAfterMs: number): void {
    const now = this.now()
    this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(retryAfterMs, MAX_RETRY_AFTER_MS))
    this.tokens = 0
    this.sent-- // that request spent nothing of the budget
    if (now - this.droppedAt < HOLD_OFF_MS) return
    let target = this.rate(now) * DECREASE
    if (this.droppedAt === -Infinity && this.sent >= MIN_SAMPLE) {
      // The first 429 tells how crowded the budget is. The server's bucket holds one minute of
      // requests and refills continuously: run dry after T, the organization has spent at most
      // budget × (1 + T / 1 min), of which this run sent `sent`. Its share of the budget is its
      // fair pace: N jobs started together each land near 1/N after one 429, not after log N.
      const minutes = (now - this.startedAt) / 60_000
      target = Math.min(target, (SHARE_MARGIN * this.sent) / (1 + minutes) / 60_000)
    }
    this.droppedTo = Math.max(target, this.maxPerMs / 100)
    this.droppedAt = now
  }

  private rate(now: number): number {
    const climbing = now - this.droppedAt - PLATEAU_MS
    if (climbing <= 0) return this.droppedTo
    return Math.min(this.maxPerMs, this.droppedTo + (this.maxPerMs * climbing) / RECOVERY_MS)
  }

  private async waitFor(count: number): Promise<void> {
    // More than the bucket holds would never be available at once: wait for a full bucket and
    // run into debt, which later callers pay off.
    const need = Math.min(count, this.burst)
    for (;;) {
      const now = this.now()
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now)
        continue
      }
      const perMs = this.rate(now)
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * perMs)
      this.last = now
      if (this.tokens >= need) {
        this.tokens -= count
        this.sent += count
        return
      }
      await this.sleep(Math.ceil((need - this.tokens) / perMs))
    }
  }
}
