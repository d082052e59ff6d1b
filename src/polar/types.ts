/** The subset of Polar's OpenAPI schemas (2026-04) this action uses; see test/emulator/polar-openapi-files.json. */

export interface FileRead {
  id: string
  organization_id: string
  name: string
  path: string
  mime_type: string
  size: number
  checksum_sha256_base64: string | null
  checksum_sha256_hex: string | null
  version: string | null
  service: string
  is_uploaded: boolean
  created_at: string
}

export interface CreatePart {
  number: number
  chunk_start: number
  chunk_end: number
  checksum_sha256_base64: string
}

export interface DownloadableFileCreate {
  service: 'downloadable'
  organization_id?: string
  name: string
  mime_type: string
  size: number
  checksum_sha256_base64: string
  version: string | null
  upload: { parts: CreatePart[] }
}

export interface UploadPart extends CreatePart {
  url: string
  expires_at: string
  headers?: Record<string, string>
}

export interface FileUpload extends Omit<FileRead, 'created_at' | 'is_uploaded'> {
  is_uploaded?: boolean
  upload: { id: string; path: string; parts: UploadPart[] }
}

export interface CompletedPart {
  number: number
  checksum_etag: string
  checksum_sha256_base64: string
}

export interface FileUploadCompleted {
  id: string
  path: string
  parts: CompletedPart[]
}

export interface BenefitDownloadables {
  id: string
  type: string
  description: string
  organization_id: string
  properties: { files: string[]; archived: Record<string, boolean> }
}

export interface ListResource<T> {
  items: T[]
  pagination: { total_count: number; max_page: number }
}
