/**
 * The Polar API server. Pipeline per request, in Polar's order: injected faults → (test jitter and
 * holds) → Polar-Version →
 * routing (307 for slashless collections) → auth → rate limit → scope → OpenAPI validation of
 * parameters and body (422) → handler → OpenAPI validation of the response → latency → reply.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { validationError, type ApiContext, type ApiDeps, type Handler } from './api-context.js'
import { getBenefit, listBenefitFiles, listBenefits, patchBenefit } from './api-benefits.js'
import { completeFile, createFile, deleteFile, listFiles, patchFile } from './api-files.js'
import { readBody, resetConnection, sleep, writeReply, type Reply } from '../common/http-util.js'
import type { RequestLog } from './log.js'
import { alterField } from './faults.js'
import type { Holds } from './holds.js'
import type { ValidationIssue } from './openapi.js'
import type { RateLimiter } from './ratelimit.js'
import type { ApiVersions } from './versions.js'

/** The version the action's tests send by default (served by default, see versions.ts). */
export const POLAR_VERSION = '2026-10'
/** Polar's MaxBodySizeMiddleware: a write's body may be at most 10 MiB. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024

interface Route {
  method: string
  pattern: RegExp
  /** The OpenAPI path the route implements (validation and scopes come from it). */
  spec: string
  handler: Handler
  /** The handler validates the body itself (FileCreate is a tagged union). */
  ownBodyValidation?: boolean
}

const ID = '([^/]+)'
const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/v1\/files\/$/, spec: '/v1/files/', handler: listFiles },
  {
    method: 'POST',
    pattern: /^\/v1\/files\/$/,
    spec: '/v1/files/',
    handler: createFile,
    ownBodyValidation: true
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/files/${ID}/uploaded$`),
    spec: '/v1/files/{id}/uploaded',
    handler: completeFile
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^/v1/files/${ID}$`),
    spec: '/v1/files/{id}',
    handler: patchFile
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/v1/files/${ID}$`),
    spec: '/v1/files/{id}',
    handler: deleteFile
  },
  { method: 'GET', pattern: /^\/v1\/benefits\/$/, spec: '/v1/benefits/', handler: listBenefits },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/benefits/${ID}$`),
    spec: '/v1/benefits/{id}',
    handler: getBenefit
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^/v1/benefits/${ID}$`),
    spec: '/v1/benefits/{id}',
    handler: patchBenefit
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/benefits/${ID}/files$`),
    spec: '/v1/benefits/{id}/files',
    handler: listBenefitFiles
  }
]
/** Starlette's redirect_slashes: the collection paths without their trailing slash. */
const SLASHLESS = new Set(['/v1/files', '/v1/benefits'])

export interface ApiServerDeps extends ApiDeps {
  log: RequestLog
  limiter: RateLimiter
  holds: Holds
  versions: ApiVersions
  /** Handles `/_emulator/…` (no auth, never logged); returns false when the path is not one. */
  control: (req: IncomingMessage, res: ServerResponse, path: string) => boolean
}

