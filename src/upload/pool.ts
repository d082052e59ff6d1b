/**
 * The pool of part PUTs shared by every file: a fixed number in flight (`concurrency: 8`), or
 * `concurrency: auto`, which grows the number while the aggregate throughput keeps rising and
 * backs off on retried failures and on slowdowns, within 1..64.
 *
 * How auto measures. A part's bytes handed to the socket say little (the kernel's socket
 * buffers swallow megabytes at once, so a new connection looks fast at first); a part's whole
 * PUT, from start to S3's answer, is the truth. By Little's law the aggregate throughput is
 * (parts in flight, averaged over time) × (bytes ÷ duration of the parts that finished), so
 * one round of finished parts per setting is enough to compare two settings.
 *
 * The control loop is pure (AutoConcurrency, injectable clock); the pool only applies its limit.
 */
import { Limiter } from '../limiter.js'

export type Concurrency = number | 'auto'

/** Most parts in flight with `auto`. */
export const AUTO_MAX = 64
/** Where `auto` starts. */
export const AUTO_INITIAL = 24

/** Slow start doubles again while a doubling brought at least this share of its promise. */
const DOUBLE_PAYOFF = 0.5
/**
 * A probe (+25 %) is kept when it brought at least this share (+2.5 %): more than noise, and less
 * than what per-connection-limited streams gain by covering the round trip each part leaves idle.
 */
const KEEP_PAYOFF = 0.1
/** A setting this much slower than the one before is undone. */
const SLOWER = 0.95

/** What upload.ts needs from the pool. */
export interface PartPool {
  /** Runs `task` once a place is free; `bytes` is what the task sends (for auto's measurements). */
  run<T>(task: () => Promise<T>, bytes?: number): Promise<T>
  /** Most tasks in flight now. */
  readonly limit: number
  /** A part PUT failed and will be retried (S3 throttling, a reset, a timeout, a 5xx). */
  retried?(): void
  /** For logs: the current limit and what auto did. */
  describe?(): string
}

/** HTTP connections the S3 agent may open: one per part in flight. */
export function connectionsFor(concurrency: Concurrency): number {
  return concurrency === 'auto' ? AUTO_MAX : concurrency
}

export function createPartPool(concurrency: Concurrency, now?: () => number): PartPool {
  return concurrency === 'auto'
    ? new AdaptivePool(new AutoConcurrency({ now }))
    : new FixedPool(concurrency)
}

/** `concurrency: N`: a plain limiter. */
export class FixedPool implements PartPool {
  private readonly limiter: Limiter

  constructor(readonly limit: number) {
    this.limiter = new Limiter(limit)
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return this.limiter.run(task)
  }
}

export interface AutoOptions {
  initial?: number
  min?: number
  max?: number
  now?: () => number
}

/** One running part, as the controller sees it. */
export interface PartToken {
  readonly startedAt: number
  readonly epoch: number
  /** One of the parts whose durations measure this epoch's setting. */
  readonly cohort: boolean
}

/** A setting's measured throughput. */
interface Measure {
  limit: number
  /** Bytes per ms. */
  rate: number
}

/**
 * Multiplicative growth (slow start) while doubling the parts in flight brings at least half
 * of the doubling in throughput; then additive probes (+25 %) from time to time, kept only if
 * they pay; a retried failure halves the limit (at most once per measurement round); a probe
 * that made things slower is undone.
 */
export class AutoConcurrency {
  readonly min: number
  readonly max: number
  private readonly now: () => number
  private current: number
  private slowStart = true
  private epoch = 0
  private epochStart: number
  /** ∫ in-flight dt over the epoch, and when it was last brought up to date. */
  private area = 0
  private lastEvent: number
  private inFlight = 0
  /**
   * The cohort: the first parts started in this epoch. The setting is measured once every one
   * of them has ended — not on the first parts to end, which are the fast ones.
   */
  private cohortSize = 0
  private cohortStarted = 0
  private cohortEnded = 0
  /** Cohort parts that finished well: bytes and ms. */
  private bytes = 0
  private ms = 0
  private samples = 0
  /** The setting measured before this one, and rounds held since the last probe. */
  private previous: Measure | null = null
  private held = 0
  /** When the last retry halved the limit, and the typical part duration (ms) then. */
  private backedOffAt = -Infinity
  private partMs = 1000
  private readonly history: string[] = []

  constructor(o: AutoOptions = {}) {
    this.min = o.min ?? 1
    this.max = o.max ?? AUTO_MAX
    this.now = o.now ?? (() => performance.now())
    this.current = clamp(o.initial ?? AUTO_INITIAL, this.min, this.max)
    this.epochStart = this.lastEvent = this.now()
    this.cohortSize = this.roundSize()
  }

  get limit(): number {
    return this.current
  }

  /** Call when a part starts; pass the token to finish(). */
  start(): PartToken {
    this.advance()
    // Idle until now (hashing, planning, between files): a round is measured from its first part.
    if (this.inFlight === 0 && this.cohortStarted === 0) {
      this.epochStart = this.lastEvent
      this.area = 0
    }
    this.inFlight++
    const cohort = this.cohortStarted < this.cohortSize
    if (cohort) this.cohortStarted++
    return { startedAt: this.lastEvent, epoch: this.epoch, cohort }
  }

