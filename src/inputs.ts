/**
 * Every input, parsed and validated once into a typed `Inputs`. Pure: reads only through the
 * `read` function and the `env` it is given, so tests can drive it without @actions/core.
 */
import * as path from 'node:path'
import { readFileSync } from 'node:fs'
import { InputError } from './errors.js'
import { scrub } from './log.js'
import { MAX_PART_SIZE, MIN_PART_SIZE } from './s3-limits.js'
import { isVersion, PINNED_VERSION } from './polar/api-version.js'
import { parseDuration, parseSize } from './units.js'
import { nameProblem, validateTemplate } from './upload/names.js'

export const SERVERS = {
  production: { url: 'https://api.polar.sh', rateLimit: 500 },
  sandbox: { url: 'https://sandbox-api.polar.sh', rateLimit: 100 }
} as const

export type Mode = 'upload' | 'cleanup'

/** A GitHub release to publish the assets of (`release` input). */
export interface ReleaseRef {
  owner: string
  repo: string
  tag: string
}
export type Server = keyof typeof SERVERS

export interface Inputs {
  token: string
  mode: Mode
  patterns: string[]
  /** Publish this release's assets instead of local files (`files` then selects by name). */
  release: ReleaseRef | null
  githubToken: string
  releaseWaitMs: number
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
  organizationId: string | null
  server: Server
  apiUrl: string
  /** `api-version`: strict when set; null = the action's pin (with a fallback if retired). */
  apiVersion: string | null
  /** Part PUTs in flight at once, or 'auto' (grown while throughput grows; see upload/pool.ts). */
  concurrency: number | 'auto'
  partSize: number
  retries: number
  rateLimit: number
  dryRun: boolean
  keep: number
  olderThanMs: number
  /** `older-than` as written (for the summary's rules). */
  olderThanText: string
  names: string[]
  protectBenefitFiles: boolean
  allowDeleteAll: boolean
  /** Inputs set away from their default that the mode ignores: said, not silently dropped. */
  warnings: string[]
}

/**
 * Inputs only one mode reads, with their action.yml defaults (a test keeps them equal): the
 * runner passes every default, so only a value that differs from it was set on purpose.
 */
export const MODE_ONLY: Record<Mode, Record<string, string>> = {
  upload: {
    files: '',
    'include-hidden-files': 'false',
    'working-directory': '',
    'if-no-files-found': 'error',
    name: '{basename}',
    version: '',
    replace: 'true',
    'if-unchanged': 'skip',
    'benefit-ids': '',
    concurrency: '8',
    'part-size': '16MiB',
    release: '',
    'release-wait': '0',
    'checksums-manifest': ''
  },
  cleanup: {
    keep: '1',
    'older-than': '0',
    names: '*',
    'protect-benefit-files': 'true',
    'allow-delete-all': 'false'
  }
}