/** A debugging proxy's page that echoes the request, credentials included. */
function echo(req: IncomingMessage): string {
  const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`)
  return [`${req.method} ${req.url} HTTP/1.1`, ...headers].join('\n')
}

function faultReply(status: number, retryAfter: number | undefined, echoed?: string): Reply {
  if (status === 429) return { status, headers: { 'retry-after': String(retryAfter ?? 1) } }
  const text =
    echoed ??
    (status === 500
      ? 'Internal Server Error'
      : status === 502
        ? 'Bad Gateway'
        : 'Service Unavailable')
  return {
    status,
    text,
    headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }
  }
}

/** Query values as FastAPI sees them: repeated keys → list, integers parsed. */
function coerceParam(schema: Record<string, unknown>, values: string[]): unknown {
  const branches = (schema.anyOf as Record<string, unknown>[] | undefined) ?? [schema]
  const accepts = (t: string): boolean =>
    branches.some(b => b.type === t || (t === 'string' && '$ref' in b))
  if (accepts('integer')) {
    const num = (v: string): number | string => (/^-?\d+$/.test(v) ? Number(v) : v)
    return values.length === 1 ? num(values[0]) : values.map(num)
  }
  if (values.length > 1 || (accepts('array') && !accepts('string'))) return values
  return values[0]
}

function parseJsonBody(raw: Buffer): { value: unknown } | { issues: ValidationIssue[] } {
  if (raw.length === 0)
    return { issues: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] }
  try {
    return { value: JSON.parse(raw.toString('utf8')) as unknown }
  } catch (err) {
    return {
      issues: [
        {
          type: 'json_invalid',
          loc: ['body', 0],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: String(err) }
        }
      ]
    }
  }
}

interface Outcome {
  reply: Reply
  /** The version served (echoed as Polar-Version); none when the middleware turned it away. */
  version?: string
  error?: string
  listedBy?: string[]
}

async function process(
  deps: ApiServerDeps,
  req: IncomingMessage,
  path: string,
  rawQuery: string
): Promise<Outcome> {
  const version = deps.versions.resolve(req.headers['polar-version'])
  if (version === null) {
    await readBody(req).catch(() => undefined)
    return {
      reply: { status: 404, json: { detail: 'Not Found' } },
      error: `Polar-Version ${String(req.headers['polar-version'])} is not served`
    }
  }
  const outcome = await served(deps, req, path, rawQuery)
  return { ...outcome, version }
}

async function served(
  deps: ApiServerDeps,
  req: IncomingMessage,
  path: string,
  rawQuery: string
): Promise<Outcome> {
  const guard = bodyGuard(req)
  if (guard) {
    req.resume()
    return guard
  }
  if (SLASHLESS.has(path)) {
    const location = `http://${req.headers.host ?? 'localhost'}${path}/${rawQuery ? `?${rawQuery}` : ''}`
    return { reply: { status: 307, headers: { location } } }
  }
  const method = req.method ?? 'GET'
  const candidates = ROUTES.filter(r => r.pattern.test(path))
  if (candidates.length === 0) return { reply: { status: 404, json: { detail: 'Not Found' } } }
  const route = candidates.find(r => r.method === method)
  if (!route) {
    return {
      reply: {
        status: 405,
        json: { detail: 'Method Not Allowed' },
        headers: { allow: candidates.map(r => r.method).join(', ') }
      }
    }
  }
  const rawBody = await readBody(req)

  // Authentication: no token → generic 401; unknown token → OAuth2 invalid_token.
  const authz = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
  if (!authz)
    return { reply: { status: 401, json: { error: 'Unauthorized', detail: 'Unauthorized' } } }
  const auth = deps.state.token(authz[1])
  if (!auth) {
    const description =
      'The access token provided is expired, revoked, malformed, or invalid for other reasons.'
    return {
      reply: {
        status: 401,
        headers: {
          'www-authenticate': `Bearer realm="polar", error="invalid_token", error_description="${description}"`
        },
        json: { error: 'invalid_token', error_description: description }
      }
    }
  }
  const retryAfter = deps.limiter.take(`org:${auth.organizationId}`)
  if (retryAfter !== null) {
    return {
      reply: { status: 429, headers: { 'retry-after': String(retryAfter) } },
      error: 'rate limited'
    }
  }
  const scopes = deps.openapi.scopes(route.spec, method)
  if (!scopes.some(s => auth.scopes.has(s))) {
    return {
      reply: {
        status: 403,
        headers: {
          'www-authenticate': `Bearer realm="polar", error="insufficient_scope", scope="${scopes.join(' ')}"`
        },
        json: {
          error: 'insufficient_scope',
          error_description:
            'The request requires higher privileges than provided by the access token.'
        }
      }
    }
  }

  // Parameters and body, validated against the OpenAPI operation.
  const issues: ValidationIssue[] = []
  const match = route.pattern.exec(path)
  let pathId: string | undefined
  const query: Record<string, unknown> = {}
  const searchParams = new URLSearchParams(rawQuery)
  deps.openapi.parameters(route.spec, method).forEach((param, index) => {
    if (param.name === 'metadata') return // deepObject filter: not used by the emulator
    let value: unknown
    if (param.in === 'path') {
      try {
        pathId = decodeURIComponent(match?.[1] ?? '')
      } catch {
        pathId = match?.[1] ?? ''
      }
      value = pathId
    } else if (param.in === 'query') {
      const values = searchParams.getAll(param.name)
      if (values.length === 0) return
      value = coerceParam(param.schema as Record<string, unknown>, values)
      query[param.name] = value
    } else return
    issues.push(...deps.openapi.validateParameter(route.spec, method, index, value))
  })
  let body: unknown
  if (deps.openapi.operation(route.spec, method).requestBody) {
    const parsed = parseJsonBody(rawBody)
    if ('issues' in parsed) issues.push(...parsed.issues)
    else {
      body = parsed.value
      if (!route.ownBodyValidation)
        issues.push(...deps.openapi.validateRequestBody(route.spec, method, body))
    }
  }
  if (issues.length) return { reply: validationError(issues) }

  const ctx: ApiContext = { deps, auth, organizations: [auth.organizationId], pathId, query, body }
  const reply = await route.handler(ctx)
  if (reply.status < 300 || reply.json !== undefined) {
    // Every response this emulator sends must match Polar's document, or it is an emulator bug.
    const documented =
      deps.openapi.operation(route.spec, method).responses[String(reply.status)] !== undefined
    if (documented || reply.status < 300)
      deps.openapi.assertResponse(route.spec, method, reply.status, reply.json)
  }
  return { reply, error: ctx.error, listedBy: ctx.listedBy }
}

