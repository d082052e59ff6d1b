/**
 * The S3 part endpoint: UploadPart on presigned, path-style URLs
 * (`/<bucket>/<key>?partNumber=&uploadId=&X-Amz-…`). Bodies are hashed as they stream (MD5 for
 * the ETag, SHA-256 for the checksum) and never buffered unless keepBodies is on. The network
 * model (network.ts; off by default) paces bodies, adds round trips, or skips the hashing.
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Faults } from './faults.js'
import { drain, header, resetConnection, sleep } from '../common/http-util.js'
import type { RequestLog } from './log.js'
import type { Network } from './network.js'
import { verifyPresigned } from './sigv4.js'
import type { ReceivedPart, State } from './state.js'
import type { EmulatorConfig, RequestLogEntry } from './types.js'

export interface S3Deps {
  state: State
  faults: Faults
  log: RequestLog
  config: EmulatorConfig
  network: Network
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, c => `&#${c.charCodeAt(0)};`)
}

/** S3's error document. Never echoes the URL: a presigned URL is a credential. */
function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const requestId = Math.random().toString(16).slice(2, 18).toUpperCase()
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId></Error>`
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(body)),
    'x-amz-request-id': requestId
  })
  res.end(body)
}

/** Answer an error only once the body is consumed, so clients see the response, not EPIPE. */
function rejectAfterBody(
  req: IncomingMessage,
  res: ServerResponse,
  entry: RequestLogEntry,
  status: number,
  code: string,
  message: string
): void {
  entry.error = `${code}: ${message}`
  drain(req, () => sendError(res, status, code, message))
}

function decodeKeyPath(rawPath: string): { bucket: string; key: string } | null {
  const segments = rawPath.split('/').slice(1)
  if (segments.length < 2) return null
  try {
    const decoded = segments.map(s => decodeURIComponent(s))
    return { bucket: decoded[0], key: decoded.slice(1).join('/') }
  } catch {
    return null
  }
}

const SHA256_B64 = /^[A-Za-z0-9+/]{43}=$/

async function handle(deps: S3Deps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawUrl = req.url ?? '/'
  const q = rawUrl.indexOf('?')
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q)
  const method = req.method ?? 'GET'
  const entry = deps.log.begin('s3', req, res, rawPath, '') // never log the presigned query
  const rtt = deps.network.delayFor(req)
  if (rtt > 0) await sleep(rtt)

  const before = deps.faults.take('s3', method, rawPath, 'before')
  if (before?.kind === 'delay') await sleep(before.ms)
  else if (before?.kind === 'reset') return resetConnection(req, before.afterBytes)
  else if (before?.kind === 'status')
    return faultStatus(req, res, entry, before.status, before.retryAfter)

  if (
    header(req, 'transfer-encoding') !== undefined ||
    req.headers['content-length'] === undefined
  ) {
    return rejectAfterBody(
      req,
      res,
      entry,
      411,
      'MissingContentLength',
      'You must provide the Content-Length HTTP header.'
    )
  }
  const verified = await verifyPresigned({ method, rawUrl, headers: req.headers })
  if (!verified.ok)
    return rejectAfterBody(req, res, entry, verified.status, verified.code, verified.message)
  if (method !== 'PUT') {
    return rejectAfterBody(
      req,
      res,
      entry,
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.'
    )
  }

  const partNumber = Number(verified.query.partNumber)
  if (!/^\d+$/.test(verified.query.partNumber ?? '') || partNumber < 1 || partNumber > 10000) {
    return rejectAfterBody(
      req,
      res,
      entry,
      400,
      'InvalidArgument',
      'Part number must be an integer between 1 and 10000, inclusive'
    )
  }
  const location = decodeKeyPath(verified.rawPath)
  const upload = deps.state.upload(verified.query.uploadId ?? '')
  if (!location || !upload || upload.bucket !== location.bucket || upload.key !== location.key) {
    return rejectAfterBody(
      req,
      res,
      entry,
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'
    )
  }
  // Polar creates every upload with ChecksumAlgorithm=SHA256: a part without one is refused.
  const claimed = header(req, 'x-amz-checksum-sha256')
  if (
    claimed === undefined ||
    (header(req, 'x-amz-sdk-checksum-algorithm') ?? 'SHA256').toUpperCase() !== 'SHA256'
  ) {
    return rejectAfterBody(
      req,
      res,
      entry,
      400,
      'InvalidRequest',
      'Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: null'
    )
  }
  if (!SHA256_B64.test(claimed)) {
    return rejectAfterBody(
      req,
      res,
      entry,
      400,
      'InvalidRequest',
      'Value for x-amz-checksum-sha256 header is invalid.'
    )
  }

  // Stream: hash incrementally, keep only digests (and the bytes only when asked to). In the
  // bench's trust mode the signed checksum is believed and nothing is hashed.
  const trust = deps.network.trustChecksums
  const md5 = trust ? null : createHash('md5')
  const sha256 = trust ? null : createHash('sha256')
  const keep = deps.config.keepBodies
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    md5?.update(chunk)
    sha256?.update(chunk)
    size += chunk.length
    if (keep) chunks.push(chunk)
    deps.network.pace(req, chunk.length)
  })
  req.on('error', () => undefined) // client went away: nothing is stored
  req.on('end', () => {
    const shaDigest = sha256?.digest() ?? Buffer.from(claimed, 'base64')
    const md5Digest = md5?.digest() ?? createHash('md5').update(`${claimed}:${size}`).digest()
    const actual = shaDigest.toString('base64')
    if (actual !== claimed) {
      entry.error = 'BadDigest'
      return sendError(
        res,
        400,
        'BadDigest',
        'The SHA256 you specified did not match the calculated checksum.'
      )
    }
    if (deps.state.upload(upload.uploadId) !== upload) {
      entry.error = 'NoSuchUpload (aborted during the PUT)'
      return sendError(
        res,
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'
      )
    }
    const etag = `"${md5Digest.toString('hex')}"`
    const part: ReceivedPart = {
      number: partNumber,
      size,
      etag,
      sha256Base64: actual,
      md5: md5Digest,
      sha256: shaDigest
    }
    if (keep) part.body = chunks
    upload.parts.set(partNumber, part) // a re-PUT of the same number replaces it, as in S3

    const after = deps.faults.take('s3', method, rawPath, 'after')
    if (after?.kind === 'reset') return void req.socket.resetAndDestroy()
    if (after?.kind === 'status')
      return faultStatus(req, res, entry, after.status, after.retryAfter)
    const send = (): void => {
      res.writeHead(200, {
        etag,
        'x-amz-checksum-sha256': actual,
        'x-amz-server-side-encryption': 'AES256',
        'content-length': '0'
      })
      res.end()
    }
    if (after?.kind === 'delay') setTimeout(send, after.ms)
    else send()
  })
}

function faultStatus(
  req: IncomingMessage,
  res: ServerResponse,
  entry: RequestLogEntry,
  status: number,
  retryAfter: number | undefined
): void {
  entry.error = `injected ${status}`
  drain(req, () => {
    if (status === 429) {
      res.writeHead(429, { 'retry-after': String(retryAfter ?? 1), 'content-length': '0' })
      res.end()
    } else if (status === 500)
      sendError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.')
    else if (status === 503) sendError(res, 503, 'SlowDown', 'Please reduce your request rate.')
    else {
      const body = '<html><body><h1>502 Bad Gateway</h1></body></html>'
      res.writeHead(status, { 'content-type': 'text/html', 'content-length': String(body.length) })
      res.end(body)
    }
  })
}

export function createS3Server(deps: S3Deps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      console.error('EMULATOR BUG (S3):', err)
      if (!res.headersSent) sendError(res, 500, 'InternalError', 'emulator bug, see its stderr')
      else res.destroy()
    })
  })
}