/** Reads one raw input value ('' when not set), like core.getInput without trimming rules. */
export type ReadInput = (name: string) => string

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function parseInputs(read: ReadInput, env: NodeJS.ProcessEnv = process.env): Inputs {
  const get = (name: string): string => read(name).trim()

  const token = get('token')
  if (!token) {
    throw new InputError(
      'token',
      'is required. Pass a Polar organization access token kept as a secret, e.g. ' +
        '`token: ${{ secrets.POLAR_TOKEN }}`.'
    )
  }
  if (/\s/.test(token)) {
    throw new InputError(
      'token',
      'contains whitespace. Check that the secret holds only the token.'
    )
  }

  const mode = oneOf(get, 'mode', ['upload', 'cleanup'] as const, 'upload')
  const server = oneOf(get, 'server', ['production', 'sandbox'] as const, 'production')
  const dryRun = bool(get, 'dry-run', false)
  if (mode === 'cleanup') refuseScopingInputs(get)

  const organizationId = get('organization-id') || null
  if (organizationId !== null && !UUID.test(organizationId)) {
    throw new InputError(
      'organization-id',
      `'${organizationId}' is not a UUID. Copy the organization ID from Polar's settings.`
    )
  }
  if (organizationId !== null && token.startsWith('polar_oat_')) {
    throw new InputError(
      'organization-id',
      'must not be set with an organization access token (polar_oat_…): the token already names ' +
        'its organization and Polar rejects the combination with 422. Remove organization-id.'
    )
  }
  if (organizationId === null && token.startsWith('polar_pat_')) {
    throw new InputError(
      'organization-id',
      'is required with a personal access token (polar_pat_…). Set it to your organization ID, ' +
        'or use an organization access token instead.'
    )
  }

  const patterns = lines(get('files'))
  const release = parseRelease(get('release'), env)
  if (mode === 'upload' && patterns.length === 0 && !release) {
    throw new InputError(
      'files',
      'is required in upload mode (unless `release` is set). Give one glob pattern per line, ' +
        'e.g. `files: dist/*.zip`.'
    )
  }
  // Empty: the release is read without a token (public repositories only, as GitHub allows).
  const githubToken = get('github-token')
  const releaseWaitText = get('release-wait') || '0'
  const releaseWaitMs = parseDuration(releaseWaitText)
  if (releaseWaitMs === null) {
    throw new InputError(
      'release-wait',
      `'${releaseWaitText}' is not a duration. Use a number and a unit: 10m, 90s, or 0.`
    )
  }
  const checksumsManifest = get('checksums-manifest') || null
  const manifestProblem = checksumsManifest === null ? null : nameProblem(checksumsManifest)
  if (manifestProblem) {
    throw new InputError(
      'checksums-manifest',
      `'${checksumsManifest}' ${manifestProblem}: it is the manifest's file name, e.g. SHA256SUMS.`
    )
  }

  const nameTemplate = get('name') || '{basename}'
  const templateProblem = validateTemplate(nameTemplate)
  if (templateProblem) throw new InputError('name', templateProblem)

  // A release's tag is its assets' version; otherwise the tag this run is for.
  const version = get('version') || release?.tag || defaultVersion(env)
  if (mode === 'upload' && version === null && nameTemplate.includes('{version}')) {
    throw new InputError(
      'name',
      'uses {version}, but no version is set and this run is not for a tag. Set the `version` input.'
    )
  }

  const benefitIds = unique(
    get('benefit-ids')
      .split(/[\s,]+/)
      .filter(Boolean)
  )
  for (const id of benefitIds) {
    if (!UUID.test(id)) {
      throw new InputError(
        'benefit-ids',
        `'${id}' is not a benefit ID (a UUID). Copy the ID of a downloadables benefit from Polar.`
      )
    }
  }

  const apiUrl = parseApiUrl(get('api-url'), server)
  const apiVersion = get('api-version') || null
  if (apiVersion !== null && !isVersion(apiVersion)) {
    throw new InputError(
      'api-version',
      `'${apiVersion}' is not a Polar API version. Use YYYY-MM (e.g. ${PINNED_VERSION}), or ` +
        "leave it empty for the action's pin."
    )
  }

  const partSizeText = get('part-size') || '16MiB'
  const partSize = parseSize(partSizeText)
  if (partSize === null) {
    throw new InputError(
      'part-size',
      `'${partSizeText}' is not a size. Use bytes or a unit: e.g. 16MiB, 64MiB, 1GiB.`
    )
  }
  if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
    throw new InputError(
      'part-size',
      `'${partSizeText}' is outside S3's part limits. Use 5MiB to 5GiB (default 16MiB).`
    )
  }

  const olderThanText = get('older-than') || '0'
  const olderThanMs = parseDuration(olderThanText)
  if (olderThanMs === null) {
    throw new InputError(
      'older-than',
      `'${olderThanText}' is not a duration. Use a number and a unit: 90d, 12h, 30m, 45s, or 0.`
    )
  }

  const names = lines(get('names') || '*')
  if (mode === 'cleanup' && names.every(n => n.startsWith('!'))) {
    throw new InputError('names', 'needs at least one pattern that selects names, e.g. `*.zip`.')
  }

  const keep = integer(get, 'keep', 1, 0, 1_000_000)
  const allowDeleteAll = bool(get, 'allow-delete-all', false)
  const selectsEverything =
    names.some(n => n === '*' || n === '**') && !names.some(n => n.startsWith('!'))
  if (mode === 'cleanup' && keep === 0 && olderThanMs === 0 && selectsEverything) {
    if (!dryRun && !allowDeleteAll) {
      throw new InputError(
        'keep',
        'is 0 with older-than 0 and names *: this would delete every downloadable file of the ' +
          'organization. Keep at least one version (keep: 1), set older-than, narrow names, or, ' +
          'if you really mean it, set allow-delete-all: true (try dry-run: true first).'
      )
    }
  }

  const workingDirectory = path.resolve(
    env.GITHUB_WORKSPACE || process.cwd(),
    get('working-directory') || '.'
  )

  return {
    token,
    mode,
    patterns,
    release,
    githubToken,
    releaseWaitMs,
    checksumsManifest,
    includeHiddenFiles: bool(get, 'include-hidden-files', false),
    workingDirectory,
    ifNoFilesFound: oneOf(get, 'if-no-files-found', ['error', 'warn', 'ignore'] as const, 'error'),
    nameTemplate,
    version,
    replace: bool(get, 'replace', true),
    ifUnchanged: oneOf(get, 'if-unchanged', ['skip', 'upload'] as const, 'skip'),
    benefitIds,
    organizationId,
    server,
    apiUrl,
    apiVersion,
    concurrency: concurrencyInput(get),
    partSize,
    retries: integer(get, 'retries', 5, 0, 20),
    rateLimit: integer(get, 'rate-limit', SERVERS[server].rateLimit, 1, 100_000),
    dryRun,
    keep,
    olderThanMs,
    olderThanText,
    names,
    protectBenefitFiles: bool(get, 'protect-benefit-files', true),
    allowDeleteAll,
    warnings: ignoredInputs(get, mode)
  }
}