/** Polar's request guards: a write needs Content-Length (411) and at most 10 MiB (413). */
function bodyGuard(req: IncomingMessage): Outcome | undefined {
  if (!['POST', 'PUT', 'PATCH'].includes(req.method ?? '')) return undefined
  const length = req.headers['content-length']
  if (length === undefined) {
    return {
      reply: {
        status: 411,
        json: { error: 'LengthRequired', detail: 'A Content-Length header is required.' }
      },
      error: 'no Content-Length on a write'
    }
  }
  if (Number(length) > MAX_BODY_BYTES) {
    return {
      reply: {
        status: 413,
        json: {
          error: 'RequestBodyTooLarge',
          detail: `Request body is too large. The maximum is ${MAX_BODY_BYTES} bytes.`
        }
      },
      error: `body of ${length} bytes`
    }
  }
  return undefined
}

/** 0…`max` ms, uniformly: reads and writes of concurrent clients interleave differently each time. */
function jitter(max: number): Promise<void> {
  return sleep(max > 0 ? Math.random() * max : 0)
}

async function handle(
  deps: ApiServerDeps,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  const rawQuery = q < 0 ? '' : url.slice(q + 1)
  if (deps.control(req, res, path)) return
  const method = req.method ?? 'GET'
  const entry = deps.log.begin('api', req, res, path, rawQuery)

  const before = deps.faults.take('api', method, path, 'before')
  if (before?.kind === 'reset') return resetConnection(req, before.afterBytes)
  if (before?.kind === 'delay') await sleep(before.ms)
  await jitter(deps.config.apiJitterMs)
  if (await deps.holds.wait(method, path)) entry.held = true
  let outcome: Outcome
  if (before?.kind === 'status') {
    await readBody(req)
    outcome = {
      reply: faultReply(before.status, before.retryAfter, before.echo ? echo(req) : undefined),
      error: `injected ${before.status}`
    }
  } else {
    try {
      outcome = await process(deps, req, path, rawQuery)
    } catch (err) {
      // Loud on purpose: a response that breaks the OpenAPI contract must fail the tests.
      const message = err instanceof Error ? err.message : String(err)
      console.error(`EMULATOR BUG on ${method} ${path}:`, err)
      outcome = {
        reply: { status: 500, text: `EMULATOR BUG: ${message}` },
        error: `EMULATOR BUG: ${message}`
      }
    }
    const after = deps.faults.take('api', method, path, 'after')
    if (after?.kind === 'reset') {
      req.socket.resetAndDestroy()
      return
    }
    if (after?.kind === 'delay') await sleep(after.ms)
    if (after?.kind === 'field' && outcome.reply.json !== undefined) {
      outcome = {
        ...outcome,
        reply: {
          ...outcome.reply,
          json: alterField(outcome.reply.json, after.field, after.value)
        },
        error: `injected: ${after.field} altered`
      }
    }
    if (after?.kind === 'status')
      outcome = {
        reply: faultReply(after.status, after.retryAfter, after.echo ? echo(req) : undefined),
        error: `injected ${after.status} after handling`
      }
  }
  if (outcome.error) entry.error = outcome.error
  if (outcome.listedBy) entry.listedBy = outcome.listedBy
  await jitter(deps.config.apiJitterMs)
  await sleep(deps.config.apiLatencyMs)
  const reply = outcome.version
    ? {
        ...outcome.reply,
        headers: { ...outcome.reply.headers, 'polar-version': outcome.version }
      }
    : outcome.reply
  if (!res.destroyed) writeReply(res, reply)
}

export function createApiServer(deps: ApiServerDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      console.error('EMULATOR BUG (API):', err)
      if (!res.headersSent) writeReply(res, { status: 500, text: `EMULATOR BUG: ${String(err)}` })
      else res.destroy()
    })
  })
}
