/** Public types of the GitHub REST emulator (see README.md; extras are marked "Extra"). */

export interface GitHubEmulatorOptions {
  /** Default '127.0.0.1'. */
  apiHost?: string
  /**
   * Default '127.0.0.2': a DIFFERENT hostname from the API, because @actions/http-client strips
   * `Authorization` only when the redirect changes the hostname (contract §6, §11).
   */
  storageHost?: string
  /** Default '/api/v3' (GHES-style), so a client that drops the base path fails. '' = github.com style. */
  apiPrefix?: string
  /** Lifetime of the signed storage URL (X-Amz-Expires); default 300. */
  signedUrlTtlSeconds?: number
  /** `per_page` when the client sends none; default 30 (GitHub's), at most 100. */
  perPageDefault?: number
  /** Extra: fixed ports (default 0 = ephemeral). */
  apiPort?: number
  storagePort?: number
  /** Extra: how many assets a release object embeds (GitHub's cap is undocumented); default 10. */
  embeddedAssetsLimit?: number
  /** Extra: primary rate limit per token per hour; default 5000 (anonymous: 60, per emulator). */
  rateLimitPerHour?: number
}

export type AssetState = 'uploaded' | 'starter' | 'open'
export type AssetServe = 'redirect' | 'direct' | 'html-200'

export interface AddAsset {
  repo: string
  tag: string
  name: string
  /** `{path}` is hashed once at add time and streamed from disk on every download. */
  content: Buffer | { path: string }
  state?: AssetState
  uploadedAfterMs?: number
  digest?: string | null | 'auto'
  serve?: AssetServe
  contentType?: string
  /** Extra: the asset's `label` (default null). */
  label?: string | null
}

export interface CreateToken {
  /** 'owner/name' list; omitted = every repository, including ones added later. */
  repos?: string[]
  permission?: 'read' | 'none'
}

export interface GitHubEmulator {
  /** What GITHUB_API_URL would hold: 'http://127.0.0.1:PORT/api/v3'. */
  apiUrl: string
  /** 'http://127.0.0.2:PORT' */
  storageUrl: string
  /** Extra: what GITHUB_SERVER_URL would hold (the API origin, as on GHES); serves browser_download_url. */
  serverUrl: string
  /** Reads every repository (permission 'read', no repository list). */
  token: string
  createToken(o?: CreateToken): string
  addRepo(o: { owner: string; name: string; private?: boolean }): { id: number }
  addRelease(o: {
    repo: string
    tag: string
    draft?: boolean
    prerelease?: boolean
    immutable?: boolean
  }): { id: number }
  addAsset(o: AddAsset): Promise<{ id: number; digest: string | null; size: number }>
  setAssetState(id: number, state: AssetState): void
  injectFault(f: GitHubFault): void
  clearFaults(): void
  log(): GitHubLogEntry[]
  clearLog(): void
  close(): Promise<void>
}

interface FaultBase {
  target: 'api' | 'storage'
  /** URL path without the query, as logged (API: with the prefix). Exact, prefix ending in '*', or RegExp. */
  path?: string | RegExp
  /** Extra: only requests with this method. */
  method?: string
  times?: number
}
export type GitHubFault =
  | (FaultBase & {
      kind: 'secondary-rate-limit'
      status?: 403 | 429
      /** Default 60; extra: null sends no `retry-after` (GitHub does not always). */
      retryAfter?: number | null
    })
  | (FaultBase & { kind: 'primary-rate-limit'; resetInSeconds?: number })
  | (FaultBase & { kind: 'status'; status: 500 | 502 | 503 })
  | (FaultBase & { kind: 'reset'; afterBytes?: number })

export interface GitHubLogEntry {
  target: 'api' | 'storage'
  method: string
  /** Without the query string. */
  path: string
  /** API only; '' for storage (a signed query is a credential). */
  query: string
  /** Status sent, or 0 when the connection was cut. */
  status: number
  /** An Authorization header was present (its value is never kept). */
  authorization: boolean
  accept?: string
  userAgent?: string
  startedAt: number
  endedAt: number
  /** Response body bytes written. */
  bytes?: number
  /** Why the emulator answered an error (or cut the connection). */
  error?: string
}