/**
 * Upload inputs that read as "only these files" (`files`, `name`, `release`, `version`,
 * `benefit-ids`). Cleanup selects by `names` alone (default `*`: every name of the
 * organization), so a destructive run does not guess: one of them set is an error.
 */
const CLEANUP_SCOPING = ['files', 'name', 'release', 'version', 'benefit-ids'] as const

function refuseScopingInputs(get: (n: string) => string): void {
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

function ignoredInputs(get: (n: string) => string, mode: Mode): string[] {
  const other: Mode = mode === 'upload' ? 'cleanup' : 'upload'
  return Object.entries(MODE_ONLY[other])
    .filter(([name, fallback]) => {
      const value = get(name)
      return value !== '' && value.toLowerCase() !== fallback.toLowerCase()
    })
    .map(
      ([name]) => `Input '${name}' applies only to mode: ${other}; it is ignored in ${mode} mode.`
    )
}

/** `v1.2.3` (this repository, from GITHUB_REPOSITORY) or `owner/repo@v1.2.3`; '' = none. */
function parseRelease(text: string, env: NodeJS.ProcessEnv): ReleaseRef | null {
  if (!text) return null
  if (text.startsWith('refs/tags/')) {
    const tag = text.slice('refs/tags/'.length)
    throw new InputError(
      'release',
      `'${text}' is a ref, not a tag (github.ref instead of github.ref_name). Use the tag: ` +
        `release: ${tag}, e.g. release: \${{ github.ref_name }}`
    )
  }
  const full = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)@(\S+)$/.exec(text)
  if (full) return { owner: full[1], repo: full[2], tag: full[3] }
  // Anything else is a tag of this repository (`pkg@1.2.3` and `@scope/pkg@1.2.3` too).
  if (/\s/.test(text)) {
    throw new InputError(
      'release',
      `'${text}' is not a tag or owner/repo@tag. Example: release: \${{ github.event.release.tag_name }}`
    )
  }
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/')
  if (!owner || !repo) {
    throw new InputError(
      'release',
      `is the tag '${text}', but GITHUB_REPOSITORY is not set to tell whose. Use owner/repo@${text}.`
    )
  }
  return { owner, repo, tag: text }
}

