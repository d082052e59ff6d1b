/**
 * The REST API server. Per request, in GitHub's order: injected fault → User-Agent → API
 * version → token → primary rate limit → prefix and route → repository access → handler.
 * Also answers `browser_download_url` (the web side, outside the prefix, as on GHES).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { header } from '../common/http-util.js'
import type { GitHubFaults } from './faults.js'
import type { GitHubLog } from './log.js'
import type { HourlyLimits } from './ratelimit.js'
import { jsonOut, send, textOut, type Outgoing } from './send.js'
import { API_VERSION, DOC, assetJson, errorBody, releaseJson, type Urls } from './serialize.js'
import type { Signer } from './signing.js'
import {
  contentSize,
  type Access,
  type Asset,
  type GitHubState,
  type Repo,
  type Token
} from './state.js'
import type { GitHubFault } from './types.js'

export interface ApiConfig {
  prefix: string
  urls: Urls
  storageUrl: string
  signedUrlTtlSeconds: number
  perPageDefault: number
  embeddedAssetsLimit: number
}

export interface ApiDeps {
  state: GitHubState
  faults: GitHubFaults
  log: GitHubLog
  limits: HourlyLimits
  signer: Signer
  config: ApiConfig
  /** Handles `/_emulator/…` (no auth, never logged); false when the path is not one. */
  control: (req: IncomingMessage, res: ServerResponse, path: string) => boolean
}

interface Outcome {
  out: Outgoing
  error?: string
}

const NO_UA =
  'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n'
const SECONDARY =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID '
const RATE_DOC =
  'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits'
const WEB_404 =
  '<!DOCTYPE html>\n<html><head><title>Page not found · GitHub</title></head><body>Not Found</body></html>\n'

function requestId(): string {
  return `${randomBytes(2).toString('hex')}:${randomBytes(3).toString('hex')}:${randomBytes(4).toString('hex')}`.toUpperCase()
}

/** `token X` or `Bearer X`; undefined = no header; null = a header GitHub cannot use. */
function tokenOf(state: GitHubState, authorization: string | undefined): Token | null | undefined {
  if (authorization === undefined) return undefined
  const m = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(authorization)
  return (m && state.token(m[1])) || null
}

/** `per_page` (default, max 100) and `page` (from 1), GitHub-style: junk falls back to defaults. */
function pageOf<T>(
  items: T[],
  query: URLSearchParams,
  perPageDefault: number,
  linkBase: string
): { items: T[]; link?: string } {
  const num = (v: string | null): number => (v !== null && /^\d+$/.test(v) ? Number(v) : 0)
  const perPage = Math.min(num(query.get('per_page')) || perPageDefault, 100)
  const page = num(query.get('page')) || 1
  const last = Math.max(1, Math.ceil(items.length / perPage))
  const slice = items.slice((page - 1) * perPage, page * perPage)
  const url = (n: number): string => `<${linkBase}?per_page=${perPage}&page=${n}>`
  const links: string[] = []
  if (page > 1) links.push(`${url(Math.min(page - 1, last))}; rel="prev"`)
  if (page < last) links.push(`${url(page + 1)}; rel="next"`, `${url(last)}; rel="last"`)
  if (page > 1) links.push(`${url(1)}; rel="first"`)
  return { items: slice, link: links.length ? links.join(', ') : undefined }
}

type Route =
  | { kind: 'releases' }
  | { kind: 'releaseByTag'; tag: string }
  | { kind: 'release'; id: number }
  | { kind: 'assets'; releaseId: number }
  | { kind: 'asset'; id: number }

function routeOf(tail: string[]): Route | undefined {
  const id = (s: string | undefined): number | undefined =>
    s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined
  if (tail[0] !== 'releases') return undefined
  if (tail.length === 1) return { kind: 'releases' }
  if (tail.length === 3 && tail[1] === 'tags') return { kind: 'releaseByTag', tag: tail[2] }
  if (tail.length === 3 && tail[1] === 'assets' && id(tail[2]) !== undefined)
    return { kind: 'asset', id: id(tail[2]) as number }
  const releaseId = id(tail[1])
  if (releaseId === undefined) return undefined
  if (tail.length === 2) return { kind: 'release', id: releaseId }
  if (tail.length === 3 && tail[2] === 'assets') return { kind: 'assets', releaseId }
  return undefined
}

