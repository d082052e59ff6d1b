import { MAX_RETRY_AFTER_MS } from '../retry.js'

/** After a 429 the pace drops to at most this fraction of what it was (see `throttled`). */
export const DECREASE = 0.5
/** After a drop, the pace holds this long before it climbs again. */
export const PLATEAU_MS = 60_000
/** Then it climbs linearly: from nothing to the full budget in this time. */
export const RECOVERY_MS = 300_000
/** The window the budget is counted in (Polar: requests per minute). */
export const WINDOW_MS = 60_000
/**
 * Sends are counted over a window this much longer than the server's: a request reaches
 * the server a little after it leaves, and not always equally late.
 */
const WINDOW_MARGIN_MS = 1000
/** Aim a little under the estimated share (see `throttled`): the estimate is an upper bound. */
const SHARE_MARGIN = 0.9
/** Requests this run must have sent before its share can be estimated (else: just halve). */
const MIN_SAMPLE = 8
/** An estimated share is at least this part of the budget (a few requests estimate roughly). */
const MIN_SHARE = 0.1
/** After a 429, the burst is the budget ÷ this (2 at 100/min), as when every request was paced. */
const PACED_BURST_DIVISOR = 50
/** 429s of requests already in flight when the pace dropped do not drop it again. */
const HOLD_OFF_MS = 5000

/**
 * Paces API calls under the organization's requests-per-window budget. Polar counts requests
 * in a fixed window, so a burst within the budget is accepted: a small release (a few dozen
 * calls) may spend up to half of the budget at once, then requests are paced at the budget's
 * rate. Whatever the pace, no window of a minute ever holds more of this run's requests than
 * the budget: every send is logged, and one that would exceed it waits for the oldest to age
 * out. (Half, not all: the budget is shared by the organization's other jobs.)
 *
 * A 429 means others are spending the budget too. Then every caller waits out Retry-After,
 * this run's pace drops (multiplicative decrease) and climbs back linearly (additive
 * increase), and it bursts no more than a couple of requests until it has recovered, so
 * several jobs started together settle near their share instead of bursting into each other.
 */
export class Pacer {
  private tokens: number
  private readonly budget: number
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
  /** When each request of the last window was let go, oldest first (from `head`). */
  private log: number[] = []
  private head = 0
  private queue: Promise<void> = Promise.resolve()

  constructor(
    perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = ms =>
      new Promise(r => setTimeout(r, ms))
  ) {
    this.budget = Math.max(1, Math.floor(perMinute))
    this.burst = Math.max(1, Math.floor(this.budget / 2))
    this.maxPerMs = this.budget / WINDOW_MS
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
      // The first 429 tells how crowded the budget is: run dry after T, the organization has
      // spent at most budget × (1 + T / 1 min) (a window's budget, and at most one more by
      // the time T reaches a minute), of which this run sent `sent`. Its share of the budget is
      // its fair pace: N jobs started together each land near 1/N after one 429, not after log N.
      const minutes = (now - this.startedAt) / 60_000
      const share = (SHARE_MARGIN * this.sent) / (1 + minutes) / 60_000
      target = Math.min(target, Math.max(share, this.maxPerMs * MIN_SHARE))
    }
    this.droppedTo = Math.max(target, this.maxPerMs / 100)
    this.droppedAt = now
  }

  private rate(now: number): number {
    const climbing = now - this.droppedAt - PLATEAU_MS
    if (climbing <= 0) return this.droppedTo
    return Math.min(this.maxPerMs, this.droppedTo + (this.maxPerMs * climbing) / RECOVERY_MS)
  }

  /**
   * After a 429 the run bursts no more than a couple of requests until its pace has recovered
   * in full: others are spending the budget, and a burst into an empty budget is answered by
   * a 429 per request.
   */
  private burstAt(perMs: number): number {
    if (this.droppedAt === -Infinity || perMs >= this.maxPerMs) return this.burst
    return Math.max(1, Math.min(this.burst, Math.floor(this.budget / PACED_BURST_DIVISOR)))
  }

  /** How long until `count` more sends keep every window within the budget (0: now). */
  private windowWait(count: number, now: number): number {
    const span = WINDOW_MS + WINDOW_MARGIN_MS
    while (this.head < this.log.length && this.log[this.head] <= now - span) this.head++
    if (this.head > 1024) {
      this.log = this.log.slice(this.head)
      this.head = 0
    }
    const over = this.log.length - this.head + count - this.budget
    return over <= 0 ? 0 : this.log[this.head + over - 1] + span - now
  }

  private async waitFor(count: number): Promise<void> {
    for (;;) {
      const now = this.now()
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now)
        continue
      }
      const perMs = this.rate(now)
      const cap = this.burstAt(perMs)
      // More than the bucket holds would never be available at once: wait for a full bucket
      // and run into debt, which later callers pay off.
      const need = Math.min(count, cap)
      this.tokens = Math.min(cap, this.tokens + (now - this.last) * perMs)
      this.last = now
      const windowMs = this.windowWait(Math.min(count, this.budget), now)
      if (this.tokens >= need && windowMs === 0) {
        this.tokens -= count
        this.sent += count
        for (let i = 0; i < count; i++) this.log.push(now)
        return
      }
      const tokenMs = this.tokens >= need ? 0 : Math.ceil((need - this.tokens) / perMs)
      await this.sleep(Math.max(tokenMs, Math.ceil(windowMs), 1))
    }
  }
}