/** The tag of a tag push or a release event (any run on a tag ref); otherwise no version. */
export function defaultVersion(env: NodeJS.ProcessEnv): string | null {
  if (env.GITHUB_EVENT_NAME === 'release' && env.GITHUB_EVENT_PATH) {
    try {
      const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as {
        release?: { tag_name?: unknown }
      }
      if (typeof event.release?.tag_name === 'string' && event.release.tag_name) {
        return event.release.tag_name
      }
    } catch {
      // Fall back to the ref below.
    }
  }
  // A tag push, or any run started on a tag (a release, a dispatch on the tag): its tag.
  const ref = env.GITHUB_REF ?? ''
  if (ref.startsWith('refs/tags/')) return ref.slice('refs/tags/'.length) || null
  if (env.GITHUB_REF_TYPE === 'tag' && env.GITHUB_REF_NAME) return env.GITHUB_REF_NAME
  return null
}

function parseApiUrl(text: string, server: Server): string {
  if (!text) return SERVERS[server].url
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // Quoted scrubbed: a mistyped value could hold a credential (tokens by their shape).
    throw new InputError(
      'api-url',
      `'${scrub(text)}' is not a URL. Give a base URL with its scheme: https://api.polar.sh, ` +
        'or the emulator’s http://127.0.0.1:<port>'
    )
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new InputError('api-url', 'must not contain credentials, a query or a fragment.')
  }
  const loopback = isLoopback(url.hostname)
  if (/\/v1\/?$/.test(url.pathname)) {
    // The advice must be a URL the action takes: https:// unless the host is loopback.
    const origin = url.protocol === 'http:' && !loopback ? `https://${url.host}` : url.origin
    throw new InputError(
      'api-url',
      `'${url.origin}${url.pathname}' ends in /v1, which the action adds itself. Give the base ` +
        `URL: ${origin}${url.pathname.replace(/\/v1\/?$/, '') || ''}`
    )
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new InputError(
      'api-url',
      `'${url.origin}' must use https:// (plain http is allowed only for a loopback host such as ` +
        '127.0.0.1, for the local emulator). The token would otherwise travel unencrypted.'
    )
  }
  return url.href.replace(/\/+$/, '')
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l && !l.startsWith('#'))
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}

function oneOf<T extends string>(
  get: (n: string) => string,
  name: string,
  allowed: readonly T[],
  fallback: T
): T {
  const value = get(name)
  if (!value) return fallback
  const found = allowed.find(a => a === value.toLowerCase())
  if (!found) {
    throw new InputError(name, `'${value}' is not one of: ${allowed.join(', ')}.`)
  }
  return found
}

function bool(get: (n: string) => string, name: string, fallback: boolean): boolean {
  const value = get(name)
  if (!value) return fallback
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError(name, `'${value}' is not a boolean. Use true or false.`)
}

function integer(
  get: (n: string) => string,
  name: string,
  fallback: number,
  min: number,
  max: number
): number {
  const value = get(name)
  if (!value) return fallback
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(name, `'${value}' must be a whole number from ${min} to ${max}.`)
  }
  return Number(value)
}

/** `concurrency`: a whole number from 1 to 64, or `auto` (see upload/pool.ts). */
function concurrencyInput(get: (n: string) => string): number | 'auto' {
  const value = get('concurrency')
  if (value.toLowerCase() === 'auto') return 'auto'
  if (!value) return 8
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 64) {
    throw new InputError('concurrency', `'${value}' must be auto or a whole number from 1 to 64.`)
  }
  return Number(value)
}
