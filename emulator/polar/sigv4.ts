/**
 * Presigning and verifying S3 UploadPart URLs with AWS's own SigV4 code: URLs are made by
 * `S3RequestPresigner` (as boto3/the SDK would) and checked on PUT by re-presigning the received
 * request with `@smithy/signature-v4` and comparing the whole URL byte for byte.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'

/** Fake credentials: the emulator is both the signer (Polar) and the verifier (S3). */
export const ACCESS_KEY_ID = 'AKIAEMULATORPOLAR000'
export const SECRET_ACCESS_KEY = 'emulator/secret/key/not+a+real+secret/0000'
export const REGION = 'us-east-1'
export const BUCKET = 'polar-customer-files'

/** Polar's part checksum headers must stay headers (signed), not move into the query. */
const UNHOISTABLE = ['x-amz-checksum-sha256', 'x-amz-sdk-checksum-algorithm']
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

type SourceData = string | ArrayBuffer | ArrayBufferView

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

/** SHA-256 / HMAC-SHA-256 on node:crypto (what @smithy/hash-node does): fast for 10,000 parts. */
class NodeSha256 {
  private readonly secret: SourceData | undefined
  private hash: Hash | Hmac
  constructor(secret?: SourceData) {
    this.secret = secret
    this.hash = this.fresh()
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', toBuffer(this.secret))
  }
  update(data: Uint8Array): void {
    this.hash.update(data)
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()))
  }
  reset(): void {
    this.hash = this.fresh()
  }
}

const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }
const presigner = new S3RequestPresigner({ credentials, region: REGION, sha256: NodeSha256 })
const verifier = new SignatureV4({
  credentials,
  region: REGION,
  service: 's3',
  sha256: NodeSha256,
  uriEscapePath: false, // S3 signs the path as sent, it does not double-encode
  applyChecksum: false
})

/** RFC 3986 escaping, as SigV4 canonicalisation uses. */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`
  )
}

/** `/<bucket>/<key>` with each key segment escaped (spaces, `+`, `%`, non-ASCII survive). */
export function objectPath(bucket: string, key: string): string {
  return `/${escapeUri(bucket)}/${key.split('/').map(escapeUri).join('/')}`
}

function formatPathAndQuery(req: {
  path: string
  query: Record<string, string | string[] | null>
}): string {
  const pairs: string[] = []
  for (const name of Object.keys(req.query).sort()) {
    const value = req.query[name]
    if (value === null) continue
    for (const v of Array.isArray(value) ? value : [value])
      pairs.push(`${escapeUri(name)}=${escapeUri(v)}`)
  }
  return pairs.length ? `${req.path}?${pairs.join('&')}` : req.path
}

export interface PresignPartInput {
  s3Url: string
  bucket?: string
  key: string
  uploadId: string
  partNumber: number
  /** null: presign without checksum headers (what Polar does for a part sent without one). */
  checksumSha256Base64: string | null
  expiresIn: number
  signingDate?: Date
}

export interface PresignedPart {
  url: string
  headers: Record<string, string>
  expiresAt: Date
}

/** Presign one UploadPart exactly as Polar's backend does (checksum headers signed). */
export async function presignPart(input: PresignPartInput): Promise<PresignedPart> {
  const base = new URL(input.s3Url)
  const headers: Record<string, string> = {}
  if (input.checksumSha256Base64) {
    headers['x-amz-checksum-sha256'] = input.checksumSha256Base64
    headers['x-amz-sdk-checksum-algorithm'] = 'SHA256'
  }
  // X-Amz-Date has second precision: sign at a whole second so expires_at is exact.
  const signingDate = new Date(
    Math.floor((input.signingDate ?? new Date()).getTime() / 1000) * 1000
  )
  const request = new HttpRequest({
    method: 'PUT',
    protocol: base.protocol,
    hostname: base.hostname,
    port: Number(base.port),
    path: objectPath(input.bucket ?? BUCKET, input.key),
    query: { partNumber: String(input.partNumber), uploadId: input.uploadId },
    headers: { host: base.host, ...headers }
  })
  const signed = await presigner.presign(request, {
    expiresIn: input.expiresIn,
    signingDate,
    unhoistableHeaders: new Set(UNHOISTABLE)
  })
  return {
    url: `${base.protocol}//${base.host}${formatPathAndQuery(signed as { path: string; query: Record<string, string> })}`,
    headers,
    expiresAt: new Date(signingDate.getTime() + input.expiresIn * 1000)
  }
}

