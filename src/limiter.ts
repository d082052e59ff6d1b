/** A counting semaphore: at most `size` tasks run at once; the rest wait in arrival order. */
export class Limiter {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>(resolve => this.waiting.push(resolve))
    else this.active++
    try {
      return await task()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
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
