/**
 * Every input of action.yml, with the mode that reads it and its default: the only place in
 * the code a default is written (a test keeps this table and action.yml equal). Validation is
 * code, in the parsers beside this file.
 */

export type Mode = 'upload' | 'cleanup'

export interface InputSpec {
  /** The mode that reads the input; 'both' for the connection and the run's settings. */
  mode: Mode | 'both'
  /** action.yml's `default`, '' where it declares none. */
  default: string
}

// Grouped by mode; within a mode, the order of the ignored-input warnings.
export const INPUTS = {
  token: { mode: 'both', default: '' },
  mode: { mode: 'both', default: 'upload' },
  'organization-id': { mode: 'both', default: '' },
  server: { mode: 'both', default: 'production' },
  'api-url': { mode: 'both', default: '' },
  'api-version': { mode: 'both', default: '' },
  retries: { mode: 'both', default: '5' },
  // '' = the server's budget (see SERVERS).
  'rate-limit': { mode: 'both', default: '' },
  'dry-run': { mode: 'both', default: 'false' },

  files: { mode: 'upload', default: '' },
  'include-hidden-files': { mode: 'upload', default: 'false' },
  'working-directory': { mode: 'upload', default: '' },
  'if-no-files-found': { mode: 'upload', default: 'error' },
  name: { mode: 'upload', default: '{basename}' },
  version: { mode: 'upload', default: '' },
  replace: { mode: 'upload', default: 'true' },
  'if-unchanged': { mode: 'upload', default: 'skip' },
  'benefit-ids': { mode: 'upload', default: '' },
  concurrency: { mode: 'upload', default: '8' },
  'part-size': { mode: 'upload', default: '16MiB' },
  release: { mode: 'upload', default: '' },
  'github-token': { mode: 'upload', default: '${{ github.token }}' },
  'release-wait': { mode: 'upload', default: '0' },
  'checksums-manifest': { mode: 'upload', default: '' },

  keep: { mode: 'cleanup', default: '1' },
  'older-than': { mode: 'cleanup', default: '0' },
  names: { mode: 'cleanup', default: '*' },
  'protect-benefit-files': { mode: 'cleanup', default: 'true' },
  'allow-delete-all': { mode: 'cleanup', default: 'false' }
} as const satisfies Record<string, InputSpec>

export type InputName = keyof typeof INPUTS

/**
 * A default written as an expression (`${{ github.token }}`) reaches the action evaluated:
 * the code never sees it, and cannot tell a value set on purpose from it.
 */
export function isExpression(text: string): boolean {
  return text.startsWith('${{')
}

/**
 * Inputs only one mode reads, with their defaults: the runner passes every default, so only a
 * value that differs from it was set on purpose. (Expression defaults left out: see above.)
 */
export const MODE_ONLY: Record<Mode, Record<string, string>> = {
  upload: modeOnly('upload'),
  cleanup: modeOnly('cleanup')
}

function modeOnly(mode: Mode): Record<string, string> {
  const specs: [string, InputSpec][] = Object.entries(INPUTS)
  return Object.fromEntries(
    specs
      .filter(([, spec]) => spec.mode === mode && !isExpression(spec.default))
      .map(([name, spec]) => [name, spec.default])
  )
}
