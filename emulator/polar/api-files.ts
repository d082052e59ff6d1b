/** /v1/files/ routes: create (S3 CreateMultipartUpload + presign), complete, list, patch, delete. */
import { createHash } from 'node:crypto'
import {
  internalError,
  NOT_FOUND,
  validationError,
  type ApiContext,
  type Handler
} from './api-context.js'
import { fileRead, fileUpload, paginate, type UploadPartOut } from './serialize.js'
import { BUCKET, presignPart } from './sigv4.js'
import { listOrderKey, type FileRecord } from './state.js'

const MIN_PART_SIZE = 5 * 1024 * 1024
const FILE_SCHEMAS: Record<string, string> = {
  downloadable: 'DownloadableFileCreate',
  product_media: 'ProductMediaFileCreate',
  organization_avatar: 'OrganizationAvatarFileCreate',
  support_case_attachment: 'SupportCaseAttachmentFileCreate'
}

interface CreatePart {
  number: number
  chunk_start: number
  chunk_end: number
  checksum_sha256_base64?: string | null
}
interface CreateBody {
  service: string
  name: string
  mime_type: string
  size: number
  checksum_sha256_base64?: string | null
  version?: string | null
  organization_id?: string | null
  upload: { parts: CreatePart[] }
}
interface CompletedBody {
  id: string
  path: string
  parts: { number: number; checksum_etag: string; checksum_sha256_base64: string | null }[]
}

/** A file the token may see: exists, its organization, not deleted (complete or not). */
export function visibleFile(ctx: ApiContext, id: string | undefined): FileRecord | undefined {
  const f = id === undefined ? undefined : ctx.deps.state.file(id)
  if (!f || f.deletedAt !== null || !ctx.organizations.includes(f.organizationId)) return undefined
  return f
}

/** Polar's get_payload_organization: oat forbids organization_id, pat requires one of its own. */
function payloadOrganization(
  ctx: ApiContext,
  organizationId: string | null | undefined
): string | ReturnType<typeof validationError> {
  if (ctx.auth.kind === 'oat') {
    if (organizationId !== null && organizationId !== undefined) {
      return validationError([
        {
          type: 'organization_token',
          msg: 'Setting organization_id is disallowed when using an organization token.',
          loc: ['body', 'organization_id'],
          input: organizationId
        }
      ])
    }
    return ctx.auth.organizationId
  }
  if (organizationId === null || organizationId === undefined) {
    return validationError([
      {
        type: 'missing',
        msg: 'organization_id is required.',
        loc: ['body', 'organization_id'],
        input: null
      }
    ])
  }
  if (!ctx.organizations.includes(organizationId)) {
    return validationError([
      {
        type: 'value_error',
        msg: 'Organization not found.',
        loc: ['body', 'organization_id'],
        input: organizationId
      }
    ])
  }
  return organizationId
}

export const createFile: Handler = async ctx => {
  const raw = ctx.body as Record<string, unknown> | null
  // FileCreate is a union tagged by `service`: validate against the tagged variant, as pydantic does.
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return validationError([
      {
        type: 'model_attributes_type',
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: raw
      }
    ])
  }
  const schema = typeof raw.service === 'string' ? FILE_SCHEMAS[raw.service] : undefined
  if (!schema) {
    return validationError([
      raw.service === undefined
        ? {
            type: 'union_tag_not_found',
            loc: ['body'],
            msg: "Unable to extract tag using discriminator 'service'",
            input: raw
          }
        : {
            type: 'union_tag_invalid',
            loc: ['body'],
            msg: `Input tag '${String(raw.service)}' found using 'service' does not match any of the expected tags: 'downloadable', 'product_media', 'organization_avatar', 'support_case_attachment'`,
            input: raw
          }
    ])
  }
  const issues = ctx.deps.openapi.validateComponent(schema, raw, ['body'])
  if (issues.length) return validationError(issues)
  const body = raw as unknown as CreateBody
  const organizationId = payloadOrganization(ctx, body.organization_id)
  if (typeof organizationId !== 'string') return organizationId

  const { state, config } = ctx.deps
  const b64 = body.checksum_sha256_base64 ?? null
  const file = state.addFile({
    organizationId,
    name: body.name,
    service: body.service,
    mimeType: body.mime_type,
    size: body.size,
    version: body.version ?? null,
    checksumSha256Base64: b64,
    checksumSha256Hex: b64 ? Buffer.from(b64, 'base64').toString('hex') : null,
    checksumEtag: null,
    isUploaded: false,
    uploadId: null,
    parts: [],
    lastModifiedAt: null,
    flaggedMaliciousAt: null
  })
  const upload = state.startUpload(BUCKET, file.path, file.id)
  file.uploadId = upload.uploadId

  const signingDate = new Date()
  const parts: UploadPartOut[] = []
  for (const p of body.upload.parts) {
    const checksum = p.checksum_sha256_base64 ?? null
    const signed = await presignPart({
      s3Url: config.s3Url,
      key: file.path,
      uploadId: upload.uploadId,
      partNumber: p.number,
      checksumSha256Base64: checksum,
      expiresIn: config.urlExpirySeconds,
      signingDate
    })
    parts.push({
      number: p.number,
      chunk_start: p.chunk_start,
      chunk_end: p.chunk_end,
      checksum_sha256_base64: checksum,
      url: signed.url,
      expires_at: signed.expiresAt.toISOString(),
      headers: signed.headers
    })
  }
  return { status: 201, json: fileUpload(file, upload.uploadId, parts) }
}