const ROUTE_DOC: Record<Route['kind'], string> = {
  releases: DOC.releases,
  releaseByTag: DOC.releaseByTag,
  release: DOC.release,
  assets: DOC.assets,
  asset: DOC.asset
}

function faultOutcome(
  deps: ApiDeps,
  fault: Exclude<GitHubFault, { kind: 'reset' }>,
  tokenKey: string | null
): Outcome {
  const rate = deps.limits.peek(tokenKey)
  switch (fault.kind) {
    case 'secondary-rate-limit': {
      const status = fault.status ?? 403
      const retry = fault.retryAfter === undefined ? 60 : fault.retryAfter
      const id = requestId()
      return {
        out: jsonOut(status, errorBody(status, `${SECONDARY}${id}.`, RATE_DOC), {
          ...rate,
          'x-github-request-id': id,
          ...(retry === null ? {} : { 'retry-after': String(retry) })
        }),
        error: `injected secondary rate limit (${status})`
      }
    }
    case 'primary-rate-limit': {
      const who =
        tokenKey === null
          ? "127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)"
          : 'installation ID 1.'
      return {
        out: jsonOut(
          403,
          errorBody(403, `API rate limit exceeded for ${who}`, RATE_DOC.replace(/#.*/, '')),
          deps.limits.exhausted(tokenKey, fault.resetInSeconds ?? 60)
        ),
        error: 'injected primary rate limit'
      }
    }
    case 'status':
      return {
        out:
          fault.status === 502
            ? textOut(
                502,
                '<html><body><h1>502 Bad Gateway</h1>Server Error</body></html>\n',
                'text/html; charset=utf-8',
                rate
              )
            : jsonOut(
                fault.status,
                errorBody(
                  fault.status,
                  fault.status === 500 ? 'Server Error' : 'Service Unavailable'
                ),
                rate
              ),
        error: `injected ${fault.status}`
      }
  }
}

/** 302 to a fresh signed storage URL (GitHub answers text/html with an empty body). */
function redirectToStorage(deps: ApiDeps, asset: Asset, headers: Record<string, string>): Outgoing {
  const location = deps.signer.url({
    storageUrl: deps.config.storageUrl,
    repoId: asset.release.repo.id,
    key: asset.storageKey,
    name: asset.name,
    ttlSeconds: deps.config.signedUrlTtlSeconds
  })
  return {
    status: 302,
    headers: { ...headers, location, 'content-type': 'text/html;charset=utf-8' }
  }
}

async function assertSize(asset: Asset): Promise<void> {
  const now = await contentSize(asset.content)
  if (now !== asset.size)
    throw new Error(`asset ${asset.name}: its file is ${now} bytes now, ${asset.size} at addAsset`)
}

async function download(
  deps: ApiDeps,
  asset: Asset,
  headers: Record<string, string>
): Promise<Outcome> {
  if (asset.state !== 'uploaded') {
    return {
      out: jsonOut(404, errorBody(404, 'Not Found', DOC.asset), headers),
      error: `asset ${asset.id} is ${asset.state}, not uploaded`
    }
  }
  asset.downloadCount += 1
  if (asset.serve !== 'direct') return { out: redirectToStorage(deps, asset, headers) }
  await assertSize(asset)
  return {
    out: {
      status: 200,
      headers: {
        ...headers,
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename=${asset.name}`
      },
      body:
        'buffer' in asset.content ? asset.content : { path: asset.content.path, size: asset.size }
    }
  }
}

function handleRoute(
  deps: ApiDeps,
  req: IncomingMessage,
  route: Route,
  repo: Repo,
  access: Extract<Access, { kind: 'read' }>,
  query: URLSearchParams,
  headers: Record<string, string>
): Promise<Outcome> | Outcome {
  const { urls, perPageDefault, embeddedAssetsLimit } = deps.config
  const notFound = (error: string): Outcome => ({
    out: jsonOut(404, errorBody(404, 'Not Found', ROUTE_DOC[route.kind]), headers),
    error
  })
  const visible = repo.releases.filter(r => access.drafts || !r.draft)
  const paged = (items: unknown[], tail: string): Outcome => {
    const page = pageOf(
      items,
      query,
      perPageDefault,
      `${urls.apiUrl}/repositories/${repo.id}${tail}`
    )
    return { out: jsonOut(200, page.items, page.link ? { ...headers, link: page.link } : headers) }
  }
  switch (route.kind) {
    case 'releases':
      // Newest first, as GitHub lists them.
      return paged(
        [...visible].reverse().map(r => releaseJson(urls, r, embeddedAssetsLimit)),
        '/releases'
      )
    case 'releaseByTag': {
      // Published releases only: a draft is 404 here even for a token that may see it.
      const r = repo.releases.find(x => x.tag === route.tag && !x.draft)
      if (!r) return notFound(`no published release with tag ${JSON.stringify(route.tag)}`)
      return { out: jsonOut(200, releaseJson(urls, r, embeddedAssetsLimit), headers) }
    }
    case 'release': {
      const r = visible.find(x => x.id === route.id)
      if (!r) return notFound(`no visible release ${route.id}`)
      return { out: jsonOut(200, releaseJson(urls, r, embeddedAssetsLimit), headers) }
    }
    case 'assets': {
      const r = visible.find(x => x.id === route.releaseId)
      if (!r) return notFound(`no visible release ${route.releaseId}`)
      return paged(
        r.assets.map(a => assetJson(urls, a)),
        `/releases/${r.id}/assets`
      )
    }
    case 'asset': {
      const a = deps.state.asset(route.id)
      if (!a || a.release.repo !== repo || !visible.includes(a.release))
        return notFound(`no visible asset ${route.id}`)
      if ((header(req, 'accept') ?? '').toLowerCase().includes('application/octet-stream'))
        return download(deps, a, headers)
      return { out: jsonOut(200, assetJson(urls, a), headers) }
    }
  }
}

/** `browser_download_url`: a web URL; only public repositories, never opened by an API token. */
function webDownload(deps: ApiDeps, m: RegExpExecArray): Outcome {
  const notFound: Outcome = {
    out: textOut(404, WEB_404, 'text/html; charset=utf-8'),
    error: 'web download: not found (private repositories are never served here)'
  }
  let parts: string[]
  try {
    parts = m.slice(1, 5).map(s => decodeURIComponent(s))
  } catch {
    return notFound
  }
  const repo = deps.state.repoByName(parts[0], parts[1])
  const release = repo?.releases.find(r => r.tag === parts[2] && !r.draft)
  const asset = release?.assets.find(a => a.name === parts[3])
  if (!repo || repo.private || !asset || asset.state !== 'uploaded') return notFound
  asset.downloadCount += 1
  return { out: redirectToStorage(deps, asset, {}) }
}

const WEB_DOWNLOAD = /^\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/

async function processRequest(
  deps: ApiDeps,
  req: IncomingMessage,
  path: string,
  rawQuery: string,
  token: Token | null | undefined
): Promise<Outcome> {
  const { prefix } = deps.config
  const underPrefix = path.startsWith(`${prefix}/`)
  const web = underPrefix && prefix !== '' ? null : WEB_DOWNLOAD.exec(path)
  if (web && req.method === 'GET') return webDownload(deps, web)

  if (!header(req, 'user-agent'))
    return { out: textOut(403, NO_UA, 'text/html'), error: 'no User-Agent header' }
  const version = header(req, 'x-github-api-version')
  if (version !== undefined && version !== API_VERSION) {
    return {
      out: jsonOut(
        400,
        errorBody(
          400,
          `Unsupported 'X-GitHub-Api-Version' header value: '${version}'. Supported versions: ${API_VERSION}`,
          'https://docs.github.com/rest/overview/api-versions'
        ),
        deps.limits.peek(token?.value ?? null)
      ),
      error: `unsupported X-GitHub-Api-Version ${version}`
    }
  }
  if (token === null) {
    return {
      out: jsonOut(401, errorBody(401, 'Bad credentials'), deps.limits.peek(null)),
      error: 'unknown token or malformed Authorization'
    }
  }
  const key = token?.value ?? null
  const rate = deps.limits.take(key)
  const headers = {
    ...rate.headers,
    'x-github-media-type': 'github.v3; format=json',
    'x-github-api-version-selected': API_VERSION,
    'x-github-request-id': requestId()
  }
  if (rate.exceeded)
    return faultOutcome(
      deps,
      {
        target: 'api',
        kind: 'primary-rate-limit',
        resetInSeconds: Number(rate.headers['x-ratelimit-reset']) - Math.floor(Date.now() / 1000)
      },
      key
    )

  const generic = (error: string): Outcome => ({
    out: jsonOut(404, errorBody(404, 'Not Found'), headers),
    error
  })
  if (!underPrefix) {
    // On GHES this is the web side: a client that dropped the `/api/v3` base ends up here.
    return {
      out: textOut(404, WEB_404, 'text/html; charset=utf-8', rate.headers),
      error: `path outside the API prefix ${prefix || '/'} (base URL dropped?)`
    }
  }
  let segments: string[]
  try {
    segments = path
      .slice(prefix.length)
      .split('/')
      .slice(1)
      .map(s => decodeURIComponent(s))
  } catch {
    return generic('malformed percent-encoding')
  }
  let repo: Repo | undefined
  let tail: string[]
  if (segments[0] === 'repos' && segments.length >= 3) {
    repo = deps.state.repoByName(segments[1], segments[2])
    tail = segments.slice(3)
  } else if (segments[0] === 'repositories' && /^\d+$/.test(segments[1] ?? '')) {
    repo = deps.state.repoById(Number(segments[1]))
    tail = segments.slice(2)
  } else return generic('no such route')
  const route = routeOf(tail)
  if (!route || req.method !== 'GET') return generic('no such route')
  const doc = ROUTE_DOC[route.kind]
  const access = repo ? deps.state.access(token ?? null, repo) : ({ kind: 'not-found' } as const)
  if (!repo || access.kind === 'not-found') {
    return {
      out: jsonOut(404, errorBody(404, 'Not Found', doc), headers),
      error: repo ? 'private repository: no access' : 'no such repository'
    }
  }
  if (access.kind === 'forbidden') {
    return {
      out: jsonOut(403, errorBody(403, 'Resource not accessible by integration', doc), {
        ...headers,
        'x-accepted-github-permissions': 'contents=read'
      }),
      error: 'token lacks contents: read'
    }
  }
  return handleRoute(deps, req, route, repo, access, new URLSearchParams(rawQuery), headers)
}

async function handle(deps: ApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  const rawQuery = q < 0 ? '' : url.slice(q + 1)
  if (deps.control(req, res, path)) return
  const entry = deps.log.begin('api', req, res, path, rawQuery)
  req.resume() // GET bodies are ignored
  const method = req.method ?? 'GET'
  const token = tokenOf(deps.state, header(req, 'authorization'))
  const fault = deps.faults.take('api', method, path)
  let outcome: Outcome
  if (fault && fault.kind !== 'reset') outcome = faultOutcome(deps, fault, token?.value ?? null)
  else {
    try {
      outcome = await processRequest(deps, req, path, rawQuery, token)
    } catch (err) {
      // Loud on purpose: an emulator bug (or a misused emulator) must fail the test.
      const message = err instanceof Error ? err.message : String(err)
      console.error(`GITHUB EMULATOR BUG on ${method} ${path}:`, err)
      outcome = {
        out: textOut(500, `EMULATOR BUG: ${message}`, 'text/plain; charset=utf-8'),
        error: `EMULATOR BUG: ${message}`
      }
    }
  }
  if (outcome.error) entry.error = outcome.error
  if (res.destroyed) return
  await send(res, outcome.out, entry, fault?.kind === 'reset' ? fault : undefined)
}

export function createApiServer(deps: ApiDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      console.error('GITHUB EMULATOR BUG (API):', err)
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(`EMULATOR BUG: ${String(err)}`)
      } else res.destroy()
    })
  })
}
