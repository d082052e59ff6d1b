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
/**
 * Once this run has sent this part of the budget within a window, each of its requests takes
 * two places in flight (see `weight`): when the organization's window runs dry, every request
 * in flight is answered 429, so a run deep into its burst keeps fewer of them out at once.
 * (A quarter: four jobs started together can each send this much before the window is dry.)
 */
const NARROW_AT = 0.25
/**
 * Under this budget (per minute) every request takes two places: at the sandbox's 100/min at
 * most five of a run's requests are out when the organization's window runs dry, so at most
 * five are answered 429 (jobs started together cannot tell how far into the shared window
 * they are; a late one met it with ten out).
 */
const SMALL_BUDGET = 200
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
 * increase). Until it has recovered, the pace is spent as a window's worth at a time: its
 * share of a window (pace × 1 min) may go at once, and no window of this run's holds more.
 * Polar's window is fixed and Retry-After outlasts the window that ran dry, so jobs that waited
 * it out share a fresh window, each spending its share, and meet the next one together;
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

  /**
   * Places in flight the next request takes, of the client's fixed number: two once this run
   * has spent a quarter of the budget within the last window (see `NARROW_AT`), and always
   * under a small budget (see `SMALL_BUDGET`).
   */
  weight(): number {
    if (this.budget < SMALL_BUDGET) return 2
    return this.inWindow(this.now()) >= this.budget * NARROW_AT ? 2 : 1
  }

  /**
   * A 429 said to wait: hold everyone back until then (capped like every Retry-After), and slow
   * down. `othersInFlight`: this run's requests sent and not yet answered (429s to come).
   */
  throttled(retryAfterMs: number, othersInFlight = 0): void {
    const now = this.now()
    this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(retryAfterMs, MAX_RETRY_AFTER_MS))
    this.tokens = 0
    this.sent-- // that request spent nothing of the budget
    // The window that ran dry is over once Retry-After has passed (Polar's is fixed, and
    // answers its length): what this run sent in it no longer counts against the next one.
    this.head = this.log.length
    if (now - this.droppedAt < HOLD_OFF_MS) return
    let target = this.rate(now) * DECREASE
    if (this.droppedAt === -Infinity && this.sent >= MIN_SAMPLE) {
      // The first 429 tells how crowded the budget is: run dry after T, the organization has
      // spent at most budget × (1 + T / 1 min) (a window's budget, and at most one more by
      // the time T reaches a minute), of which this run sent `sent`. Its share of the budget is
      // its fair pace: N jobs started together each land near 1/N after one 429, not after log N.
      const minutes = (now - this.startedAt) / 60_000
      // Those still in flight went into the dry window too: they are answered 429 as well.
      const accepted = Math.max(1, this.sent - othersInFlight)
      const share = (SHARE_MARGIN * accepted) / (1 + minutes) / 60_000
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
   * What this run may send within one window: the budget, or after a 429 until it has
   * recovered, its share (the pace × a window): others are spending the budget, and every
   * request past the organization's budget is answered 429 until the window ends.
   */
  private allowance(perMs: number): number {
    if (this.droppedAt === -Infinity || perMs >= this.maxPerMs) return this.budget
    return Math.max(1, Math.floor(perMs * WINDOW_MS))
  }

  /** Sends of this run in the last window (with the margin). */
  private inWindow(now: number): number {
    const span = WINDOW_MS + WINDOW_MARGIN_MS
    while (this.head < this.log.length && this.log[this.head] <= now - span) this.head++
    if (this.head > 1024) {
      this.log = this.log.slice(this.head)
      this.head = 0
    }
    return this.log.length - this.head
  }

  /** How long until `count` more sends keep every window within `allowed` (0: now). */
  private windowWait(count: number, allowed: number, now: number): number {
    const span = WINDOW_MS + WINDOW_MARGIN_MS
    const over = this.inWindow(now) + count - allowed
    return over <= 0 ? 0 : this.log[this.head + over - 1] + span - now
  }

  private async waitFor(count: number): Promise<void> {
    for (;;) {
      const now = this.now()
      if (now < this.pausedUntil) {
        await this.sleep(this.pausedUntil - now)
        // A fresh window once Retry-After has passed: this run's share of it may go at once.
        this.tokens = Infinity
        continue
      }
      const perMs = this.rate(now)
      const allowed = this.allowance(perMs)
      const cap = Math.min(this.burst, allowed)
      // More than the bucket holds would never be available at once: wait for a full bucket
      // and run into debt, which later callers pay off.
      const need = Math.min(count, cap)
      this.tokens = Math.min(cap, this.tokens + (now - this.last) * perMs)
      this.last = now
      const windowMs = this.windowWait(Math.min(count, allowed), allowed, now)
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
