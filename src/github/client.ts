/**
 * The GitHub REST calls behind the `release` source, through @actions/github's Octokit (its
 * base URL from GITHUB_API_URL, so GHES works; the runner's proxy): a release by tag, its
 * assets page by page, and an asset's bytes. The asset call's redirect is not followed by
 * Octokit: its storage URL is fetched here with no credentials at all, so the token can never
 * reach the storage host. Rate limits are waited out; every message is parsed and scrubbed.
 */
import { getOctokit } from '@actions/github'
import { GitHub } from '@actions/github/lib/utils'
import { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import { GitHubApiError, InputError } from '../errors.js'
import { describeError, scrub, type Logger } from '../log.js'
import type { ReleaseRef } from '../inputs.js'
import { proxyAwareDispatcher } from '../proxy.js'
import { isNetworkError, MAX_RETRY_AFTER_MS, withRetry, type RetryPolicy } from '../retry.js'
import { USER_AGENT } from '../version.js'
import type { Asset } from './select.js'

/** How long a rate limit may be waited out in one go before the run gives up. */
const MAX_RATE_LIMIT_WAIT_MS = 5 * 60_000
/** Redirects between the asset call and the bytes (GitHub uses one). */
const MAX_HOPS = 3

export interface GitHubDeps {
  token: string
  retry: RetryPolicy
  logger: Logger
  signal?: AbortSignal
  /** Default: GITHUB_API_URL, else https://api.github.com. */
  apiUrl?: string
}

/** What Octokit throws for an HTTP error (RequestError), as far as this module reads it. */
interface HttpError {
  status: number
  message: string
  response?: { headers?: Record<string, string | undefined>; data?: unknown }
}
const isHttpError = (e: unknown): e is HttpError =>
  e instanceof Error && typeof (e as { status?: unknown }).status === 'number'

/** A storage answer other than the bytes (an expired URL, a 5xx): never carries the URL. */
class StorageRefusal extends Error {
  constructor(readonly status: number) {
    super(`the storage host answered HTTP ${status}`)
  }
}

export class GitHubReleases {
  private readonly octokit: ReturnType<typeof getOctokit>
  private readonly storage: Dispatcher

  constructor(
    private readonly ref: ReleaseRef,
    private readonly deps: GitHubDeps
  ) {
    const baseUrl = deps.apiUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com'
    // No token: anonymous reads, which GitHub allows on public repositories (60 requests/hour).
    this.octokit = deps.token
      ? getOctokit(deps.token, { baseUrl, userAgent: USER_AGENT })
      : (new GitHub({ baseUrl, userAgent: USER_AGENT }) as ReturnType<typeof getOctokit>)
    // Storage is another host: its own pool, proxies from the environment, no credentials.
    this.storage = proxyAwareDispatcher({ connectTimeout: 15_000 })
  }

  close(): Promise<void> {
    return this.storage.close()
  }

  /** The published release with this tag (drafts are never found by tag). */
  async release(): Promise<{ id: number; tag_name: string }> {
    const { tag } = this.ref
    try {
      return await this.releaseByTag(tag)
    } catch (error) {
      // `1.0.0` for the tag `v1.0.0` (or the reverse) is a common slip: name the one that exists.
      const other = /^v\d/i.test(tag) ? tag.slice(1) : /^\d/.test(tag) ? `v${tag}` : null
      if (!(error instanceof InputError) || error.input !== 'release' || !other) throw error
      const found = await this.releaseByTag(other).then(
        () => true,
        () => false
      )
      if (!found) throw error
      throw new InputError(
        'release',
        `there is no published release '${tag}' in ${this.ref.owner}/${this.ref.repo}, but there ` +
          `is one tagged '${other}'. Did you mean release: ${other}?`
      )
    }
  }

  private async releaseByTag(tag: string): Promise<{ id: number; tag_name: string }> {
    const { owner, repo } = this.ref
    const res = await this.call('GET /repos/{owner}/{repo}/releases/tags/{tag}', () =>
      this.octokit.request('GET /repos/{owner}/{repo}/releases/tags/{tag}', { owner, repo, tag })
    )
    return { id: res.data.id, tag_name: res.data.tag_name }
  }

  /** Every asset, 100 a page, following GitHub's `Link` URLs as given. */
  async assets(releaseId: number): Promise<Asset[]> {
    const { owner, repo } = this.ref
    const all = await this.call('GET /repos/{owner}/{repo}/releases/{id}/assets', () =>
      this.octokit.paginate('GET /repos/{owner}/{repo}/releases/{release_id}/assets', {
        owner,
        repo,
        release_id: releaseId,
        per_page: 100
      })
    )
    return all.map(a => ({
      id: a.id,
      name: a.name,
      size: a.size,
      state: a.state,
      digest: (a as { digest?: string | null }).digest ?? null
    }))
  }

  /**
   * The asset's bytes as a stream: the API answers 302 to a signed storage URL (fetched with
   * no Authorization, no cookie: only the URL's own signature) or, on some GHES, 200 itself.
   */
  async open(asset: Asset): Promise<Readable> {
    const { owner, repo } = this.ref
    const res = await this.call('GET /repos/{owner}/{repo}/releases/assets/{id}', () =>
      this.octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
        owner,
        repo,
        asset_id: asset.id,
        headers: { accept: 'application/octet-stream' },
        request: { redirect: 'manual', parseSuccessResponseBody: false, signal: this.deps.signal }
      })
    )
    const body = res.data as unknown as ReadableStream<Uint8Array> | null
    const status = res.status as number
    if (status === 200 && body) return Readable.fromWeb(body as never)
    await body?.cancel().catch(() => undefined)
    const location = (res.headers as Record<string, string | undefined>).location
    if (status < 300 || status >= 400 || !location) {
      throw new GitHubApiError(status, 'GET', 'releases/assets/{id}', 'no redirect to the asset')
    }
    return this.fromStorage(location)
  }

  private async fromStorage(url: string, hops = 0): Promise<Readable> {
    const res = await request(url, {
      method: 'GET',
      dispatcher: this.storage,
      headers: { 'user-agent': USER_AGENT, accept: 'application/octet-stream' },
      signal: this.deps.signal,
      headersTimeout: 60_000,
      bodyTimeout: 300_000
    })
    const location = res.headers.location
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
      await res.body.dump()
      if (hops >= MAX_HOPS) throw new StorageRefusal(res.statusCode)
      return this.fromStorage(new URL(location, url).href, hops + 1)
    }
    if (res.statusCode !== 200) {
      await res.body.dump() // its body may echo what it was sent: never read into a message
      throw new StorageRefusal(res.statusCode)
    }
    return res.body
  }

  /**
   * One API call with retries: 5xx, network errors, and rate limits (GitHub answers 403 or 429
   * for both its primary and secondary limits; the headers and message tell them from a 403
   * that means "no permission"). Errors come out as messages naming the input to fix.
   */
  private async call<T>(route: string, send: () => Promise<T>): Promise<T> {
    const { retry, logger } = this.deps
    try {
      return await withRetry(() => send(), {
        policy: { ...retry, maxDelayMs: Math.max(retry.maxDelayMs, MAX_RATE_LIMIT_WAIT_MS) },
        classify: error => {
          if (!isHttpError(error)) return { retriable: isNetworkError(error) }
          const limit = rateLimitWait(error)
          if (limit !== null) {
            return { retriable: limit <= MAX_RATE_LIMIT_WAIT_MS, retryAfterMs: limit }
          }
          return { retriable: error.status >= 500 || isNetworkError(error) }
        },
        signal: this.deps.signal,
        logger,
        label: `GitHub ${route}`,
        describe
      })
    } catch (error) {
      throw this.explain(route, error)
    }
  }

  private explain(route: string, error: unknown): Error {
    const { owner, repo, tag } = this.ref
    const secrets = [this.deps.token]
    // Octokit reports a failed fetch (DNS, refused, reset) as a status 500 with no response.
    if (!isHttpError(error) || !error.response) {
      const cause = (error as { cause?: unknown }).cause ?? error
      return new GitHubApiError(0, 'GET', route, scrub(describeError(cause), secrets))
    }
    const message = scrub(bodyMessage(error), secrets)
    if (error.status === 401) {
      return new InputError(
        'github-token',
        `GitHub refused it (HTTP 401 ${message}). Leave it at its default (\`\${{ github.token }}\`) ` +
          `or pass a valid token that can read ${owner}/${repo}.`
      )
    }
    if (error.status === 404 && route.includes('/tags/')) {
      return new InputError(
        'release',
        `there is no published release '${tag}' in ${owner}/${repo} (drafts are not visible), or ` +
          '`github-token` cannot read it (GitHub answers 404 for both).'
      )
    }
    const limit = rateLimitWait(error)
    if (limit !== null) {
      return new GitHubApiError(
        error.status,
        'GET',
        route,
        `${message}; GitHub's rate limit did not clear in time (${Math.ceil(limit / 1000)} s more). ` +
          (this.deps.token
            ? 'Re-run later.'
            : 'Without a token GitHub allows 60 requests an hour: set `github-token`, or re-run later.')
      )
    }
    if (error.status === 403) {
      return new InputError(
        'github-token',
        `cannot read the releases of ${owner}/${repo} (HTTP 403 ${message}). Give the job ` +
          '`permissions: contents: read`, or pass a token with read access to that repository.'
      )
    }
    return new GitHubApiError(error.status, 'GET', route, message)
  }
}

