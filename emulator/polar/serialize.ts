/** Polar's JSON shapes for stored records (field sets as in the OpenAPI document). */
import { objectPath } from './sigv4.js'
import type { FileRecord } from './state.js'
import type { StoredBenefit } from './types.js'

/** Polar's `human_readable_size` (binary units, one decimal). */
export function sizeReadable(size: number): string {
  let num = size
  for (const unit of ['', 'K', 'M', 'G', 'T', 'P', 'E', 'Z']) {
    if (Math.abs(num) < 1024) return `${num.toFixed(1)} ${unit}B`
    num /= 1024
  }
  return `${num.toFixed(1)} YB`
}

/** Fields every file schema shares (S3File in Polar). */
function fileBase(f: FileRecord): Record<string, unknown> {
  return {
    id: f.id,
    organization_id: f.organizationId,
    name: f.name,
    path: f.path,
    mime_type: f.mimeType,
    size: f.size,
    storage_version: null,
    checksum_etag: f.checksumEtag,
    checksum_sha256_base64: f.checksumSha256Base64,
    checksum_sha256_hex: f.checksumSha256Hex,
    last_modified_at: f.lastModifiedAt ?? null,
    version: f.version,
    service: f.service,
    size_readable: sizeReadable(f.size)
  }
}

/** FileRead: the variant of the `service` discriminator. */
export function fileRead(f: FileRecord, s3Url: string): Record<string, unknown> {
  const read: Record<string, unknown> = {
    ...fileBase(f),
    is_uploaded: f.isUploaded,
    created_at: f.createdAt
  }
  if (f.service === 'downloadable') read.flagged_malicious_at = f.flaggedMaliciousAt ?? null
  if (f.service === 'product_media' || f.service === 'organization_avatar') {
    read.public_url = `${s3Url}${objectPath('polar-public-files', f.path)}`
  }
  return read
}

/** BenefitDownloadableFile: a downloadable file as the benefit's file list shows it. */
export function benefitFile(f: FileRecord): Record<string, unknown> {
  return {
    ...fileBase(f),
    is_uploaded: f.isUploaded,
    created_at: f.createdAt,
    flagged_malicious_at: f.flaggedMaliciousAt ?? null,
    downloaders: 0,
    downloads: 0
  }
}

export interface UploadPartOut {
  number: number
  chunk_start: number
  chunk_end: number
  checksum_sha256_base64: string | null
  url: string
  expires_at: string
  headers: Record<string, string>
}

/** FileUpload (create's answer): the file without created_at, plus the multipart upload. */
export function fileUpload(
  f: FileRecord,
  uploadId: string,
  parts: UploadPartOut[]
): Record<string, unknown> {
  return { ...fileBase(f), is_uploaded: false, upload: { id: uploadId, path: f.path, parts } }
}

export function benefitRead(b: StoredBenefit): Record<string, unknown> {
  return {
    id: b.id,
    created_at: b.createdAt,
    modified_at: b.modifiedAt ?? null,
    type: 'downloadables',
    description: b.description,
    selectable: true,
    deletable: true,
    is_deleted: false,
    organization_id: b.organizationId,
    metadata: {},
    visibility: 'public',
    properties: { archived: { ...b.archived }, files: [...b.files] },
    visibility_configurable: true
  }
}

export interface Page<T> {
  items: T[]
  pagination: { total_count: number; max_page: number }
}

/** Polar's pagination: page from 1, limit default 10, over 100 silently clamped. */
export function paginate<T>(all: T[], page: number, limit: number): Page<T> {
  const size = Math.min(limit, 100)
  return {
    items: all.slice((page - 1) * size, page * size),
    pagination: { total_count: all.length, max_page: Math.ceil(all.length / size) }
  }
}
