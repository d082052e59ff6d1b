import { describe, expect, test } from '@jest/globals'
import { RateLimiter, WINDOW_MS } from './ratelimit.js'

describe('emulator rate limiter (a fixed window, as Polar counts)', () => {
  test('the whole budget at once, then 429 until the window opened by the first request expires', () => {
    const limiter = new RateLimiter(5)
    const t0 = 1_000_000
    for (let i = 0; i < 5; i++) expect(limiter.take('org', t0 + i)).toBeNull()
    // dry: no refill within the window, however long one waits; Retry-After is the window's length
    expect(limiter.take('org', t0 + 10)).toBe(60)
    expect(limiter.take('org', t0 + WINDOW_MS - 1)).toBe(60)
    // another key has its own window
    expect(limiter.take('other', t0 + 10)).toBeNull()
    // the window expires: a full budget again, in a window that starts with this request
    const t1 = t0 + WINDOW_MS + 5000
    for (let i = 0; i < 5; i++) expect(limiter.take('org', t1)).toBeNull()
    expect(limiter.take('org', t1 + WINDOW_MS - 1)).toBe(60)
    expect(limiter.take('org', t1 + WINDOW_MS)).toBeNull()
  })

  test('a refused request spends nothing; changing the rate resets the windows', () => {
    const limiter = new RateLimiter(2)
    expect(limiter.take('org', 0)).toBeNull()
    expect(limiter.take('org', 1)).toBeNull()
    for (let i = 0; i < 10; i++) expect(limiter.take('org', 2 + i)).toBe(60)
    expect(limiter.take('org', WINDOW_MS)).toBeNull() // a new window: 2 again, not 2 − 10
    expect(limiter.take('org', WINDOW_MS + 1)).toBeNull()
    expect(limiter.take('org', WINDOW_MS + 2)).toBe(60)
    limiter.set(3)
    expect(limiter.take('org', WINDOW_MS + 3)).toBeNull()
    limiter.set(null)
    expect(limiter.take('org', WINDOW_MS + 4)).toBeNull()
  })
})
