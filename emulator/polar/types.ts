import type { MalwareRule } from './malware.js'
import type { VersionSettings } from './versions.js'
/** Public types of the emulator (shapes fixed by INTERFACE.md; extra optional fields are additions). */

export interface EmulatorOptions {
  host?: string
  apiPort?: number
  s3Port?: number
  /**
   * Addition: the host name presigned into part URLs (default: `host`), as real S3 has its own
   * public name. The server still listens on `host`: only a proxy that maps the name back can
   * reach it (the proxy tests).
   */
  s3PublicHost?: string
  rateLimitPerMinute?: number | null
  urlExpirySeconds?: number
  apiLatencyMs?: number
  /** Addition: a random extra delay of 0…N ms before and after handling each API request. */
  apiJitterMs?: number
  keepBodies?: boolean
  /** Addition (network model, network.ts): most body bytes/s per S3 connection; null = off. */
  s3ConnectionBytesPerSec?: number | null
  /** Addition: most body bytes/s across all S3 connections; null = off. */
  s3TotalBytesPerSec?: number | null
  /** Addition: added to every S3 request (a new connection's first request: twice). */
  s3RttMs?: number
  /** Addition, bench only: S3 believes the signed checksums instead of hashing bodies. */
  s3TrustChecksums?: boolean
  /** Addition: the API versions served (default: December 2026's, see versions.ts). */
  versions?: VersionSettings
}

/** Addition: the S3 network model's live settings (see network.ts). */
export interface S3NetworkSettings {
  s3ConnectionBytesPerSec: number | null
  s3TotalBytesPerSec: number | null
  s3RttMs: number
  s3TrustChecksums: boolean
}

export interface Emulator {
  apiUrl: string
  s3Url: string
  token: string
  organizationId: string
  createToken(o: { kind?: 'oat' | 'pat'; scopes?: string[]; organizationId?: string }): string
  setRateLimit(perMinute: number | null): void
  setApiLatency(ms: number): void
  setUrlExpiry(seconds: number): void
  /** Addition: see EmulatorOptions.apiJitterMs. */
  setApiJitter(ms: number): void
  /** Addition: hold the next `count` matching API requests until all of them have arrived. */
  holdRequests(h: Hold): void
  /** Addition: release every held request and forget pending holds. */
  clearHolds(): void
  /** Addition: change some of the S3 network model's settings, live. */
  setS3Network(n: Partial<S3NetworkSettings>): void
  s3Network(): S3NetworkSettings
  injectFault(f: Fault): void
  clearFaults(): void
  log(): RequestLogEntry[]
  clearLog(): void
  files(): StoredFile[]
  benefits(): StoredBenefit[]
  seedFile(f: SeedFile): StoredFile
  seedBenefit(b: {
    description?: string
    files: string[]
    archived?: Record<string, boolean>
    organizationId?: string
  }): StoredBenefit
  fileContent(id: string): Buffer | undefined
  /** Addition: the API versions served and the Current one (see versions.ts). */
  setVersions(v: VersionSettings): void
  versions(): VersionSettings
  /** Addition: flag files completing with a matching name as malicious (see malware.ts). */
  flagMalicious(rule: MalwareRule): void
  clearMalwareRules(): void
  /** Addition: flag one file now, as a scan finishing later in a run would. */
  flagFile(id: string): StoredFile
  close(): Promise<void>
}

interface FaultBase {
  target: 'api' | 's3'
  method?: string
  path?: string | RegExp
  times?: number
  /**
   * Addition: 'before' (default) answers instead of handling the request; 'after' handles the
   * request first (state changes happen) and then answers with the fault — an ambiguous failure.
   */
  phase?: 'before' | 'after'
}
export type Fault =
  | (FaultBase & {
      kind: 'status'
      status: 429 | 500 | 502 | 503
      retryAfter?: number
      /** Addition (API): the body echoes the request line and headers, token included. */
      echo?: boolean
    })
  | (FaultBase & { kind: 'reset'; afterBytes?: number })
  | (FaultBase & { kind: 'delay'; ms: number })
  /**
   * Addition (API, phase 'after'): the request is handled, then `field` (a dot path; numbers
   * index arrays, e.g. `upload.parts.0.url`) is removed from the JSON answer, or set to
   * `value` — a Polar whose schema moved on.
   */
  | (FaultBase & { kind: 'field'; field: string; value?: unknown })

/**
 * Addition: the next `count` API requests matching `method`/`path` wait until all `count` have
 * arrived (or `timeoutMs`, default 30 s, passed), then go on one after another, `gapMs` apart
 * (default 20), in arrival order or reversed. Makes concurrent writers overlap for certain.
 */
export interface Hold {
  method?: string
  path?: string | RegExp
  count: number
  order?: 'arrival' | 'reverse'
  gapMs?: number
  timeoutMs?: number
}

export interface RequestLogEntry {
  target: 'api' | 's3'
  method: string
  path: string
  query: string
  status: number
  authorization: boolean
  polarVersion?: string
  userAgent?: string
  contentLength?: number
  startedAt: number
  endedAt: number
  /** Addition: why the emulator answered an error (e.g. the S3 failure behind a Polar 500). */
  error?: string
  /** Addition: the request waited for a hold (see Hold). */
  held?: boolean
  /**
   * Addition, on `DELETE /v1/files/{id}`: the benefits that listed the file when it was deleted
   * (Polar allows it; customers of those benefits lose the download at once).
   */
  listedBy?: string[]
}

export interface StoredPart {
  number: number
  size: number
  etag: string
  sha256Base64: string
}

export interface StoredFile {
  id: string
  organizationId: string
  name: string
  path: string
  service: string
  mimeType: string
  size: number
  version: string | null
  checksumSha256Base64: string | null
  checksumSha256Hex: string | null
  checksumEtag: string | null
  isUploaded: boolean
  createdAt: string
  deletedAt: string | null
  uploadId: string | null
  parts: StoredPart[]
  /** Addition: when /uploaded succeeded (Polar's last_modified_at). */
  lastModifiedAt?: string | null
  /** Addition: when Polar's malware scan flagged the file (`flagged_malicious_at`); null: not. */
  flaggedMaliciousAt?: string | null
}

export interface SeedFile {
  name: string
  version?: string | null
  sha256?: string
  size?: number
  createdAt?: string
  service?: 'downloadable' | 'product_media' | 'organization_avatar'
  mimeType?: string
  organizationId?: string
  /** Addition: seeded as flagged by Polar's malware scan at this time. */
  flaggedMaliciousAt?: string
}

export interface StoredBenefit {
  id: string
  organizationId: string
  description: string
  files: string[]
  archived: Record<string, boolean>
  createdAt: string
  /** Addition: last PATCH time (Polar's modified_at). */
  modifiedAt?: string | null
}

export interface SeedBenefit {
  description?: string
  files: string[]
  archived?: Record<string, boolean>
  organizationId?: string
}

/** Live settings shared by both servers. */
export interface EmulatorConfig {
  host: string
  urlExpirySeconds: number
  apiLatencyMs: number
  apiJitterMs: number
  keepBodies: boolean
  /** Filled in once the S3 server listens. */
  s3Url: string
}
