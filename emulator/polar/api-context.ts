/** What an API route handler receives and the Polar error replies it can give. */
import type { Malware } from './malware.js'
import type { Faults } from './faults.js'
import type { Reply } from '../common/http-util.js'
import type { OpenApi, ValidationIssue } from './openapi.js'
import type { State, TokenInfo } from './state.js'
import type { EmulatorConfig } from './types.js'

export interface ApiDeps {
  state: State
  openapi: OpenApi
  config: EmulatorConfig
  faults: Faults
  malware: Malware
}

export interface ApiContext {
  deps: ApiDeps
  auth: TokenInfo
  /** Organizations the token can act on (oat: its own; pat: its user's). */
  organizations: string[]
  pathId: string | undefined
  /** Query parameters after OpenAPI validation and coercion. */
  query: Record<string, unknown>
  body: unknown
  /** Set by handlers to explain an error reply in the request log. */
  error?: string
  /** Set by DELETE /v1/files/{id}: the benefits that listed the file (see RequestLogEntry). */
  listedBy?: string[]
}

export type Handler = (ctx: ApiContext) => Reply | Promise<Reply>

export const NOT_FOUND: Reply = {
  status: 404,
  json: { error: 'ResourceNotFound', detail: 'Not found' }
}

export function validationError(detail: ValidationIssue[]): Reply {
  return { status: 422, json: { error: 'RequestValidationError', detail } }
}

/** Starlette's answer to an unhandled exception — how Polar surfaces every S3 failure. */
export function internalError(ctx: ApiContext, reason: string): Reply {
  ctx.error = reason
  return { status: 500, text: 'Internal Server Error' }
}