export type VerifyFailure = {
  ok: false
  status: number
  code: string
  message: string
}
export type VerifyResult =
  { ok: true; rawPath: string; query: Record<string, string> } | VerifyFailure

function fail(status: number, code: string, message: string): VerifyFailure {
  return { ok: false, status, code, message }
}

/** `20260101T000000Z` → Date. */
function parseAmzDate(s: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (!m) return null
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]))
}

function parseQuery(raw: string): Record<string, string> | null {
  const out: Record<string, string> = {}
  if (raw === '') return out
  try {
    for (const pair of raw.split('&')) {
      const eq = pair.indexOf('=')
      const name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq))
      out[name] = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1))
    }
  } catch {
    return null
  }
  return out
}

export interface IncomingForVerify {
  method: string
  /** The request target exactly as received (path + query, not decoded). */
  rawUrl: string
  headers: Record<string, string | string[] | undefined>
  now?: number
}

/**
 * Check a presigned request the way S3 does. Order: auth mechanism, presence, expiry, unsigned
 * `x-amz-*` headers, then the signature over method + path + query + signed headers.
 */
export async function verifyPresigned(req: IncomingForVerify): Promise<VerifyResult> {
  const q = req.rawUrl.indexOf('?')
  const rawPath = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q)
  const query = parseQuery(q < 0 ? '' : req.rawUrl.slice(q + 1))
  if (req.headers.authorization !== undefined) {
    return fail(
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'
    )
  }
  if (!query) return fail(403, 'SignatureDoesNotMatch', signatureMessage)
  const signature = query['X-Amz-Signature']
  const credential = query['X-Amz-Credential']
  const amzDate = parseAmzDate(query['X-Amz-Date'] ?? '')
  const expires = Number(query['X-Amz-Expires'])
  const signedHeadersParam = query['X-Amz-SignedHeaders']
  if (
    query['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256' ||
    !signature ||
    !credential ||
    !signedHeadersParam
  ) {
    return fail(403, 'AccessDenied', 'Access Denied')
  }
  if (!amzDate || !Number.isInteger(expires) || expires < 1 || expires > 604800) {
    return fail(
      400,
      'AuthorizationQueryParametersError',
      'X-Amz-Date or X-Amz-Expires is malformed.'
    )
  }
  const [accessKeyId, , region, service] = credential.split('/')
  if (accessKeyId !== ACCESS_KEY_ID) {
    return fail(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.'
    )
  }
  if ((req.now ?? Date.now()) > amzDate.getTime() + expires * 1000) {
    return fail(403, 'AccessDenied', 'Request has expired')
  }
  const signedHeaders = signedHeadersParam.split(';')
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && !signedHeaders.includes(name)) {
      return fail(
        403,
        'AccessDenied',
        'There were headers present in the request which were not signed'
      )
    }
  }

  // Re-presign the request as received and compare the full URL it yields with the one sent.
  const headers: Record<string, string> = {}
  for (const name of signedHeaders) {
    const value = req.headers[name]
    if (typeof value === 'string') headers[name] = value
    else if (Array.isArray(value)) headers[name] = value.join(',')
  }
  headers['X-Amz-Content-Sha256'] = query['X-Amz-Content-Sha256'] ?? UNSIGNED_PAYLOAD
  const rest: Record<string, string> = {}
  for (const [name, value] of Object.entries(query)) {
    if (!name.startsWith('X-Amz-')) rest[name] = value
  }
  const toSign = new HttpRequest({ method: req.method, path: rawPath, query: rest, headers })
  const resigned = await verifier.presign(toSign, {
    signingDate: amzDate,
    expiresIn: expires,
    signingRegion: region,
    signingService: service,
    unsignableHeaders: new Set(['content-type']),
    unhoistableHeaders: new Set(UNHOISTABLE)
  })
  const expected = formatPathAndQuery(resigned as { path: string; query: Record<string, string> })
  if (expected !== req.rawUrl) return fail(403, 'SignatureDoesNotMatch', signatureMessage)
  return { ok: true, rawPath, query }
}

const signatureMessage =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.'
