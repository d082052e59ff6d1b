/** Fault plumbing shared by both emulators: path matching, JSON paths and the FIFO queue. */

/** `path`: exact string, a prefix when it ends in '*', or a RegExp. */
export function pathMatches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0 // a /g RegExp would otherwise alternate between true and false
    return pattern.test(path)
  }
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern
}

/** A path matcher from JSON: a string, or a RegExp sent as `{"regex": "..."}`. */
export function pathFromJson(path: unknown, name = 'path'): string | RegExp | undefined {
  if (path === undefined || path === null) return undefined
  if (typeof path === 'string') return path
  if (typeof path === 'object' && typeof (path as { regex?: unknown }).regex === 'string') {
    return new RegExp((path as { regex: string }).regex)
  }
  throw new Error(`${name} must be a string or {"regex": "..."}`)
}

/** What the queue matches a request on. */
export interface QueuedFaultBase {
  target: string
  method?: string
  path?: string | RegExp
  times?: number
}

/** Queued faults: each applies to the next `times` requests it matches, first queued first. */
export class FaultQueue<F extends QueuedFaultBase> {
  private queue: { fault: F; remaining: number }[] = []

  add(fault: F): void {
    const times = fault.times ?? 1
    if (!Number.isInteger(times) || times < 1)
      throw new Error('fault.times must be a positive integer')
    this.queue.push({ fault, remaining: times })
  }

  clear(): void {
    this.queue = []
  }

  /** Take the first queued fault matching this request (and `also`), consuming one use. */
  protected next(
    target: string,
    method: string,
    path: string,
    also: (fault: F) => boolean = () => true
  ): F | undefined {
    const i = this.queue.findIndex(
      q =>
        q.fault.target === target &&
        also(q.fault) &&
        (q.fault.method === undefined || q.fault.method.toUpperCase() === method) &&
        pathMatches(q.fault.path, path)
    )
    if (i < 0) return undefined
    const q = this.queue[i]
    q.remaining -= 1
    if (q.remaining === 0) this.queue.splice(i, 1)
    return q.fault
  }
}
