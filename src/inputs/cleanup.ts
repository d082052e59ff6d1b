/** The inputs cleanup mode reads: which files of the organization it may delete. */
import { InputError } from '../errors.js'
import { parseDuration } from '../units.js'
import { bool, type Get, integer, lines, orDefault } from './fields.js'

export interface CleanupInputs {
  keep: number
  olderThanMs: number
  /** `older-than` as written (for the summary's rules). */
  olderThanText: string
  names: string[]
  protectBenefitFiles: boolean
  allowDeleteAll: boolean
}

/** Read in either mode: upload ignores them (with a warning when set), but a bad value fails. */
export function parseCleanup(get: Get): CleanupInputs {
  const olderThanText = orDefault(get, 'older-than')
  const olderThanMs = parseDuration(olderThanText)
  if (olderThanMs === null) {
    throw new InputError(
      'older-than',
      `'${olderThanText}' is not a duration. Use a number and a unit: 90d, 12h, 30m, 45s, or 0.`
    )
  }
  return {
    keep: integer(get, 'keep', 0, 1_000_000),
    olderThanMs,
    olderThanText,
    names: lines(orDefault(get, 'names')),
    allowDeleteAll: bool(get, 'allow-delete-all'),
    protectBenefitFiles: bool(get, 'protect-benefit-files')
  }
}
