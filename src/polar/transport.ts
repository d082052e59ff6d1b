/**
 * Polar's HTTP plumbing under PolarClient, over one keep-alive undici dispatcher: every call is
 * paced, carries Polar-Version and User-Agent, times out, and is retried only on retriable
 * failures. The token goes only to the API origin.
 */
import type { Dispatcher } from 'undici'
import type { Logger } from '../log.js'
import { proxyAwareDispatcher } from '../proxy.js'
import { isNetworkError, parseRetryAfter, withRetry } from '../retry.js'
import type { RetryPolicy, Verdict } from '../retry.js'
import { USER_AGENT } from '../version.js'
import { Limiter } from '../limiter.js'
import {
  describe,
  retiredWarning,
  toApiError,
  UnexpectedStatus,
  UnreadableBody,
  notSent,
  VersionNotServedError,
  versionNotServed
} from './api-errors.js'
import { Pacer } from './pacer.js'

/**
 * API requests in flight at once (also the connections), each taking `Pacer.weight()` places
 * (two under a small budget or deep into a burst). A request takes its turn from the pacer only
 * once it has a place: when the budget runs dry (other jobs spend it too), at most these are
 * answered 429 at once, the rest wait for the slower pace.
 */
const IN_FLIGHT = 10

export interface TransportOptions {
  apiUrl: string
  token: string
  retry: RetryPolicy
  rateLimitPerMinute: number
  logger: Logger
  timeoutMs?: number
  dispatcher?: Dispatcher
  /** The `api-version` input: strict, never replaced. Null: the action's pin, with a fallback. */
  apiVersion?: string | null
}

export interface CallOptions {
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
  noRetry?: boolean
}

/** One call across its attempts. */
interface Exchange {
  method: string
  route: string
  path: string
  payload: string | undefined
  options: CallOptions
  warned: boolean
  lastFailureAmbiguous: boolean
}

interface Answer {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** The Polar-Version sent (null: none) and the one the response carried. */
  version: string | null
  answered: string | null
}

export class PolarTransport {
  private readonly origin: string
  private readonly prefix: string
  private readonly dispatcher: Dispatcher
  private readonly ownsDispatcher: boolean
  private readonly pacer: Pacer
  private readonly inFlight = new Limiter(IN_FLIGHT)
  /** Requests sent and not yet answered. */
  private outstanding = 0
  private readonly timeoutMs: number
  /** Sent as Polar-Version; null once Polar retired the pin (then its current version answers). */
  private version: string | null
  /** Some response carried Polar-Version: the version is served (writes may go out). */
  private versionCheck: Promise<void> | null = null
  private confirmed = false
  /** The pin Polar retired in this run, and the version it answered with instead. */
  retired: { version: string; answered: string | null } | null = null

  /**
   * `pin`: sent when `apiVersion` is empty. `versionQuery`: what the version check's one-file
   * read is filtered by (the organization).
   */
  constructor(
    private readonly options: TransportOptions,
    pin: string,
    private readonly versionQuery: [string, string][]
  ) {
    this.version = options.apiVersion || pin
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

  /** See PolarClient.reserve. */
  reserve(calls: number): Promise<void> {
    return this.pacer.take(calls)
  }

  async call<T>(method: string, route: string, options: CallOptions): Promise<T> {
    const search = options.query?.length
      ? '?' + options.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
      : ''
    const call: Exchange = {
      method,
      route,
      path: this.prefix + route + search,
      payload: options.body === undefined ? undefined : JSON.stringify(options.body),
      options,
      warned: false,
      lastFailureAmbiguous: false
    }
    const { logger, retry } = this.options
    try {
      return (await withRetry(n => this.attempt(call, n), {
        policy: options.noRetry ? { ...retry, retries: 0 } : retry,
        classify: error => this.classify(call, error),
        signal: options.signal,
        logger,
        label: `${method} ${route}`,
        describe
      })) as T
    } catch (error) {
      throw toApiError(error, method, route, this.options.token)
    }
  }

  private async attempt(call: Exchange, n: number): Promise<unknown> {
    const { options, method } = call
    if (n > 0 && options.ambiguousRetryWarning && !call.warned && call.lastFailureAmbiguous) {
      call.warned = true
      this.options.logger.warning(options.ambiguousRetryWarning)
    }
    if (n > 0 && options.beforeRetry) {
      const done = await options.beforeRetry()
      if (done !== undefined) return done
    }
    // The version check is a call of its own: made before this one holds a place in flight.
    if (method !== 'GET' && !this.confirmed) await this.checkVersion()
    const place = await this.inFlight.acquire(this.pacer.weight())
    try {
      return await this.exchange(call, n)
    } finally {
      place()
    }
  }

  private async exchange(call: Exchange, n: number): Promise<unknown> {
    const { options, method, route } = call
    if (n > 0 || !options.prepaid) await this.pacer.take()
    // Counted until answered: when one is answered 429, those still out met the same dry window.
    this.outstanding++
    let response = await this.send(call).finally(() => this.outstanding--)
    if (response.version !== null && versionNotServed(response)) {
      const sent = response.version
      if (this.options.apiVersion) throw new VersionNotServedError(sent!, method, route)
      // Polar removed the pin: nothing was done; the same call goes to its current version.
      this.retire(sent!)
      await this.pacer.take()
      response = await this.send(call)
    }
    const text = response.text
    if (response.statusCode !== options.expect) {
      throw new UnexpectedStatus(response.statusCode, response.headers, text)
    }
    if (options.expect === 204) return undefined
    try {
      return JSON.parse(text) as unknown
    } catch {
      throw new UnreadableBody(response.statusCode)
    }
  }

  private async send({ method, route, path, payload, options }: Exchange): Promise<Answer> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    const version = this.version
    const started = Date.now()
    const response = await this.dispatcher.request({
      origin: this.origin,
      path,
      method: method as Dispatcher.HttpMethod,
      headers: {
        authorization: `Bearer ${this.options.token}`,
        ...(version ? { 'polar-version': version } : {}),
        'user-agent': USER_AGENT,
        accept: 'application/json',
        // Polar answers a write without Content-Length with 411 (never chunked).
        ...(method !== 'GET' ? { 'content-length': String(Buffer.byteLength(payload ?? '')) } : {}),
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {})
      },
      body: payload,
      signal: options.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
    const text = await response.body.text()
    this.options.logger.debug(
      `${method} ${route} → ${response.statusCode} (${Date.now() - started} ms)`
    )
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

  private classify(call: Exchange, error: unknown): Verdict {
    call.lastFailureAmbiguous = !notSent(error)
    // Polar acted but we cannot read what it did: only a call that can check first
    // (`/uploaded`) may be sent again.
    if (error instanceof UnreadableBody) return { retriable: !!call.options.beforeRetry }
    if (error instanceof UnexpectedStatus) {
      const retryAfterMs = parseRetryAfter(error.headers['retry-after'])
      if (error.status === 429) {
        this.pacer.throttled(retryAfterMs ?? 1000, this.outstanding)
        return { retriable: true, retryAfterMs }
      }
      return { retriable: error.status >= 500, retryAfterMs }
    }
    return { retriable: isNetworkError(error) }
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
      query: [...this.versionQuery, ['page', '1'], ['limit', '1']],
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
}
