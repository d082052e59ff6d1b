/**
 * Every input, parsed and validated once into a typed `Inputs`. Pure: reads only through the
 * `read` function and the `env` it is given, so tests can drive it without @actions/core.
 * The inputs and their defaults: inputs/table.ts; one parser per concern beside it; the rules
 * that span inputs: checkCombinations below.
 */
import { InputError } from './errors.js'
import { type CleanupInputs, parseCleanup } from './inputs/cleanup.js'
import {
  type ConnectionInputs,
  type ParsedConnection,
  parseConnection,
  parseToken,
  SERVERS
} from './inputs/connection.js'
import { bool, type Get, oneOf } from './inputs/fields.js'
import { ignoredInputs, refuseScopingInputs } from './inputs/modes.js'
import type { Mode } from './inputs/table.js'
import { parseUpload, type UploadInputs } from './inputs/upload.js'

export { isLoopback, SERVERS, type Server } from './inputs/connection.js'
export { defaultVersion, type ReleaseRef } from './inputs/release.js'
export { INPUTS, type InputName, type Mode, MODE_ONLY } from './inputs/table.js'

/** Every input parsed; the fields of each concern are declared (and documented) with its parser. */
export interface Inputs extends ConnectionInputs, UploadInputs, CleanupInputs {
  token: string
  mode: Mode
  dryRun: boolean
  /** Inputs set away from their default that the mode ignores: said, not silently dropped. */
  warnings: string[]
}

/** Reads one raw input value ('' when not set), like core.getInput without trimming rules. */
export type ReadInput = (name: string) => string

export function parseInputs(read: ReadInput, env: NodeJS.ProcessEnv = process.env): Inputs {
  const get: Get = name => read(name).trim()
  const token = parseToken(get('token'))
  const mode = oneOf(get, 'mode', ['upload', 'cleanup'] as const)
  if (mode === 'cleanup') refuseScopingInputs(get)
  const connection = parseConnection(get)
  const dryRun = bool(get, 'dry-run')
  return checkCombinations({
    token,
    ...connection,
    mode,
    dryRun,
    ...parseUpload(get, env),
    ...parseCleanup(get),
    warnings: ignoredInputs(get, mode)
  })
}

type Parsed = Omit<Inputs, 'rateLimit'> & Pick<ParsedConnection, 'rateLimit'>

/**
 * The rules that span inputs, in one place (each input is valid on its own by now): the
 * combinations refused, then the default that depends on another input. (Defaults from another
 * input inside one concern stay with it: api-url's from server, version's from release.)
 */
function checkCombinations(i: Parsed): Inputs {
  if (i.organizationId !== null && i.token.startsWith('polar_oat_')) {
    throw new InputError(
      'organization-id',
      'must not be set with an organization access token (polar_oat_…): the token already names ' +
        'its organization and Polar rejects the combination with 422. Remove organization-id.'
    )
  }
  if (i.organizationId === null && i.token.startsWith('polar_pat_')) {
    throw new InputError(
      'organization-id',
      'is required with a personal access token (polar_pat_…). Set it to your organization ID, ' +
        'or use an organization access token instead.'
    )
  }
  if (i.mode === 'upload' && i.patterns.length === 0 && !i.release) {
    throw new InputError(
      'files',
      'is required in upload mode (unless `release` is set). Give one glob pattern per line, ' +
        'e.g. `files: dist/*.zip`.'
    )
  }
  if (i.mode === 'upload' && i.version === null && i.nameTemplate.includes('{version}')) {
    throw new InputError(
      'name',
      'uses {version}, but no version is set and this run is not for a tag. Set the `version` input.'
    )
  }
  if (i.mode === 'cleanup') {
    if (i.names.every(n => n.startsWith('!'))) {
      throw new InputError('names', 'needs at least one pattern that selects names, e.g. `*.zip`.')
    }
    // The delete-all guard: every name, every age, nothing kept.
    const everyName =
      i.names.some(n => n === '*' || n === '**') && !i.names.some(n => n.startsWith('!'))
    const deletesAll = i.keep === 0 && i.olderThanMs === 0 && everyName
    if (deletesAll && !i.dryRun && !i.allowDeleteAll) {
      throw new InputError(
        'keep',
        'is 0 with older-than 0 and names *: this would delete every downloadable file of the ' +
          'organization. Keep at least one version (keep: 1), set older-than, narrow names, or, ' +
          'if you really mean it, set allow-delete-all: true (try dry-run: true first).'
      )
    }
  }
  return { ...i, rateLimit: i.rateLimit ?? SERVERS[i.server].rateLimit }
}
