/**
 * Typed calls to Polar's Files and Benefits API over one keep-alive undici dispatcher.
 * Every call is paced, carries Polar-Version and User-Agent, times out, and is retried only
 * on retriable failures. The token goes only to the API origin.
 */
import type { Dispatcher } from 'undici'
import { InputError, PolarApiError } from '../errors.js'
import { describeError, scrub, type Logger } from '../log.js'
import { proxyAwareDispatcher } from '../proxy.js'
import { delay, isNetworkError, parseRetryAfter, withRetry, type RetryPolicy } from '../retry.js'
import { USER_AGENT } from '../version.js'
import { Limiter } from '../limiter.js'
import { PINNED_VERSION } from './api-version.js'
import { checkBenefit, checkFileRead, checkFileUpload, checkList } from './check.js'
import { Pacer } from './pacer.js'
import type {
  BenefitDownloadables,
  DownloadableFileCreate,
  FileRead,
  FileUpload,
  FileUploadCompleted
} from './types.js'

const PAGE_LIMIT = 100
const PAGE_FETCH_CONCURRENCY = 4
/**
 * API requests in flight at once (also the connections). A request takes its turn from the
 * pacer only once it has a place: when the budget runs dry (other jobs spend it too), at most
 * these are answered 429 at once, the rest wait for the slower pace. Deep into a burst each
 * request takes two places (`Pacer.weight`): half as many.
 */
const IN_FLIGHT = 10

export interface PolarClientOptions {
  apiUrl: string
  token: string
  organizationId: string | null
  retry: RetryPolicy
  rateLimitPerMinute: number
  logger: Logger
  timeoutMs?: number
  dispatcher?: Dispatcher
  /** The `api-version` input: strict, never replaced. Null: the action's pin, with a fallback. */
  apiVersion?: string | null
}

/** The input's version is not served: the whole run is wrong, not one call. */
export class VersionNotServedError extends InputError {
  constructor(version: string, method: string, route: string) {
    super(
      'api-version',
      `Polar does not serve API version ${version} (${method} ${route} answered 404 ` +
        '{"detail":"Not Found"} without a Polar-Version header). Set a version Polar serves, ' +
        `or leave api-version empty for the action's pin (${PINNED_VERSION}).`
    )
  }
}

/** An HTTP answer we did not expect; classified for retries, then turned into PolarApiError. */
class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: string
  ) {
    super(`HTTP ${status}`)
  }
}

interface CallOptions {
  query?: [string, string][]
  body?: unknown
  expect: number
  /** Treat a retriable failure as ambiguous: ask this before sending again. */
  beforeRetry?: () => Promise<unknown | undefined>
  /** Said once if the call is sent again after a failure that Polar may have acted on. */
  ambiguousRetryWarning?: string
  timeoutMs?: number
  /** Its first attempt was paid for by `reserve()`: it goes out at once. */
  prepaid?: boolean
  /** Stops the call (and its retries): a read started ahead that is no longer wanted. */
  signal?: AbortSignal
  /** Sent once: the caller decides what a failure means (a PATCH built from a read). */
  once?: boolean
}

/** For a call whose turn was taken ahead with `reserve()`. */
export interface Turn {
  prepaid?: boolean
}

export class PolarClient {
  private readonly origin: string
  private readonly prefix: string
  private readonly dispatcher: Dispatcher
  private readonly ownsDispatcher: boolean
  private readonly pacer: Pacer
  private readonly inFlight = new Limiter(IN_FLIGHT)
  private readonly timeoutMs: number
  /** Sent as Polar-Version; null once Polar retired the pin (then its current version answers). */
  private version: string | null
  /** Some response carried Polar-Version: the version is served (writes may go out). */
  private versionCheck: Promise<void> | null = null
  private confirmed = false
  /** The pin Polar retired in this run, and the version it answered with instead. */
  retired: { version: string; answered: string | null } | null = null

  constructor(private readonly options: PolarClientOptions) {
    this.version = options.apiVersion || PINNED_VERSION
    const url = new URL(options.apiUrl)
    this.origin = url.origin
    this.prefix = url.pathname.replace(/\/+$/, '')
    this.ownsDispatcher = !options.dispatcher
    this.timeoutMs = options.timeoutMs ?? 60_000
    this.dispatcher =
      options.dispatcher ??
      proxyAwareDispatcher({
        connections: IN_FLIGHT,
        keepAliveTimeout: 30_000,
        connectTimeout: 15_000
      })
    this.pacer = new Pacer(options.rateLimitPerMinute)
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close()
  }

