/**
 * A counting semaphore: holders take one place or more (`weight`), at most `size` in all; the
 * rest wait in arrival order.
 */
export class Limiter {
  private active = 0
  private readonly waiting: { weight: number; wake: () => void }[] = []

  constructor(readonly size: number) {}

  /**
   * Waits for `weight` places (at most `size`); the returned function gives them back
   * (calling it twice is harmless).
   */
  async acquire(weight = 1): Promise<() => void> {
    const w = Math.min(Math.max(1, weight), this.size)
    if (this.waiting.length > 0 || this.active + w > this.size) {
      await new Promise<void>(wake => this.waiting.push({ weight: w, wake }))
    } else this.active += w
    let released = false
    return () => {
      if (released) return
      released = true
      this.active -= w
      while (this.waiting.length > 0 && this.active + this.waiting[0].weight <= this.size) {
        const next = this.waiting.shift()!
        this.active += next.weight
        next.wake()
      }
    }
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire()
    try {
      return await task()
    } finally {
      release()
    }
  }
}

/** Runs `task` over `items` with at most `size` at once; settles every one (no early exit). */
export async function mapSettled<T, R>(
  items: T[],
  size: number,
  task: (item: T, index: number) => Promise<R>
): Promise<PromiseSettledResult<R>[]> {
  const limiter = new Limiter(size)
  return Promise.allSettled(items.map((item, i) => limiter.run(() => task(item, i))))
}
