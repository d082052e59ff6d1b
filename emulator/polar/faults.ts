/** Queued fault injection: each fault applies to the next `times` requests it matches. */
import { FaultQueue, pathFromJson } from '../common/faults.js'
import type { Fault } from './types.js'

export class Faults extends FaultQueue<Fault> {
  override add(fault: Fault): void {
    // A field fault alters an answer: it can only act after the request was handled.
    super.add(fault.kind === 'field' ? { ...fault, phase: 'after' } : fault)
  }

  /** Take the first queued fault matching this request and phase (FIFO), consuming one use. */
  take(
    target: 'api' | 's3',
    method: string,
    path: string,
    phase: 'before' | 'after'
  ): Fault | undefined {
    return this.next(target, method, path, f => (f.phase ?? 'before') === phase)
  }
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
