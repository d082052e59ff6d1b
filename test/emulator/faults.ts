/** Queued fault injection: each fault applies to the next `times` requests it matches. */
import type { Fault } from './types.js'

interface QueuedFault {
  fault: Fault
  remaining: number
}

/** `path`: exact string, a prefix when it ends in '*', or a RegExp. */
export function pathMatches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0 // a /g RegExp would otherwise alternate between true and false
    return pattern.test(path)
  }
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern
}

export class Faults {
  private queue: QueuedFault[] = []

  add(fault: Fault): void {
    const times = fault.times ?? 1
    if (!Number.isInteger(times) || times < 1)
      throw new Error('fault.times must be a positive integer')
    // A field fault alters an answer: it can only act after the request was handled.
    this.queue.push({
      fault: fault.kind === 'field' ? { ...fault, phase: 'after' } : fault,
      remaining: times
    })
  }

  clear(): void {
    this.queue = []
  }

  /** Take the first queued fault matching this request and phase (FIFO), consuming one use. */
  take(
    target: 'api' | 's3',
    method: string,
    path: string,
    phase: 'before' | 'after'
  ): Fault | undefined {
    const i = this.queue.findIndex(
      q =>
        q.fault.target === target &&
        (q.fault.phase ?? 'before') === phase &&
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

/** A path matcher from JSON: a string, or a RegExp sent as `{"regex": "..."}`. */
export function pathFromJson(path: unknown): string | RegExp | undefined {
  if (path === undefined || path === null) return undefined
  if (typeof path === 'string') return path
  if (typeof path === 'object' && typeof (path as { regex?: unknown }).regex === 'string') {
    return new RegExp((path as { regex: string }).regex)
  }
  throw new Error('path must be a string or {"regex": "..."}')
}

/** Parse a fault from JSON (control route): RegExp paths arrive as `{"regex": "..."}`. */
export function faultFromJson(value: unknown): Fault {
  if (!value || typeof value !== 'object') throw new Error('fault must be an object')
  const v = value as Record<string, unknown>
  if (v.target !== 'api' && v.target !== 's3') throw new Error("fault.target must be 'api' or 's3'")
  const base = { ...v, path: pathFromJson(v.path) }
  switch (v.kind) {
    case 'status':
      if (![429, 500, 502, 503].includes(Number(v.status)))
        throw new Error('fault.status must be 429, 500, 502 or 503')
      return base as Fault
    case 'reset':
      return base as Fault
    case 'delay':
      if (typeof v.ms !== 'number' || v.ms < 0)
        throw new Error('fault.ms must be a non-negative number')
      return base as Fault
    case 'field':
      if (typeof v.field !== 'string' || !v.field) throw new Error('fault.field must be a dot path')
      return { ...base, phase: 'after' } as Fault
    default:
      throw new Error("fault.kind must be 'status', 'reset', 'delay' or 'field'")
  }
}

/** The JSON answer with `field` removed (or set to `value`): see the 'field' fault. */
export function alterField(json: unknown, field: string, value?: unknown): unknown {
  const copy = structuredClone(json) as Record<string, unknown>
  const keys = field.split('.')
  let at: Record<string, unknown> | undefined = copy
  for (const key of keys.slice(0, -1)) {
    at = at?.[key] as Record<string, unknown> | undefined
    if (typeof at !== 'object' || at === null) return copy
  }
  const last = keys[keys.length - 1]
  if (at) {
    if (value === undefined) delete at[last]
    else at[last] = value
  }
  return copy
}