  /** Every file of the organization visible to the list endpoint (completed, not deleted). */
  listFiles(signal?: AbortSignal): Promise<FileRead[]> {
    return this.listAll<FileRead>('/v1/files/', this.orgQuery(), checkFileRead, signal)
  }

  /** The completed files among `ids` (Polar has no single-file GET). */
  async getFiles(ids: string[]): Promise<FileRead[]> {
    const query: [string, string][] = [
      ...this.orgQuery(),
      ...ids.map(id => ['ids', id] as [string, string])
    ]
    return this.listAll<FileRead>('/v1/files/', query, checkFileRead)
  }

  async createFile(body: DownloadableFileCreate): Promise<FileUpload> {
    const payload = this.options.organizationId
      ? { ...body, organization_id: this.options.organizationId }
      : body
    const created = await this.call<unknown>('POST', '/v1/files/', {
      body: payload,
      expect: 201,
      ambiguousRetryWarning:
        `Creating ${body.name} failed in a way Polar may have acted on; sending it again. ` +
        'If Polar did create it, that upload stays incomplete: invisible to customers and to ' +
        "Polar's file list, and it cannot be deleted without the ID Polar never returned."
    })
    try {
      return checkFileUpload(created, 'POST /v1/files/')
    } catch (error) {
      // Created, but unusable: deleted before the error goes up (nothing left unfinished).
      const id = (created as { id?: unknown } | null)?.id
      if (typeof id !== 'string') throw error
      const left = await this.deleteFile(id).then(
        () => '',
        () => ` The created file ${id} could not be deleted: delete it with DELETE /v1/files/${id}.`
      )
      throw new Error(`${(error as Error).message}${left}`, { cause: error })
    }
  }

  /**
   * Completes the S3 multipart upload. Not idempotent, and S3 failures come back as 500:
   * after an ambiguous failure, look the file up and only call again if it is not uploaded.
   */
  async completeUpload(id: string, body: FileUploadCompleted): Promise<FileRead> {
    const done = await this.call<unknown>('POST', `/v1/files/${id}/uploaded`, {
      body,
      expect: 200,
      // S3 assembles every part before Polar answers: a 10,000-part file takes a while.
      timeoutMs: 5 * 60_000,
      beforeRetry: async () => (await this.getFiles([id])).find(f => f.id === id && f.is_uploaded)
    })
    return checkFileRead(done, `POST /v1/files/${id}/uploaded`)
  }

  async updateFileVersion(id: string, version: string): Promise<FileRead> {
    const route = `/v1/files/${id}`
    const file = await this.call<unknown>('PATCH', route, { body: { version }, expect: 200 })
    return checkFileRead(file, `PATCH ${route}`)
  }

  /** Deletes a file; 'gone' when Polar says it no longer exists (deleted already, e.g. by a retry). */
  async deleteFile(id: string): Promise<'deleted' | 'gone'> {
    try {
      await this.call<void>('DELETE', `/v1/files/${id}`, { expect: 204 })
      return 'deleted'
    } catch (error) {
      if (error instanceof PolarApiError && error.status === 404) return 'gone'
      throw error
    }
  }

  /**
   * Waits until `calls` requests may go out, and takes their turns at once: calls made next
   * with `{ prepaid: true }` are sent back to back (a benefit read and the PATCH built from it).
   */
  reserve(calls: number): Promise<void> {
    return this.pacer.take(calls)
  }

  async getBenefit(id: string, turn: Turn = {}): Promise<BenefitDownloadables> {
    const benefit = await this.call<unknown>('GET', `/v1/benefits/${id}`, {
      expect: 200,
      prepaid: turn.prepaid
    })
    return checkBenefit(benefit, `GET /v1/benefits/${id}`)
  }

  listDownloadablesBenefits(signal?: AbortSignal): Promise<BenefitDownloadables[]> {
    // Oldest first, so benefits created while we page are appended, not shifted into read pages.
    return this.listAll<BenefitDownloadables>(
      '/v1/benefits/',
      [...this.orgQuery(), ['type', 'downloadables'], ['sorting', 'created_at']],
      checkBenefit,
      signal,
      true
    )
  }

