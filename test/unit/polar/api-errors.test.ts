/** Polar's error bodies, as `parseErrorBody` reads them. */
import { describe, expect, test } from '@jest/globals'
import { PolarApiError } from '../../../src/errors.js'
import { scrub } from '../../../src/log.js'
import { parseErrorBody } from '../../../src/polar/api-errors.js'

describe('error bodies never reach a message raw', () => {
  const token = 'polar_oat_Q2hhbmdlTWVQbGVhc2UxMjM0NTY3ODkw'
  test('a plain-text 500 that echoes the request: first line only, token and signature gone', () => {
    const body =
      `POST /v1/files/ HTTP/1.1 authorization: Bearer ${token} x=${encodeURIComponent(token)} ` +
      `b64=${Buffer.from(token).toString('base64')} https://s3.example/k?X-Amz-Signature=abc123\n` +
      'second line with more secrets'
    const { detail } = parseErrorBody(body, [token])
    expect(detail).not.toContain('Q2hhbmdl')
    expect(detail).not.toContain(Buffer.from(token).toString('base64'))
    expect(detail).not.toContain('abc123')
    expect(detail).not.toContain('second line')
    expect(detail.length).toBeLessThanOrEqual(200)
  })
  test('an unknown token shape is scrubbed too (the runner only masks what it was told)', () => {
    expect(scrub('denied for ghp_abcdefghijklmnop and polar_pat_zzzzzzzzzz')).toBe(
      'denied for ghp_*** and polar_pat_***'
    )
    expect(scrub('The access token provided is expired')).toBe(
      'The access token provided is expired'
    )
  })
  test('an HTML page is named, not copied', () => {
    expect(parseErrorBody('<html><body>502 Bad Gateway</body></html>').detail).toBe(
      'an HTML page instead of JSON'
    )
  })
  test('422 details keep fields and messages, never the rejected input', () => {
    const body = JSON.stringify({
      error: 'RequestValidationError',
      detail: [{ loc: ['body', 'name'], msg: 'Field required', input: { secret: token } }]
    })
    expect(parseErrorBody(body, [token])).toEqual({
      code: 'RequestValidationError',
      detail: 'body.name: Field required'
    })
  })
  test('messages read as sentences: one full stop, no repeated "Not found"', () => {
    const e401 = new PolarApiError(
      401,
      'GET',
      '/v1/files/',
      'invalid_token',
      'The access token provided is expired, revoked, malformed, or invalid for other reasons.',
      'The token is unknown.'
    )
    expect(e401.message).toBe(
      'Polar API GET /v1/files/ failed: HTTP 401 invalid_token — The access token provided is ' +
        'expired, revoked, malformed, or invalid for other reasons. The token is unknown.'
    )
    const e404 = new PolarApiError(
      404,
      'GET',
      '/v1/files/',
      'ResourceNotFound',
      'Not found',
      'A hint.'
    )
    expect(e404.message).toBe(
      'Polar API GET /v1/files/ failed: HTTP 404 ResourceNotFound — Not found. A hint.'
    )
  })
})
