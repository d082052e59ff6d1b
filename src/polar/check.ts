/**
 * Run-time checks of Polar's answers, for every field the action relies on. Polar's contract
 * moves every quarter: a field gone or retyped must stop the run with the endpoint and the
 * field named, before the next write, not as a TypeError three steps later. Pure.
 */
import type { BenefitDownloadables, FileRead, FileUpload, ListResource } from './types.js'

export class ResponseShapeError extends Error {
  override readonly name = 'ResponseShapeError'
  constructor(
    readonly endpoint: string,
    readonly field: string,
    expected: string
  ) {
    super(
      `Polar API ${endpoint} answered without a valid \`${field}\` (expected ${expected}). ` +
        "Polar's API has changed in a way this release of polar-files-action does not know: " +
        'update polar-files-action, or set `api-version` to a version it was built for.'
    )
  }
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0

function need(ok: boolean, endpoint: string, field: string, expected: string): void {
  if (!ok) throw new ResponseShapeError(endpoint, field, expected)
}

function object(v: unknown, endpoint: string, field: string): Json {
  need(isObject(v), endpoint, field, 'an object')
  return v as Json
}

const nullableString = (v: unknown) => v === null || typeof v === 'string'

/** A file as listed, completed or patched. */
export function checkFileRead(v: unknown, endpoint: string, at = ''): FileRead {
  const f = object(v, endpoint, at || 'body')
  const field = (name: string) => (at ? `${at}.${name}` : name)
  need(typeof f.id === 'string', endpoint, field('id'), 'a string')
  need(typeof f.name === 'string', endpoint, field('name'), 'a string')
  need(typeof f.service === 'string', endpoint, field('service'), 'a string')
  need(typeof f.is_uploaded === 'boolean', endpoint, field('is_uploaded'), 'a boolean')
  need(typeof f.created_at === 'string', endpoint, field('created_at'), 'a date-time string')
  need(nullableString(f.version), endpoint, field('version'), 'a string or null')
  for (const c of ['checksum_sha256_hex', 'checksum_sha256_base64']) {
    need(f[c] === undefined || nullableString(f[c]), endpoint, field(c), 'a string or null')
  }
  need(
    f.flagged_malicious_at === undefined || nullableString(f.flagged_malicious_at),
    endpoint,
    field('flagged_malicious_at'),
    'a date-time string or null'
  )
  return f as unknown as FileRead
}

/** Create's answer: the upload's id and path, and each part's number, range, URL and headers. */
export function checkFileUpload(v: unknown, endpoint: string): FileUpload {
  const f = object(v, endpoint, 'body')
  need(typeof f.id === 'string', endpoint, 'id', 'a string')
  const upload = object(f.upload, endpoint, 'upload')
  need(typeof upload.id === 'string', endpoint, 'upload.id', 'a string')
  need(typeof upload.path === 'string', endpoint, 'upload.path', 'a string')
  need(Array.isArray(upload.parts), endpoint, 'upload.parts', 'an array')
  ;(upload.parts as unknown[]).forEach((p, i) => {
    const at = `upload.parts[${i}]`
    const part = object(p, endpoint, at)
    need(isInt(part.number), endpoint, `${at}.number`, 'a whole number')
    need(isInt(part.chunk_start), endpoint, `${at}.chunk_start`, 'a whole number')
    need(isInt(part.chunk_end), endpoint, `${at}.chunk_end`, 'a whole number')
    need(typeof part.url === 'string', endpoint, `${at}.url`, 'a string')
    const headers = part.headers
    need(
      headers === undefined ||
        (isObject(headers) && Object.values(headers).every(h => typeof h === 'string')),
      endpoint,
      `${at}.headers`,
      'an object of strings'
    )
  })
  return f as unknown as FileUpload
}

/** A page of a list endpoint: its items (each checked by `item`) and its pagination. */
export function checkList<T>(
  v: unknown,
  endpoint: string,
  item: (v: unknown, endpoint: string, at: string) => T
): ListResource<T> {
  const page = object(v, endpoint, 'body')
  need(Array.isArray(page.items), endpoint, 'items', 'an array')
  const pagination = object(page.pagination, endpoint, 'pagination')
  need(isInt(pagination.total_count), endpoint, 'pagination.total_count', 'a whole number')
  need(isInt(pagination.max_page), endpoint, 'pagination.max_page', 'a whole number')
  ;(page.items as unknown[]).forEach((it, i) => item(it, endpoint, `items[${i}]`))
  return page as unknown as ListResource<T>
}

/** A benefit: its type, and for a downloadables one its files and archived flags. */
export function checkBenefit(v: unknown, endpoint: string, at = ''): BenefitDownloadables {
  const b = object(v, endpoint, at || 'body')
  const field = (name: string) => (at ? `${at}.${name}` : name)
  need(typeof b.id === 'string', endpoint, field('id'), 'a string')
  need(typeof b.type === 'string', endpoint, field('type'), 'a string')
  if (b.type !== 'downloadables') return b as unknown as BenefitDownloadables
  const props = object(b.properties, endpoint, field('properties'))
  need(
    Array.isArray(props.files) && props.files.every(id => typeof id === 'string'),
    endpoint,
    field('properties.files'),
    'an array of file IDs'
  )
  need(
    isObject(props.archived) && Object.values(props.archived).every(a => typeof a === 'boolean'),
    endpoint,
    field('properties.archived'),
    'an object of booleans'
  )
  return b as unknown as BenefitDownloadables
}
