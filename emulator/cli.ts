/**
 * Run the emulator from the shell until SIGINT/SIGTERM:
 *   npx tsx emulator/cli.ts [--api-port N] [--s3-port N] [--rate-limit N] [--latency MS]
 *                                [--jitter MS] [--url-expiry S] [--seed-benefit]
 *                                [--s3-bandwidth RATE] [--s3-total-bandwidth RATE] [--s3-rtt MS]
 *                                [--s3-trust-checksums] [--github [--github-repo o/n]]
 *                                [--versions V,V,V --current-version V | --polar-quarter Q]
 *                                [--flag-malicious GLOB[:later]]...
 * Versions are YYYY-MM; --polar-quarter 2027-04 serves Polar right after that release
 * (2027-01, 2027-04 Current, 2027-07). --flag-malicious flags files of matching names at
 * upload (with :later, only in reads after the upload's answer).
 * RATE is bytes per second, with an optional unit: 25M or 25MB = 25,000,000; 8MiB = 8,388,608.
 * Prints POLAR_API_URL=, POLAR_TOKEN=, POLAR_ORGANIZATION_ID=, S3_URL= (and POLAR_BENEFIT_ID=);
 * with --github also GITHUB_API_URL=, GITHUB_TOKEN=, GITHUB_STORAGE_URL=, GITHUB_REPOSITORY=
 * (the GitHub emulator of ./github/, with one private repository, default acme/app).
 */
import { parseArgs } from 'node:util'
import { startEmulator } from './polar/index.js'
import { checkVersions, versionsAt, type VersionSettings } from './polar/versions.js'

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`)
    process.exit(2)
  }
  return n
}

const RATE_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3
}

/** Bytes per second: `25M`, `25MB`, `25MB/s`, `8MiB`, `1000000`. */
function rate(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)(?:\/s)?$/i.exec(value.trim())
  const unit = m ? RATE_UNITS[m[2].toLowerCase()] : undefined
  if (!m || unit === undefined || !(Number(m[1]) > 0)) {
    console.error(
      `--${name} must be a rate such as 25M (bytes per second), got ${JSON.stringify(value)}`
    )
    process.exit(2)
  }
  return Number(m[1]) * unit
}

const { values } = parseArgs({
  options: {
    'api-port': { type: 'string' },
    's3-port': { type: 'string' },
    'rate-limit': { type: 'string' },
    latency: { type: 'string' },
    jitter: { type: 'string' },
    'url-expiry': { type: 'string' },
    'seed-benefit': { type: 'boolean', default: false },
    github: { type: 'boolean', default: false },
    'github-repo': { type: 'string', default: 'acme/app' },
    's3-bandwidth': { type: 'string' },
    's3-total-bandwidth': { type: 'string' },
    's3-rtt': { type: 'string' },
    's3-trust-checksums': { type: 'boolean', default: false },
    versions: { type: 'string' },
    'current-version': { type: 'string' },
    'polar-quarter': { type: 'string' },
    'flag-malicious': { type: 'string', multiple: true }
  },
  strict: true
})

function versionOptions(): VersionSettings | undefined {
  try {
    if (values['polar-quarter']) return versionsAt(values['polar-quarter'])
    if (!values.versions) return undefined
    const served = values.versions.split(',').map(v => v.trim())
    return checkVersions({ served, current: values['current-version'] ?? served[0] })
  } catch (err) {
    console.error(`--versions/--polar-quarter: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(2)
  }
}

const emulator = await startEmulator({
  versions: versionOptions(),
  apiPort: int('api-port', values['api-port']),
  s3Port: int('s3-port', values['s3-port']),
  rateLimitPerMinute: int('rate-limit', values['rate-limit']) ?? null,
  apiLatencyMs: int('latency', values.latency),
  apiJitterMs: int('jitter', values.jitter),
  urlExpirySeconds: int('url-expiry', values['url-expiry']),
  s3ConnectionBytesPerSec: rate('s3-bandwidth', values['s3-bandwidth']) ?? null,
  s3TotalBytesPerSec: rate('s3-total-bandwidth', values['s3-total-bandwidth']) ?? null,
  s3RttMs: int('s3-rtt', values['s3-rtt']),
  s3TrustChecksums: values['s3-trust-checksums']
})

for (const flag of values['flag-malicious'] ?? []) {
  const later = flag.endsWith(':later')
  emulator.flagMalicious({
    name: later ? flag.slice(0, -6) : flag,
    when: later ? 'later' : 'upload'
  })
}

const lines = [
  `POLAR_API_URL=${emulator.apiUrl}`,
  `POLAR_TOKEN=${emulator.token}`,
  `POLAR_ORGANIZATION_ID=${emulator.organizationId}`,
  `S3_URL=${emulator.s3Url}`
]
if (values['seed-benefit']) {
  // A real downloadables benefit always lists at least one file: seed one to start from.
  const welcome = emulator.seedFile({
    name: 'welcome.txt',
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    size: 0,
    mimeType: 'text/plain'
  })
  lines.push(
    `POLAR_BENEFIT_ID=${emulator.seedBenefit({ description: 'Downloads', files: [welcome.id] }).id}`
  )
}
const closers = [() => emulator.close()]
if (values.github) {
  const { startGitHubEmulator } = await import('./github/index.js')
  const github = await startGitHubEmulator()
  closers.push(() => github.close())
  const [owner, name] = values['github-repo'].split('/')
  github.addRepo({ owner, name, private: true })
  lines.push(
    `GITHUB_API_URL=${github.apiUrl}`,
    `GITHUB_TOKEN=${github.token}`,
    `GITHUB_STORAGE_URL=${github.storageUrl}`,
    `GITHUB_REPOSITORY=${values['github-repo']}`
  )
}
process.stdout.write(`${lines.join('\n')}\n`)

let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  Promise.all(closers.map(close => close())).then(
    () => process.exit(0),
    () => process.exit(1)
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
