/** A counting semaphore: at most `size` holders at once; the rest wait in arrival order. */
export class Limiter {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly size: number) {}

  /** Waits for a place; the returned function gives it back (calling it twice is harmless). */
  async acquire(): Promise<() => void> {
    if (this.active >= this.size) await new Promise<void>(resolve => this.waiting.push(resolve))
    else this.active++
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
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
