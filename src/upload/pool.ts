/**
 * The pool of part PUTs shared by every file: a fixed number in flight (`concurrency: 8`), or
 * `concurrency: auto`, which grows the number while the aggregate throughput keeps rising and
 * backs off on retried failures and on slowdowns, within 1..64.
 *
 * How auto measures and sets its limit: auto-concurrency.ts; the pool only applies its limit.
 */
import { Limiter } from '../limiter.js'
import { AUTO_MAX, AutoConcurrency } from './auto-concurrency.js'

export type Concurrency = number | 'auto'

/** What multipart.ts needs from the pool. */
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
