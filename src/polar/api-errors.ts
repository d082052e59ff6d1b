/**
 * What Polar's failures mean to the user: the call's last failure turned into a PolarApiError
 * with Polar's code and detail (parsed, scrubbed) and a hint naming what to check, and the
 * version messages. Pure: no request is made here.
 */
import { InputError, PolarApiError } from '../errors.js'
import { describeError, scrub } from '../log.js'
import { PINNED_VERSION } from './api-version.js'

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
export class UnexpectedStatus extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: string
  ) {
    super(`HTTP ${status}`)
  }
}

/** A 2xx whose body is empty or not JSON. Never carries the body: a create's holds presigned URLs. */
export class UnreadableBody extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status} with a body that is not JSON`)
  }
}

/**
 * Polar's version middleware turning a version away (unknown, malformed or removed): 404
 * {"detail":"Not Found"} with no Polar-Version header. A resource 404 carries the header and
 * `"error":"ResourceNotFound"`.
 */
export function versionNotServed(answer: {
  statusCode: number
  answered: string | null
  text: string
}): boolean {
  if (answer.statusCode !== 404 || answer.answered !== null) return false
  try {
    const body = JSON.parse(answer.text) as Record<string, unknown>
    return body.detail === 'Not Found' && Object.keys(body).length === 1
  } catch {
    return false
  }
}

/** True when the request certainly did not reach Polar's handler (so a retry cannot duplicate it). */
export function notSent(error: unknown): boolean {
  if (error instanceof UnexpectedStatus) return error.status === 429
  const code = (error as { code?: unknown }).code
  return ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EAI_AGAIN'].includes(String(code))
}

export function retiredWarning(retired: string, answered: string): string {
  return (
    `Polar no longer serves API version ${retired}, which this release of polar-files-action ` +
    `pins: it answers 404 without a Polar-Version header. This run goes on with the version ` +
    `Polar answered with, ${answered}; update polar-files-action to a release that pins a ` +
    'version Polar serves.'
  )
}

/** A failure as a retry line and an unreachable-API error word it. */
export function describe(error: unknown): string {
  return error instanceof UnexpectedStatus ? `HTTP ${error.status}` : describeError(error)
}

/** The last failure of a call as the error the run reports (the token scrubbed out). */
export function toApiError(error: unknown, method: string, route: string, token: string): Error {
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
  if (!(error instanceof UnexpectedStatus)) {
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