function stripQuotes(etag: string): string {
  return etag.trim().replace(/^"|"$/g, '')
}

/** Polar runs S3 CompleteMultipartUpload with the given parts; any S3 error becomes a 500. */
export const completeFile: Handler = ctx => {
  const file = visibleFile(ctx, ctx.pathId)
  if (!file) return NOT_FOUND
  const body = ctx.body as CompletedBody
  const { state } = ctx.deps
  const upload = state.upload(body.id)
  if (!upload || upload.key !== file.path) return internalError(ctx, 'S3 NoSuchUpload')
  if (body.parts.length === 0) return internalError(ctx, 'S3 MalformedXML (zero parts)')
  for (let i = 1; i < body.parts.length; i++) {
    if (body.parts[i].number <= body.parts[i - 1].number)
      return internalError(ctx, 'S3 InvalidPartOrder')
  }
  const received = []
  for (const listed of body.parts) {
    const part = upload.parts.get(listed.number)
    if (!part) return internalError(ctx, `S3 InvalidPart: part ${listed.number} was not uploaded`)
    if (stripQuotes(listed.checksum_etag) !== stripQuotes(part.etag)) {
      return internalError(ctx, `S3 InvalidPart: ETag of part ${listed.number} does not match`)
    }
    if (listed.checksum_sha256_base64 !== part.sha256Base64) {
      return internalError(ctx, `S3 InvalidPart: checksum of part ${listed.number} does not match`)
    }
    received.push(part)
  }
  // Sizes are checked once the part list itself is valid; only the last part may be small.
  for (const part of received.slice(0, -1)) {
    if (part.size < MIN_PART_SIZE)
      return internalError(ctx, `S3 EntityTooSmall: part ${part.number} is ${part.size} bytes`)
  }
  // S3's multipart ETag: MD5 of the concatenated part MD5s, then "-<count>".
  const md5s = createHash('md5')
  for (const p of received) md5s.update(p.md5)
  file.checksumEtag = `"${md5s.digest('hex')}-${received.length}"`
  file.isUploaded = true
  file.lastModifiedAt = new Date().toISOString()
  file.parts = received.map(p => ({
    number: p.number,
    size: p.size,
    etag: p.etag,
    sha256Base64: p.sha256Base64
  }))
  if (ctx.deps.config.keepBodies) file.content = Buffer.concat(received.flatMap(p => p.body ?? []))
  file.uploadId = null
  state.endUpload(upload.uploadId) // a second completion is NoSuchUpload, as in S3
  // The malware scan: its flag in this answer already, or only in reads after it.
  const verdict = ctx.deps.malware.verdict(file.name)
  if (verdict === 'upload') file.flaggedMaliciousAt = new Date().toISOString()
  const json = fileRead(file, ctx.deps.config.s3Url)
  if (verdict === 'later') file.flaggedMaliciousAt = new Date().toISOString()
  return { status: 200, json }
}

function asList(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined
  return Array.isArray(v) ? (v as string[]) : [String(v)]
}

export const listFiles: Handler = ctx => {
  const orgFilter = asList(ctx.query.organization_id)
  const ids = asList(ctx.query.ids)
  const matches = ctx.deps.state
    .allFiles()
    .filter(
      f =>
        f.isUploaded &&
        f.deletedAt === null &&
        ctx.organizations.includes(f.organizationId) &&
        (!orgFilter || orgFilter.includes(f.organizationId)) &&
        (!ids || ids.includes(f.id))
    )
    .map(f => ({ f, key: listOrderKey(f.id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) // no ORDER BY upstream
    .map(({ f }) => fileRead(f, ctx.deps.config.s3Url))
  return {
    status: 200,
    json: paginate(matches, Number(ctx.query.page ?? 1), Number(ctx.query.limit ?? 10))
  }
}

export const patchFile: Handler = ctx => {
  const file = visibleFile(ctx, ctx.pathId)
  if (!file) return NOT_FOUND
  const body = ctx.body as { name?: string | null; version?: string | null }
  // Only non-empty values are applied: a version cannot be cleared.
  if (body.name) file.name = body.name
  if (body.version) file.version = body.version
  return { status: 200, json: fileRead(file, ctx.deps.config.s3Url) }
}

export const deleteFile: Handler = ctx => {
  const file = visibleFile(ctx, ctx.pathId)
  if (!file) return NOT_FOUND
  const listedBy = ctx.deps.state
    .allBenefits()
    .filter(b => b.files.includes(file.id))
    .map(b => b.id)
  if (listedBy.length > 0) ctx.listedBy = listedBy
  file.deletedAt = new Date().toISOString()
  if (file.uploadId) ctx.deps.state.endUpload(file.uploadId) // AbortMultipartUpload
  file.content = undefined // S3 DeleteObject; benefits keep the stale ID on purpose
  return { status: 204 }
}
