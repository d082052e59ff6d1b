/**
 * `concurrency: auto`'s control loop: it grows the number of part PUTs in flight while the
 * aggregate throughput keeps rising and backs off on retried failures and on slowdowns.
 *
 * How auto measures. A part's bytes handed to the socket say little (the kernel's socket
 * buffers swallow megabytes at once, so a new connection looks fast at first); a part's whole
 * PUT, from start to S3's answer, is the truth. By Little's law the aggregate throughput is
 * (parts in flight, averaged over time) × (bytes ÷ duration of the parts that finished), so
 * one round of finished parts per setting is enough to compare two settings.
 *
 * Pure (an injectable clock); the pool in pool.ts only applies its limit.
 */

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

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(n)))
}