/** The parsed `message` of GitHub's JSON error body; never the body itself. */
function bodyMessage(error: HttpError): string {
  const data = error.response?.data
  if (
    data &&
    typeof data === 'object' &&
    typeof (data as { message?: unknown }).message === 'string'
  ) {
    return (data as { message: string }).message
  }
  return error.status >= 500 ? 'server error' : 'no details'
}

/**
 * How long a rate limit asks to wait, or null when this is not one: `retry-after` seconds, else
 * `x-ratelimit-reset` when nothing remains, else a minute for a secondary limit that names none.
 */
export function rateLimitWait(error: HttpError, now = Date.now()): number | null {
  if (error.status !== 403 && error.status !== 429) return null
  const h = error.response?.headers ?? {}
  const secondary = /secondary rate limit|abuse/i.test(bodyMessage(error))
  const exhausted = h['x-ratelimit-remaining'] === '0'
  if (!secondary && !exhausted && error.status === 403) return null
  const after = Number(h['retry-after'])
  if (Number.isFinite(after) && after >= 0) return Math.min(after * 1000, MAX_RETRY_AFTER_MS)
  const reset = Number(h['x-ratelimit-reset'])
  if (exhausted && Number.isFinite(reset)) return Math.max(0, reset * 1000 - now)
  return 60_000
}

function describe(error: unknown): string {
  if (error instanceof StorageRefusal) return error.message
  if (isHttpError(error)) return `HTTP ${error.status}`
  return describeError(error)
}

export { StorageRefusal }
