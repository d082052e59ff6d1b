/** In-memory world of the emulator: organizations' tokens, files, S3 multipart uploads, benefits. */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { SeedBenefit, SeedFile, StoredBenefit, StoredFile, StoredPart } from './types.js'

export type TokenKind = 'oat' | 'pat'
export interface TokenInfo {
  kind: TokenKind
  scopes: Set<string>
  /** oat: the token's organization; pat: the user's (only) organization. */
  organizationId: string
}

export const ALL_SCOPES = ['files:read', 'files:write', 'benefits:read', 'benefits:write']

/** One received part: digests and size only, bytes only when keepBodies. */
export interface ReceivedPart extends StoredPart {
  md5: Buffer
  sha256: Buffer
  body?: Buffer[]
}

/** An S3 multipart upload (CreateMultipartUpload with ChecksumAlgorithm=SHA256). */
export interface MultipartUpload {
  uploadId: string
  bucket: string
  key: string
  fileId: string
  parts: Map<number, ReceivedPart>
}

interface FileRecord extends StoredFile {
  content?: Buffer
}

export class State {
  readonly organizationId: string = randomUUID()
  private readonly tokens = new Map<string, TokenInfo>()
  private readonly fileList: FileRecord[] = []
  private readonly fileById = new Map<string, FileRecord>()
  private readonly uploads = new Map<string, MultipartUpload>()
  private readonly benefitList: StoredBenefit[] = []

  createToken(o: { kind?: TokenKind; scopes?: string[]; organizationId?: string } = {}): string {
    const kind = o.kind ?? 'oat'
    const token = `polar_${kind}_${randomBytes(24).toString('base64url')}`
    this.tokens.set(token, {
      kind,
      scopes: new Set(o.scopes ?? ALL_SCOPES),
      organizationId: o.organizationId ?? this.organizationId
    })
    return token
  }

  token(value: string): TokenInfo | undefined {
    return this.tokens.get(value)
  }

  // ---- files --------------------------------------------------------------------------------

  addFile(
    f: Omit<StoredFile, 'id' | 'path' | 'createdAt' | 'deletedAt'> & { createdAt?: string }
  ): FileRecord {
    const id = randomUUID()
    const record: FileRecord = {
      ...f,
      id,
      path: `${f.organizationId}/${id}/${f.name}`,
      createdAt: f.createdAt ?? new Date().toISOString(),
      deletedAt: null
    }
    this.fileList.push(record)
    this.fileById.set(id, record)
    return record
  }

  file(id: string): FileRecord | undefined {
    return this.fileById.get(id)
  }

  allFiles(): FileRecord[] {
    return this.fileList
  }

  seedFile(s: SeedFile): StoredFile {
    const sha = s.sha256?.toLowerCase() ?? null
    const service = s.service ?? 'downloadable'
    const record = this.addFile({
      organizationId: s.organizationId ?? this.organizationId,
      name: s.name,
      service,
      mimeType:
        s.mimeType ?? (service === 'downloadable' ? 'application/octet-stream' : 'image/png'),
      size: s.size ?? 0,
      version: s.version ?? null,
      checksumSha256Hex: sha,
      checksumSha256Base64: sha ? Buffer.from(sha, 'hex').toString('base64') : null,
      checksumEtag: `"${randomBytes(16).toString('hex')}-1"`,
      isUploaded: true,
      uploadId: null,
      parts: [],
      createdAt: s.createdAt,
      lastModifiedAt: s.createdAt ?? new Date().toISOString(),
      flaggedMaliciousAt: s.flaggedMaliciousAt ?? null
    })
    return snapshotFile(record)
  }

  snapshot(f: FileRecord): StoredFile {
    return snapshotFile(f, f.uploadId ? this.uploads.get(f.uploadId) : undefined)
  }

  // ---- S3 multipart uploads -----------------------------------------------------------------

  startUpload(bucket: string, key: string, fileId: string): MultipartUpload {
    // Real upload IDs are long opaque strings with URL-unsafe characters: keep that property.
    const uploadId = `${randomBytes(36).toString('base64').replace(/=+$/, '')}.${randomBytes(6).toString('hex')}`
    const upload: MultipartUpload = { uploadId, bucket, key, fileId, parts: new Map() }
    this.uploads.set(uploadId, upload)
    return upload
  }

  upload(uploadId: string): MultipartUpload | undefined {
    return this.uploads.get(uploadId)
  }

  /** AbortMultipartUpload / completion: the upload ID stops existing. */
  endUpload(uploadId: string): void {
    this.uploads.delete(uploadId)
  }

  // ---- benefits -----------------------------------------------------------------------------

  seedBenefit(b: SeedBenefit): StoredBenefit {
    const benefit: StoredBenefit = {
      id: randomUUID(),
      organizationId: b.organizationId ?? this.organizationId,
      description: b.description ?? 'Downloads',
      files: [...b.files],
      archived: { ...(b.archived ?? {}) },
      createdAt: new Date().toISOString(),
      modifiedAt: null
    }
    this.benefitList.push(benefit)
    return { ...benefit, files: [...benefit.files], archived: { ...benefit.archived } }
  }

  benefit(id: string): StoredBenefit | undefined {
    return this.benefitList.find(b => b.id === id)
  }

  allBenefits(): StoredBenefit[] {
    return this.benefitList
  }
}

/** A copy safe to hand to tests (they must not mutate the emulator's state by accident). */
export function snapshotFile(f: FileRecord, upload?: MultipartUpload): StoredFile {
  const { content: _content, ...rest } = f
  // While incomplete, "parts" are those S3 has received so far; once completed, the listed ones.
  const parts: StoredPart[] = upload
    ? [...upload.parts.values()].sort((a, b) => a.number - b.number)
    : f.parts
  return {
    ...rest,
    parts: parts.map(p => ({
      number: p.number,
      size: p.size,
      etag: p.etag,
      sha256Base64: p.sha256Base64
    }))
  }
}

export function snapshotBenefit(b: StoredBenefit): StoredBenefit {
  return { ...b, files: [...b.files], archived: { ...b.archived } }
}

/** Stable pseudo-random order (Polar's list has no ORDER BY): clients must sort themselves. */
export function listOrderKey(id: string): string {
  return createHash('sha1').update(id).digest('hex')
}

export type { FileRecord }
