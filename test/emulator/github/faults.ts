/** Queued GitHub faults: each applies to the next `times` requests it matches (FIFO). */
import { pathMatches } from '../faults.js'
import type { GitHubFault } from './types.js'

const KINDS = ['secondary-rate-limit', 'primary-rate-limit', 'status', 'reset']

function check(f: GitHubFault): void {
  if (f.target !== 'api' && f.target !== 'storage')
    throw new Error("fault.target must be 'api' or 'storage'")
  if (!KINDS.includes(f.kind)) throw new Error(`fault.kind must be one of ${KINDS.join(', ')}`)
  if (f.kind === 'status' && ![500, 502, 503].includes(f.status))
    throw new Error('fault.status must be 500, 502 or 503')
  if (f.kind === 'secondary-rate-limit' && f.status !== undefined && ![403, 429].includes(f.status))
    throw new Error('secondary-rate-limit status must be 403 or 429')
  const times = f.times ?? 1
  if (!Number.isInteger(times) || times < 1)
    throw new Error('fault.times must be a positive integer')
}

export class GitHubFaults {
  private queue: { fault: GitHubFault; remaining: number }[] = []

  add(fault: GitHubFault): void {
    check(fault)
    this.queue.push({ fault, remaining: fault.times ?? 1 })
  }

  clear(): void {
    this.queue = []
  }

  take(target: 'api' | 'storage', method: string, path: string): GitHubFault | undefined {
    const i = this.queue.findIndex(
      q =>
        q.fault.target === target &&
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

/** A fault from JSON (control route): a RegExp path arrives as `{"regex": "..."}`. */
export function faultFromJson(value: unknown): GitHubFault {
  if (!value || typeof value !== 'object') throw new Error('fault must be an object')
  const v = value as Record<string, unknown>
  const path = v.path as unknown
  let parsed: string | RegExp | undefined
  if (typeof path === 'string') parsed = path
  else if (
    path &&
    typeof path === 'object' &&
    typeof (path as { regex?: unknown }).regex === 'string'
  )
    parsed = new RegExp((path as { regex: string }).regex)
  else if (path !== undefined && path !== null)
    throw new Error('fault.path must be a string or {"regex": "..."}')
  const fault = { ...v, path: parsed } as GitHubFault
  check(fault)
  return fault
}