  /** Call when a part ends; `ok` false for a part that failed (it is not measured). */
  finish(token: PartToken, bytes: number, ok: boolean): void {
    this.advance()
    this.inFlight--
    if (!token.cohort || token.epoch !== this.epoch) return
    this.cohortEnded++
    if (ok && bytes > 0) {
      this.bytes += bytes
      this.ms += Math.max(1, this.lastEvent - token.startedAt)
      this.samples++
    }
    if (this.cohortEnded === this.cohortSize) {
      if (this.samples > 0) this.decide()
      else this.newEpoch()
    }
  }

  /**
   * A part will be retried: halve the limit and stop growing fast. Parts that were in flight
   * together tend to fail together (S3 throttling, a dropped link): one halving per part
   * duration, as TCP halves once per round trip.
   */
  retried(): void {
    this.advance()
    if (this.lastEvent - this.backedOffAt < this.partMs) return
    this.backedOffAt = this.lastEvent
    this.slowStart = false
    this.previous = null
    this.set(Math.floor(this.current / 2), 'retry')
  }

  describe(): string {
    return `auto concurrency ${this.current} (${this.history.slice(-12).join(' ') || 'unchanged'})`
  }

  private advance(): void {
    const t = this.now()
    this.area += this.inFlight * Math.max(0, t - this.lastEvent)
    this.lastEvent = t
  }

  private decide(): void {
    const elapsed = this.lastEvent - this.epochStart
    const occupancy = elapsed > 0 ? this.area / elapsed : this.inFlight
    // Fewer parts were waiting than places (a file's last parts, hashing behind): a larger
    // limit could not be used, so this round says nothing about it. Measure again.
    if (occupancy < 0.8 * this.current) return this.newEpoch()
    this.partMs = Math.max(1000, this.ms / this.samples)
    const cur: Measure = { limit: this.current, rate: (occupancy * this.bytes) / this.ms }
    const prev = this.previous
    this.previous = cur

    if (prev && cur.limit > prev.limit) {
      if (cur.rate < prev.rate * SLOWER) {
        this.slowStart = false
        return this.set(prev.limit, 'slower')
      }
      // The share of the added parts' expected throughput that showed up.
      const payoff = (cur.rate / prev.rate - 1) / (cur.limit / prev.limit - 1)
      if (this.slowStart && payoff >= DOUBLE_PAYOFF) return this.set(this.current * 2, 'grow')
      const doubled = this.slowStart
      this.slowStart = false
      if (payoff >= KEEP_PAYOFF) return this.hold('kept')
      // A doubling that paid little: the knee lies between the two; settle halfway, above
      // the last setting that paid in full (its parts' round trips leave the pipe idle).
      if (doubled) return this.set((prev.limit + cur.limit) / 2, 'knee')
      return this.set(prev.limit, 'no-gain')
    }
    if (prev && cur.limit < prev.limit && cur.rate < prev.rate * 0.9 && !this.slowStart) {
      // Backed off (a retry, or an undone probe) and lost throughput: the earlier
      // setting was fine after all; go halfway back.
      return this.set(Math.ceil((cur.limit + prev.limit) / 2), 'recover')
    }
    if (this.slowStart) return this.set(this.current * 2, 'grow')
    return this.hold('hold')
  }

  /** Keep the limit; after a few rounds, probe 25 % higher. */
  private hold(why: string): void {
    if (++this.held >= 3) return this.set(Math.ceil(this.current * 1.25), 'probe')
    this.note(why)
    this.newEpoch()
  }

  private set(limit: number, why: string): void {
    const next = clamp(limit, this.min, this.max)
    this.held = 0
    if (next === this.current) {
      this.note(`${why}=${next}`)
      return this.newEpoch()
    }
    this.current = next
    this.note(`${why}→${next}`)
    this.newEpoch()
  }

  private note(entry: string): void {
    const rate = this.previous ? `@${Math.round(this.previous.rate / 1000)}MB/s` : ''
    this.history.push(`e${this.epoch}:${entry}${rate}`)
  }

  private newEpoch(): void {
    this.epoch++
    this.epochStart = this.lastEvent
    this.area = 0
    this.bytes = this.ms = this.samples = 0
    this.cohortSize = this.roundSize()
    this.cohortStarted = this.cohortEnded = 0
  }

  /**
   * Parts measured per setting: in slow start half the limit (after a doubling, exactly the
   * parts the new places started at once), later the whole limit; at least 4.
   */
  private roundSize(): number {
    return Math.max(4, this.slowStart ? Math.ceil(this.current / 2) : this.current)
  }
}

/** A pool whose limit follows an AutoConcurrency. */
export class AdaptivePool implements PartPool {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly control: AutoConcurrency) {}

  get limit(): number {
    return this.control.limit
  }

  async run<T>(task: () => Promise<T>, bytes = 0): Promise<T> {
    if (this.active < this.control.limit) this.active++
    else await new Promise<void>(resolve => this.waiting.push(resolve))
    const token = this.control.start()
    let ok = false
    try {
      const result = await task()
      ok = true
      return result
    } finally {
      this.control.finish(token, bytes, ok)
      this.active--
      this.pump()
    }
  }

  retried(): void {
    this.control.retried()
  }

  describe(): string {
    return this.control.describe()
  }

  /** Lets waiters in while there is room under the (possibly new) limit. */
  private pump(): void {
    while (this.waiting.length > 0 && this.active < this.control.limit) {
      this.active++
      this.waiting.shift()!()
    }
  }
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(n)))
}
