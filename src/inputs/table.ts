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

const both = (value = '') => ({ mode: 'both', default: value }) as const
const upload = (value = '') => ({ mode: 'upload', default: value }) as const
const cleanup = (value = '') => ({ mode: 'cleanup', default: value }) as const

// Grouped by mode; within a mode, the order of the ignored-input warnings. An input's default
// is the argument, '' where none is given.
export const INPUTS = {
  token: both(),
  mode: both('upload'),
  'organization-id': both(),
  server: both('production'),
  'api-url': both(),
  'api-version': both(),
  retries: both('5'),
  // '' = the server's budget (see SERVERS).
  'rate-limit': both(),
  'dry-run': both('false'),

  files: upload(),
  'include-hidden-files': upload('false'),
  'working-directory': upload(),
  'if-no-files-found': upload('error'),
  name: upload('{basename}'),
  version: upload(),
  replace: upload('true'),
  'if-unchanged': upload('skip'),
  'benefit-ids': upload(),
  concurrency: upload('8'),
  'part-size': upload('16MiB'),
  release: upload(),
  'github-token': upload('${{ github.token }}'),
  'release-wait': upload('0'),
  'checksums-manifest': upload(),

  keep: cleanup('1'),
  'older-than': cleanup('0'),
  names: cleanup('*'),
  'protect-benefit-files': cleanup('true'),
  'allow-delete-all': cleanup('false')
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