  async patchBenefitFiles(
    id: string,
    files: string[],
    archived: Record<string, boolean>,
    turn: Turn = {}
  ): Promise<BenefitDownloadables> {
    const benefit = await this.call<unknown>('PATCH', `/v1/benefits/${id}`, {
      body: { type: 'downloadables', properties: { files, archived } },
      expect: 200,
      prepaid: turn.prepaid,
      once: true
    })
    return checkBenefit(benefit, `PATCH /v1/benefits/${id}`)
  }

  /** The pin is gone: every call from now on goes without Polar-Version (Polar's current). */
  private retire(version: string): void {
    this.retired ??= { version, answered: null }
    this.version = null
  }

  /** Said once, with the version that answered in place of the retired pin. */
  private answeredInstead(answered: string): void {
    if (!this.retired || this.retired.answered !== null) return
    this.retired.answered = answered
    this.options.logger.warning(retiredWarning(this.retired.version, answered))
  }

  /**
   * Before the first write: one read proves Polar serves the version (any answer carrying
   * Polar-Version does), so an unserved `api-version` fails before anything is written.
   */
  private checkVersion(): Promise<void> {
    this.versionCheck ??= this.call<unknown>('GET', '/v1/files/', {
      query: [...this.orgQuery(), ['page', '1'], ['limit', '1']],
      expect: 200
    }).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof VersionNotServedError) throw error
        if (this.confirmed) return
        this.versionCheck = null // not an answer about the version: the next write asks again
        throw error
      }
    )
    return this.versionCheck
  }

  private orgQuery(): [string, string][] {
    return this.options.organizationId ? [['organization_id', this.options.organizationId]] : []
  }

  /**
   * All pages: the first one tells how many there are, the rest are fetched concurrently.
   * Pages have no defined order and may shift under concurrent writes, so items are
   * de-duplicated by ID, and a pass that comes up short of total_count is read once more.
   */
  private async listAll<T extends { id: string }>(
    path: string,
    query: [string, string][],
    item: (v: unknown, endpoint: string, at: string) => T,
    signal?: AbortSignal,
    /** Every item or an error: the benefits protect files, a missed one would not. */
    complete = false
  ): Promise<T[]> {
    const byId = new Map<string, T>()
    let expected = 0
    for (let pass = 0; pass < 2; pass++) {
      const page = async (n: number) =>
        checkList(
          await this.call<unknown>('GET', path, {
            query: [...query, ['page', String(n)], ['limit', String(PAGE_LIMIT)]],
            expect: 200,
            signal
          }),
          `GET ${path}`,
          item
        )
      const first = await page(1)
      const pages = [first]
      const rest: number[] = []
      for (let n = 2; n <= first.pagination.max_page; n++) rest.push(n)
      for (let i = 0; i < rest.length; i += PAGE_FETCH_CONCURRENCY) {
        pages.push(...(await Promise.all(rest.slice(i, i + PAGE_FETCH_CONCURRENCY).map(page))))
      }
      for (const p of pages) {
        expected = Math.max(expected, p.pagination.total_count)
        for (const item of p.items) byId.set(item.id, item)
      }
      if (byId.size >= expected) break
    }
    if (byId.size < expected && complete) {
      throw new Error(
        `GET ${path}: read ${byId.size} of ${expected} items (pages shifted while they were ` +
          'read), so which files they list is not known; nothing was deleted. Re-run the job.'
      )
    }
    if (byId.size < expected) {
      this.options.logger.warning(
        `GET ${path}: read ${byId.size} of ${expected} items (pages shifted while they were read).`
      )
    }
    return [...byId.values()]
  }

  private async call<T>(method: string, route: string, options: CallOptions): Promise<T> {
    const search = options.query?.length
      ? '?' + options.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
      : ''
    const requestPath = this.prefix + route + search
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    const { logger, retry } = this.options

    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    let warned = false
    let lastFailureAmbiguous = false
    const send = async (): Promise<Answer> => {
      const version = this.version
      const started = Date.now()
      const response = await this.dispatcher.request({
        origin: this.origin,
        path: requestPath,
        method: method as Dispatcher.HttpMethod,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(version ? { 'polar-version': version } : {}),
          'user-agent': USER_AGENT,
          accept: 'application/json',
          // Polar answers a write without Content-Length with 411 (never chunked).
          ...(method !== 'GET'
            ? { 'content-length': String(Buffer.byteLength(payload ?? '')) }
            : {}),
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {})
        },
        body: payload,
        signal: options.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs
      })
      const text = await response.body.text()
      logger.debug(`${method} ${route} → ${response.statusCode} (${Date.now() - started} ms)`)
      const answered = response.headers['polar-version']
      const answer: Answer = {
        statusCode: response.statusCode,
        headers: response.headers,
        text,
        version,
        answered: typeof answered === 'string' ? answered : null
      }
      if (answer.answered) this.confirmed = true
      if (answer.answered && version === null) this.answeredInstead(answer.answered)
      return answer
    }
    const attempt = async (n: number): Promise<T> => {
      if (n > 0 && options.ambiguousRetryWarning && !warned && lastFailureAmbiguous) {
        warned = true
        logger.warning(options.ambiguousRetryWarning)
      }
      if (n > 0 && options.beforeRetry) {
        const done = await options.beforeRetry()
        if (done !== undefined) return done as T
      }
      // The version check is a call of its own: made before this one holds a place in flight.
      if (method !== 'GET' && !this.confirmed) await this.checkVersion()
      const place = await this.inFlight.acquire(this.pacer.weight())
      try {
        return await exchange(n)
      } finally {
        place()
      }
    }
    const exchange = async (n: number): Promise<T> => {
      if (n > 0 || !options.prepaid) await this.pacer.take()
      let response = await send()
      if (response.version !== null && versionNotServed(response)) {
        const sent = response.version
        if (this.options.apiVersion) throw new VersionNotServedError(sent!, method, route)
        // Polar removed the pin: nothing was done; the same call goes to its current version.
        this.retire(sent!)
        await this.pacer.take()
        response = await send()
      }
      const text = response.text
      if (response.statusCode !== options.expect) {
        throw new HttpStatus(response.statusCode, response.headers, text)
      }
      if (options.expect === 204) return undefined as T
      try {
        return JSON.parse(text) as T
      } catch {
        throw new UnreadableBody(response.statusCode)
      }
    }

    try {
      return await withRetry(
        attempt,
        options.once ? { ...retry, retries: 0 } : retry,
        error => {
          if (options.signal?.aborted) return { retriable: false }
          lastFailureAmbiguous = !notSent(error)
          // Polar acted but we cannot read what it did: only a call that can check first
          // (`/uploaded`) may be sent again.
          if (error instanceof UnreadableBody) return { retriable: !!options.beforeRetry }
          if (error instanceof HttpStatus) {
            const retryAfterMs = parseRetryAfter(error.headers['retry-after'])
            if (error.status === 429) {
              this.pacer.throttled(retryAfterMs ?? 1000)
              return { retriable: true, retryAfterMs }
            }
            return { retriable: error.status >= 500, retryAfterMs }
          }
          return { retriable: isNetworkError(error) }
        },
        (error, n, wait) =>
          logger.info(
            `${method} ${route}: ${describe(error)}; retry ${n}/${retry.retries} in ${(wait / 1000).toFixed(1)} s`
          ),
        ms => delay(ms, options.signal)
      )
    } catch (error) {
      throw toApiError(error, method, route, this.options.token)
    }
  }
}

