/** What each mode does with the inputs of the other, from the table's owning modes. */
import { InputError } from '../errors.js'
import type { Get } from './fields.js'
import { type InputName, type Mode, MODE_ONLY } from './table.js'

/**
 * Upload inputs that read as "only these files" (`files`, `name`, `release`, `version`,
 * `benefit-ids`). Cleanup selects by `names` alone (default `*`: every name of the
 * organization), so a destructive run does not guess: one of them set is an error.
 */
const CLEANUP_SCOPING = ['files', 'name', 'release', 'version', 'benefit-ids'] as const

export function refuseScopingInputs(get: Get): void {
  for (const name of CLEANUP_SCOPING) {
    const value = get(name)
    if (value === '' || value === MODE_ONLY.upload[name]) continue
    throw new InputError(
      name,
      `'${value.split(/\r?\n/).join(', ')}' is set, but cleanup does not read it: cleanup ` +
        'selects files by `names` only (default *, every name in the organization). Put the ' +
        'file names to clean up in `names` (e.g. names: *.zip), and remove ' +
        `\`${name}\` from this step.`
    )
  }
}

/** Inputs set away from their default that the mode ignores: said, not silently dropped. */
export function ignoredInputs(get: Get, mode: Mode): string[] {
  const other: Mode = mode === 'upload' ? 'cleanup' : 'upload'
  return Object.entries(MODE_ONLY[other])
    .filter(([name, fallback]) => {
      const value = get(name as InputName)
      return value !== '' && value.toLowerCase() !== fallback.toLowerCase()
    })
    .map(
      ([name]) => `Input '${name}' applies only to mode: ${other}; it is ignored in ${mode} mode.`
    )
}
