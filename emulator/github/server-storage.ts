/**
 * The storage host behind the 302 (contract §5): another hostname, credentials in the signed
 * query, S3's XML errors. An `Authorization` header is refused with its value echoed back, as
 * S3 does: exactly what makes sending the token there dangerous.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { header } from '../common/http-util.js'
import type { GitHubFaults } from './faults.js'
import type { GitHubLog } from './log.js'
import { send, textOut, type Outgoing } from './send.js'
import type { Signer } from './signing.js'
import { contentSize, type GitHubState } from './state.js'
import type { GitHubFault, GitHubLogEntry } from './types.js'

export interface StorageDeps {
  state: GitHubState
  faults: GitHubFaults
  log: GitHubLog
  signer: Signer
}

/** The page GitHub has served with status 200 in place of an asset (contract §5 step 6). */
export const HTML_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Unicorn! · GitHub</title></head>' +
  '<body><p>No server is currently available to service your request.</p>' +
  '<p>Sorry about that. Please try refreshing and contact us if the problem persists.</p></body></html>\n'

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, c => `&#${c.charCodeAt(0)};`)
}

function s3Error(
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {}
): Outgoing {
  const requestId = randomBytes(8).toString('hex').toUpperCase()
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('')
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${fields}` +
    `<RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString('base64')}</HostId></Error>`
  return textOut(status, body, 'application/xml', { ...headers, 'x-amz-request-id': requestId })
}

function faultOut(fault: Exclude<GitHubFault, { kind: 'reset' }>): Outgoing {
  switch (fault.kind) {
    case 'secondary-rate-limit': {
      const retry = fault.retryAfter === undefined ? 60 : fault.retryAfter
      return s3Error(
        fault.status ?? 403,
        'SlowDown',
        'Please reduce your request rate.',
        {},
        retry === null ? {} : { 'retry-after': String(retry) }
      )
    }
    case 'primary-rate-limit':
      return s3Error(
        403,
        'SlowDown',
        'Please reduce your request rate.',
        {},
        {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + (fault.resetInSeconds ?? 60))
        }
      )
    case 'status':
      if (fault.status === 502)
        return textOut(502, '<html><body><h1>502 Bad Gateway</h1></body></html>\n', 'text/html')
      return fault.status === 500
        ? s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.')
        : s3Error(503, 'SlowDown', 'Please reduce your request rate.')
  }
}

async function answer(
  deps: StorageDeps,
  req: IncomingMessage,
  path: string,
  rawQuery: string,
  entry: GitHubLogEntry
): Promise<Outgoing> {
  const fail = (out: Outgoing, why: string): Outgoing => {
    entry.error = why
    return out
  }
  const authorization = header(req, 'authorization')
  if (authorization !== undefined) {
    return fail(
      s3Error(
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        {
          ArgumentName: 'Authorization',
          ArgumentValue: authorization
        }
      ),
      'InvalidArgument: an Authorization header reached the storage host'
    )
  }
  if (req.method !== 'GET')
    return fail(
      s3Error(
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.'
      ),
      `method ${req.method}`
    )
  const verdict = deps.signer.verify(path, rawQuery)
  if (!verdict.ok)
    return fail(
      s3Error(verdict.status, verdict.code, verdict.message, verdict.extra),
      `${verdict.code}: ${verdict.message}`
    )
  const asset = deps.state.assetByStorageKey(verdict.key)
  if (!asset)
    return fail(s3Error(404, 'NoSuchKey', 'The specified key does not exist.'), 'NoSuchKey')
  if (asset.serve === 'html-200') {
    entry.error = 'html-200: served an HTML page in place of the asset (as asked)'
    return textOut(200, HTML_ERROR_PAGE, 'text/html; charset=utf-8')
  }
  const onDisk = await contentSize(asset.content)
  if (onDisk !== asset.size)
    throw new Error(
      `asset ${asset.name}: its file is ${onDisk} bytes now, ${asset.size} at addAsset`
    )
  return {
    status: 200,
    headers: {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename=${asset.name}`,
      'last-modified': new Date(Date.parse(asset.updatedAt)).toUTCString()
    },
    body: 'buffer' in asset.content ? asset.content : { path: asset.content.path, size: asset.size }
  }
}

async function handle(deps: StorageDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  const rawQuery = q < 0 ? '' : url.slice(q + 1)
  const entry = deps.log.begin('storage', req, res, path, '') // never log the signed query
  req.resume()
  const fault = deps.faults.take('storage', req.method ?? 'GET', path)
  let out: Outgoing
  if (fault && fault.kind !== 'reset') {
    entry.error = `injected ${fault.kind}`
    out = faultOut(fault)
  } else {
    try {
      out = await answer(deps, req, path, rawQuery, entry)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      console.error(`GITHUB EMULATOR BUG (storage) on ${path}:`, err)
      entry.error = `EMULATOR BUG: ${message}`
      out = s3Error(500, 'InternalError', `EMULATOR BUG: ${message}`)
    }
  }
  if (res.destroyed) return
  await send(res, out, entry, fault?.kind === 'reset' ? fault : undefined)
}

export function createStorageServer(deps: StorageDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      console.error('GITHUB EMULATOR BUG (storage):', err)
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(`EMULATOR BUG: ${String(err)}`)
      } else res.destroy()
    })
  })
}
