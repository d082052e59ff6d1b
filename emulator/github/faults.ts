/** Queued GitHub faults: each applies to the next `times` requests it matches (FIFO). */
import { FaultQueue, pathFromJson } from '../common/faults.js'
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

export class GitHubFaults extends FaultQueue<GitHubFault> {
  override add(fault: GitHubFault): void {
    check(fault)
    super.add(fault)
  }

  take(target: 'api' | 'storage', method: string, path: string): GitHubFault | undefined {
    return this.next(target, method, path)
  }
}

/** A fault from JSON (control route): a RegExp path arrives as `{"regex": "..."}`. */
export function faultFromJson(value: unknown): GitHubFault {
  if (!value || typeof value !== 'object') throw new Error('fault must be an object')
  const v = value as Record<string, unknown>
  const fault = { ...v, path: pathFromJson(v.path, 'fault.path') } as GitHubFault
  check(fault)
  return fault
}