interface Answer {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** The Polar-Version sent (null: none) and the one the response carried. */
  version: string | null
  answered: string | null
}

/**
 * Polar's version middleware turning a version away (unknown, malformed or removed): 404
 * {"detail":"Not Found"} with no Polar-Version header. A resource 404 carries the header and
 * `"error":"ResourceNotFound"`.
 */
function versionNotServed(answer: Answer): boolean {
  if (answer.statusCode !== 404 || answer.answered !== null) return false
  try {
    const body = JSON.parse(answer.text) as Record<string, unknown>
    return body.detail === 'Not Found' && Object.keys(body).length === 1
  } catch {
    return false
  }
}

export function retiredWarning(retired: string, answered: string): string {
  return (
    `Polar no longer serves API version ${retired}, which this release of polar-files-action ` +
    `pins: it answers 404 without a Polar-Version header. This run goes on with the version ` +
    `Polar answered with, ${answered}; update polar-files-action to a release that pins a ` +
    'version Polar serves.'
  )
}

/** A 2xx whose body is empty or not JSON. Never carries the body: a create's holds presigned URLs. */
class UnreadableBody extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status} with a body that is not JSON`)
  }
}

/** True when the request certainly did not reach Polar's handler (so a retry cannot duplicate it). */
function notSent(error: unknown): boolean {
  if (error instanceof HttpStatus) return error.status === 429
  const code = (error as { code?: unknown }).code
  return ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EAI_AGAIN'].includes(String(code))
}

function describe(error: unknown): string {
  return error instanceof HttpStatus ? `HTTP ${error.status}` : describeError(error)
}

function toApiError(error: unknown, method: string, route: string, token: string): Error {
  if (error instanceof UnreadableBody) {
    return new PolarApiError(
      error.status,
      method,
      route,
      undefined,
      'the response body is empty or not JSON',
      'A proxy or a wrong `api-url` may be answering instead of Polar.' +
        (method === 'POST' && route === '/v1/files/'
          ? ' If Polar did create the file, that incomplete upload cannot be found or deleted without its ID.'
          : '')
    )
  }
  if (!(error instanceof HttpStatus)) {
    if (error instanceof PolarApiError || error instanceof InputError) return error
    return new PolarApiError(
      0,
      method,
      route,
      undefined,
      describe(error),
      'Could not reach the Polar API; check `api-url`/`server` and the runner network, then re-run.'
    )
  }
  const { code, detail } = parseErrorBody(error.body, [token])
  return new PolarApiError(
    error.status,
    method,
    route,
    code,
    detail,
    hint(error.status, code, method, route)
  )
}

/**
 * Polar's error body as parsed fields only — its `error` code and `detail` (or an OAuth
 * `error_description`; a 422's fields and messages, never their `input`) — scrubbed and
 * shortened. A body that is not JSON (a 500, a proxy's page) may echo the request, token
 * included: only its first line is kept, scrubbed.
 */
export function parseErrorBody(
  body: string,
  secrets: string[] = []
): { code?: string; detail: string } {
  let code: string | undefined
  let detail = ''
  try {
    const json = JSON.parse(body) as {
      error?: unknown
      detail?: unknown
      error_description?: unknown
    }
    if (typeof json.error === 'string') code = scrub(json.error, secrets, 60)
    if (typeof json.error_description === 'string') detail = json.error_description
    if (typeof json.detail === 'string') detail = json.detail
    else if (Array.isArray(json.detail)) {
      detail = json.detail
        .map(
          (d: { loc?: unknown[]; msg?: unknown }) =>
            `${(d.loc ?? []).join('.')}: ${String(d.msg ?? '')}`
        )
        .join('; ')
    }
  } catch {
    const first = body.trim().split(/\r?\n/)[0] ?? ''
    // An HTML page (a proxy's, a load balancer's) says nothing the status does not.
    detail = first.startsWith('<') ? 'an HTML page instead of JSON' : first
  }
  return { code, detail: scrub(detail, secrets) }
}

function requiredScope(method: string, route: string): string {
  if (route.startsWith('/v1/benefits')) return method === 'GET' ? 'benefits:read' : 'benefits:write'
  return method === 'GET' ? 'files:read' : 'files:write'
}

function hint(status: number, code: string | undefined, method: string, route: string): string {
  if (status === 401) {
    // Polar's own detail already says "expired, revoked, malformed": add only what it cannot.
    return 'A token of the other server (production vs sandbox) is refused too. Check the `token` and `server` inputs.'
  }
  if (status === 403 && code === 'insufficient_scope') {
    return `The token lacks the ${requiredScope(method, route)} scope. Create a token with it.`
  }
  if (status === 403) return 'The token may not do this in this organization.'
  if (status === 404 && route.startsWith('/v1/benefits')) {
    return 'No such benefit in this organization. Check `benefit-ids` and the token’s organization.'
  }
  if (status === 404) {
    return 'A wrong `api-url`, or a Polar-Version this server does not know, also answers 404.'
  }
  if (status === 429) return 'Still rate limited after retries. Lower the `rate-limit` input.'
  if (status >= 500)
    return 'Polar answered with a server error after every retry. Re-run the job later.'
  return ''
}
