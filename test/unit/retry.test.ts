/** src/retry.ts: the retry loop and its classifiers. */
import { describe, expect, test } from '@jest/globals'
import { isNetworkError, parseRetryAfter, withRetry } from '../../src/retry.js'

describe('retry', () => {
  test('retries retriable failures, then gives up with the last error', async () => {
    let calls = 0
    const sleeps: number[] = []
    await expect(
      withRetry(
        async () => {
          calls++
          throw new Error('boom')
        },
        { retries: 3, baseDelayMs: 10, maxDelayMs: 100 },
        () => ({ retriable: true }),
        undefined,
        async ms => void sleeps.push(ms)
      )
    ).rejects.toThrow('boom')
    expect(calls).toBe(4)
    expect(sleeps).toHaveLength(3)
  })
  test('never retries what the classifier refuses', async () => {
    let calls = 0
    await expect(
      withRetry(
        async () => {
          calls++
          throw new Error('422')
        },
        { retries: 5, baseDelayMs: 1, maxDelayMs: 1 },
        () => ({ retriable: false })
      )
    ).rejects.toThrow('422')
    expect(calls).toBe(1)
  })
  test('waits at least Retry-After', async () => {
    const sleeps: number[] = []
    let n = 0
    await withRetry(
      async () => {
        if (n++ === 0) throw new Error('429')
        return 'ok'
      },
      { retries: 2, baseDelayMs: 1, maxDelayMs: 2 },
      () => ({ retriable: true, retryAfterMs: 3000 }),
      undefined,
      async ms => void sleeps.push(ms)
    )
    expect(sleeps[0]).toBeGreaterThanOrEqual(3000)
  })
  test('only network failures are retriable, also when wrapped as a cause', () => {
    const coded = (code: string) => Object.assign(new Error(code), { code })
    expect(isNetworkError(coded('ECONNRESET'))).toBe(true)
    expect(isNetworkError(coded('UND_ERR_HEADERS_TIMEOUT'))).toBe(true)
    expect(isNetworkError(new Error('fetch failed', { cause: coded('ECONNREFUSED') }))).toBe(true)
    expect(isNetworkError(coded('UND_ERR_DESTROYED'))).toBe(false) // our own closed client
    expect(isNetworkError(coded('UND_ERR_ABORTED'))).toBe(false)
    expect(isNetworkError(new TypeError('bad argument'))).toBe(false)
  })
  test('Retry-After as seconds or date', () => {
    expect(parseRetryAfter('2')).toBe(2000)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000)
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })
})
