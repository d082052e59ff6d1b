/**
 * Local Polar Files API + S3 part endpoint for tests, the bench and the demo.
 * `startEmulator()` starts both servers on loopback; see README.md and INTERFACE.md.
 */
import { closeServer, listen, urlHost } from '../common/server.js'
import { createApiServer } from './server-api.js'
import { createControl } from './control.js'
import { Faults } from './faults.js'
import { Holds } from './holds.js'
import { RequestLog } from './log.js'
import { Network } from './network.js'
import { OpenApi } from './openapi.js'
import { RateLimiter } from './ratelimit.js'
import { createS3Server } from './server-s3.js'
import { Malware } from './malware.js'
import { snapshotBenefit, State } from './state.js'
import { ApiVersions } from './versions.js'
import type { Emulator, EmulatorConfig, EmulatorOptions } from './types.js'

export type {
  Emulator,
  EmulatorOptions,
  Fault,
  Hold,
  RequestLogEntry,
  S3NetworkSettings,
  SeedBenefit,
  SeedFile,
  StoredBenefit,
  StoredFile
} from './types.js'
export { presignPart, BUCKET } from './sigv4.js'
export { POLAR_VERSION, MAX_BODY_BYTES } from './server-api.js'
export { DEFAULT_VERSIONS, versionsAt, type VersionSettings } from './versions.js'
export type { MalwareRule } from './malware.js'

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1'
  const config: EmulatorConfig = {
    host,
    urlExpirySeconds: options.urlExpirySeconds ?? 3600,
    apiLatencyMs: options.apiLatencyMs ?? 0,
    apiJitterMs: options.apiJitterMs ?? 0,
    keepBodies: options.keepBodies ?? false,
    s3Url: ''
  }
  const state = new State()
  const faults = new Faults()
  const holds = new Holds()
  const log = new RequestLog()
  const limiter = new RateLimiter(options.rateLimitPerMinute ?? null)
  const openapi = new OpenApi()
  const versions = new ApiVersions(options.versions)
  const malware = new Malware()
  const token = state.createToken({ kind: 'oat' })

  const network = new Network({
    connectionBytesPerSec: options.s3ConnectionBytesPerSec ?? null,
    totalBytesPerSec: options.s3TotalBytesPerSec ?? null,
    rttMs: options.s3RttMs ?? 0,
    trustChecksums: options.s3TrustChecksums ?? false
  })
  const s3Server = createS3Server({ state, faults, log, config, network })
  const s3Port = await listen(s3Server, host, options.s3Port ?? 0)
  config.s3Url = `http://${urlHost(options.s3PublicHost ?? host)}:${s3Port}`

  const emulator: Emulator = {
    apiUrl: '',
    s3Url: config.s3Url,
    token,
    organizationId: state.organizationId,
    createToken: o => state.createToken(o),
    setRateLimit: perMinute => limiter.set(perMinute),
    setApiLatency: ms => {
      if (!(ms >= 0)) throw new Error('latency must be a non-negative number')
      config.apiLatencyMs = ms
    },
    setUrlExpiry: seconds => {
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 604800) {
        throw new Error('URL expiry must be an integer number of seconds in 1..604800')
      }
      config.urlExpirySeconds = seconds
    },
    setApiJitter: ms => {
      if (!(ms >= 0)) throw new Error('jitter must be a non-negative number')
      config.apiJitterMs = ms
    },
    holdRequests: h => holds.add(h),
    clearHolds: () => holds.clear(),
    setS3Network: n =>
      network.set({
        connectionBytesPerSec: n.s3ConnectionBytesPerSec,
        totalBytesPerSec: n.s3TotalBytesPerSec,
        rttMs: n.s3RttMs,
        trustChecksums: n.s3TrustChecksums
      }),
    s3Network: () => {
      const n = network.get()
      return {
        s3ConnectionBytesPerSec: n.connectionBytesPerSec,
        s3TotalBytesPerSec: n.totalBytesPerSec,
        s3RttMs: n.rttMs,
        s3TrustChecksums: n.trustChecksums
      }
    },
    injectFault: f => faults.add(f),
    clearFaults: () => faults.clear(),
    log: () => log.all(),
    clearLog: () => log.clear(),
    files: () => state.allFiles().map(f => state.snapshot(f)),
    benefits: () => state.allBenefits().map(snapshotBenefit),
    seedFile: f => state.seedFile(f),
    seedBenefit: b => state.seedBenefit(b),
    fileContent: id => {
      const f = state.file(id)
      return f?.isUploaded && f.deletedAt === null ? f.content : undefined
    },
    setVersions: v => versions.set(v),
    versions: () => versions.get(),
    flagMalicious: rule => malware.add(rule),
    clearMalwareRules: () => malware.clear(),
    flagFile: id => {
      const f = state.file(id)
      if (!f) throw new Error(`no file ${id}`)
      f.flaggedMaliciousAt = new Date().toISOString()
      return state.snapshot(f)
    },
    close: async () => {
      holds.clear()
      await Promise.all([closeServer(apiServer), closeServer(s3Server)])
    }
  }

  const apiServer = createApiServer({
    state,
    openapi,
    config,
    faults,
    log,
    limiter,
    holds,
    versions,
    malware,
    control: createControl(emulator)
  })
  try {
    const apiPort = await listen(apiServer, host, options.apiPort ?? 0)
    emulator.apiUrl = `http://${urlHost(host)}:${apiPort}`
  } catch (err) {
    await closeServer(s3Server)
    throw err
  }
  return emulator
}
