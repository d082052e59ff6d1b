/** src/github/client.ts: rate-limit waits. */
import { describe, expect, test } from '@jest/globals'
import { rateLimitWait } from '../../../src/github/client.js'

describe('rateLimitWait', () => {
  const err = (status: number, headers: Record<string, string>, message = 'x') => ({
    status,
    message,
    response: { headers, data: { message } }
  })
  test('a permission 403 is not a rate limit', () => {
    expect(rateLimitWait(err(403, {}, 'Resource not accessible by integration'))).toBeNull()
  })
  test('secondary limits: retry-after, else a minute', () => {
    const msg = 'You have exceeded a secondary rate limit.'
    expect(rateLimitWait(err(403, { 'retry-after': '3' }, msg))).toBe(3000)
    expect(rateLimitWait(err(403, {}, msg))).toBe(60_000)
    expect(rateLimitWait(err(429, {}))).toBe(60_000)
  })
  test('a primary limit waits until the reset', () => {
    const now = 1_000_000_000_000
    const headers = { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 42) }
    expect(rateLimitWait(err(403, headers), now)).toBe(42_000)
  })
})
