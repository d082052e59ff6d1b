/**
 * The payload types this action uses, taken from Polar's OpenAPI document: `openapi.d.ts` is
 * generated from the vendored subset (`npm run openapi-types`; the versions it covers are
 * recorded in emulator/polar/polar-openapi-files.versions.json). A new Polar spec dropped in
 * shows every change the action would feel as a type error here or where these are used.
 */
import type { components } from './openapi.js'

type Schemas = components['schemas']
type Downloadable = Schemas['DownloadableFileRead']

/**
 * A file as the list endpoint returns it (any service): the fields the action reads. Only a
 * downloadable file has `flagged_malicious_at` (set by Polar's malware scan).
 */
export type FileRead = Pick<
  Downloadable,
  | 'id'
  | 'organization_id'
  | 'name'
  | 'path'
  | 'mime_type'
  | 'size'
  | 'checksum_sha256_base64'
  | 'checksum_sha256_hex'
  | 'version'
  | 'is_uploaded'
  | 'created_at'
> & {
  service: Schemas['FileServiceTypes']
  flagged_malicious_at?: Downloadable['flagged_malicious_at']
}

export type CreatePart = Schemas['S3FileCreatePart']
export type DownloadableFileCreate = Schemas['DownloadableFileCreate']
export type UploadPart = Schemas['S3FileUploadPart']
export type FileUpload = Schemas['FileUpload']
export type CompletedPart = Schemas['S3FileUploadCompletedPart']
export type FileUploadCompleted = Schemas['FileUploadCompleted']

/** A benefit read by ID may be of any type: only a downloadables one holds files. */
export type BenefitDownloadables = Pick<
  Schemas['BenefitDownloadables'],
  'id' | 'description' | 'organization_id' | 'properties'
> & { type: string }

export interface ListResource<T> {
  items: T[]
  pagination: Schemas['Pagination']
}
