/**
 * Signed storage URLs shaped like GitHub's S3 ones (contract §5 step 2): the credentials are in
 * the query, signed with an HMAC over the path and every other parameter, valid for
 * X-Amz-Expires seconds from X-Amz-Date. Nothing AWS-specific is checked beyond that.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const STORAGE_BUCKET = 'github-production-release-asset'

export type Verdict =
  | { ok: true; key: string }
  | { ok: false; status: number; code: string; message: string; extra?: Record<string, string> }

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
}

function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN
}

/** Sorted `k=v` pairs, values as received (the signature covers the exact encoding). */
function canonical(path: string, params: [string, string][]): string {
  const pairs = params.filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => `${k}=${v}`)
  return `GET\n${path}\n${pairs.sort().join('&')}`
}

export class Signer {
  private readonly secret = randomBytes(32)

  private sign(path: string, params: [string, string][]): string {
    return createHmac('sha256', this.secret).update(canonical(path, params)).digest('hex')
  }

  /** `{storageUrl}/github-production-release-asset/{repo_id}/{key}?X-Amz-…`, like GitHub's. */
  url(o: {
    storageUrl: string
    repoId: number
    key: string
    name: string
    ttlSeconds: number
    now?: number
  }): string {
    const now = o.now ?? Date.now()
    const date = amzDate(now)
    const path = `/${STORAGE_BUCKET}/${o.repoId}/${o.key}`
    const enc = encodeURIComponent
    const params: [string, string][] = [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', enc(`EMULATORKEY/${date.slice(0, 8)}/us-east-1/s3/aws4_request`)],
      ['X-Amz-Date', date],
      ['X-Amz-Expires', String(o.ttlSeconds)],
      ['X-Amz-SignedHeaders', 'host'],
      ['actor_id', '0'],
      ['key_id', '0'],
      ['repo_id', String(o.repoId)],
      ['response-content-disposition', enc(`attachment; filename=${o.name}`)],
      ['response-content-type', enc('application/octet-stream')]
    ]
    params.push(['X-Amz-Signature', this.sign(path, params)])
    params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `${o.storageUrl}${path}?${params.map(([k, v]) => `${k}=${v}`).join('&')}`
  }

  /** S3's checks in S3's order: present → signature → expiry. `rawQuery` as received. */
  verify(path: string, rawQuery: string, now = Date.now()): Verdict {
    const params: [string, string][] = rawQuery
      .split('&')
      .filter(Boolean)
      .map(p => {
        const i = p.indexOf('=')
        return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)]
      })
    const get = (k: string): string | undefined => params.find(([n]) => n === k)?.[1]
    const signature = get('X-Amz-Signature')
    if (get('X-Amz-Algorithm') === undefined || signature === undefined)
      return { ok: false, status: 403, code: 'AccessDenied', message: 'Access Denied' }
    const expected = Buffer.from(this.sign(path, params))
    const given = Buffer.from(signature)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return {
        ok: false,
        status: 403,
        code: 'SignatureDoesNotMatch',
        message:
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.'
      }
    }
    const issued = parseAmzDate(get('X-Amz-Date') ?? '')
    const ttl = Number(get('X-Amz-Expires'))
    if (now > issued + ttl * 1000) {
      return {
        ok: false,
        status: 403,
        code: 'AccessDenied',
        message: 'Request has expired',
        extra: {
          'X-Amz-Expires': String(ttl),
          Expires: new Date(issued + ttl * 1000).toISOString(),
          ServerTime: new Date(now).toISOString()
        }
      }
    }
    const key = path.split('/').pop() ?? ''
    return { ok: true, key }
  }
}
