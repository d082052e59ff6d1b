/** Public types of the emulator (shapes fixed by INTERFACE.md; extra optional fields are additions). */

export interface EmulatorOptions {
  host?: string
  apiPort?: number
  s3Port?: number
  rateLimitPerMinute?: number | null
  urlExpirySeconds?: number
  apiLatencyMs?: number
  keepBodies?: boolean
  /** Addition (network model, network.ts): most body bytes/s per S3 connection; null = off. */
  s3ConnectionBytesPerSec?: number | null
  /** Addition: most body bytes/s across all S3 connections; null = off. */
  s3TotalBytesPerSec?: number | null
  /** Addition: added to every S3 request (a new connection's first request: twice). */
  s3RttMs?: number
  /** Addition, bench only: S3 believes the signed checksums instead of hashing bodies. */
  s3TrustChecksums?: boolean
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
  | (FaultBase & { kind: 'status'; status: 429 | 500 | 502 | 503; retryAfter?: number })
  | (FaultBase & { kind: 'reset'; afterBytes?: number })
  | (FaultBase & { kind: 'delay'; ms: number })

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
  keepBodies: boolean
  /** Filled in once the S3 server listens. */
  s3Url: string
}
