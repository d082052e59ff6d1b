/** The inputs upload mode reads: what to publish, under which names, and how to transfer it. */
import * as path from 'node:path'
import { InputError } from '../errors.js'
import { MAX_PART_SIZE, MIN_PART_SIZE } from '../s3-limits.js'
import { parseSize } from '../units.js'
import { nameProblem, validateTemplate } from '../upload/names.js'
import { bool, type Get, lines, oneOf, orDefault, unique, UUID } from './fields.js'
import { defaultVersion, parseReleaseSource, type ReleaseSourceInputs } from './release.js'
import { INPUTS } from './table.js'

export interface UploadInputs extends ReleaseSourceInputs {
  patterns: string[]
  /** Also publish the `checksums` text under this name. */
  checksumsManifest: string | null
  includeHiddenFiles: boolean
  workingDirectory: string
  ifNoFilesFound: 'error' | 'warn' | 'ignore'
  nameTemplate: string
  version: string | null
  replace: boolean
  ifUnchanged: 'skip' | 'upload'
  benefitIds: string[]
  /** Part PUTs in flight at once, or 'auto' (grown while throughput grows; see upload/pool.ts). */
  concurrency: number | 'auto'
  partSize: number
}

/** Read in either mode: cleanup ignores them (with a warning when set), but a bad value fails. */
export function parseUpload(get: Get, env: NodeJS.ProcessEnv): UploadInputs {
  const patterns = lines(get('files'))
  const source = parseReleaseSource(get, env)
  const checksumsManifest = get('checksums-manifest') || null
  const manifestProblem = checksumsManifest === null ? null : nameProblem(checksumsManifest)
  if (manifestProblem) {
    throw new InputError(
      'checksums-manifest',
      `'${checksumsManifest}' ${manifestProblem}: it is the manifest's file name, e.g. SHA256SUMS.`
    )
  }
  const nameTemplate = orDefault(get, 'name')
  const templateProblem = validateTemplate(nameTemplate)
  if (templateProblem) throw new InputError('name', templateProblem)
  // A release's tag is its assets' version; otherwise the tag this run is for.
  const version = get('version') || source.release?.tag || defaultVersion(env)
  const benefitIds = parseBenefitIds(get)
  const partSize = parsePartSize(get)
  return {
    patterns,
    ...source,
    checksumsManifest,
    includeHiddenFiles: bool(get, 'include-hidden-files'),
    // Empty: the workspace.
    workingDirectory: path.resolve(env.GITHUB_WORKSPACE || process.cwd(), get('working-directory')),
    ifNoFilesFound: oneOf(get, 'if-no-files-found', ['error', 'warn', 'ignore'] as const),
    nameTemplate,
    version,
    replace: bool(get, 'replace'),
    ifUnchanged: oneOf(get, 'if-unchanged', ['skip', 'upload'] as const),
    benefitIds,
    concurrency: parseConcurrency(get),
    partSize
  }
}

function parseBenefitIds(get: Get): string[] {
  const ids = unique(
    get('benefit-ids')
      .split(/[\s,]+/)
      .filter(Boolean)
  )
  for (const id of ids) {
    if (!UUID.test(id)) {
      throw new InputError(
        'benefit-ids',
        `'${id}' is not a benefit ID (a UUID). Copy the ID of a downloadables benefit from Polar.`
      )
    }
  }
  return ids
}

function parsePartSize(get: Get): number {
  const text = orDefault(get, 'part-size')
  const size = parseSize(text)
  if (size === null) {
    throw new InputError(
      'part-size',
      `'${text}' is not a size. Use bytes or a unit: e.g. 16MiB, 64MiB, 1GiB.`
    )
  }
  if (size < MIN_PART_SIZE || size > MAX_PART_SIZE) {
    throw new InputError(
      'part-size',
      `'${text}' is outside S3's part limits. Use 5MiB to 5GiB (default ${INPUTS['part-size'].default}).`
    )
  }
  return size
}

/** `concurrency`: a whole number from 1 to 64, or `auto` (see upload/pool.ts). */
function parseConcurrency(get: Get): number | 'auto' {
  const value = orDefault(get, 'concurrency')
  if (value.toLowerCase() === 'auto') return 'auto'
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 64) {
    throw new InputError('concurrency', `'${value}' must be auto or a whole number from 1 to 64.`)
  }
  return Number(value)
}
