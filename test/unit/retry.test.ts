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
        {
          policy: { retries: 3, baseDelayMs: 10, maxDelayMs: 100 },
          classify: () => ({ retriable: true }),
          sleep: async ms => void sleeps.push(ms)
        }
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
        {
          policy: { retries: 5, baseDelayMs: 1, maxDelayMs: 1 },
          classify: () => ({ retriable: false })
        }
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
      {
        policy: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 },
        classify: () => ({ retriable: true, retryAfterMs: 3000 }),
        sleep: async ms => void sleeps.push(ms)
      }
    )
    expect(sleeps[0]).toBeGreaterThanOrEqual(3000)
  })
  test('says each retry in one line: label, failure, n/N and the wait', async () => {
    const lines: string[] = []
    const logger = { debug: () => {}, info: (m: string) => void lines.push(m), warning: () => {} }
    let n = 0
    await withRetry(
      async () => {
        if (n++ < 2) throw new Error('boom')
        return 'ok'
      },
      {
        policy: { retries: 3, baseDelayMs: 1, maxDelayMs: 1 },
        classify: () => ({ retriable: true, retryAfterMs: 1500 }),
        logger,
        label: 'GET /v1/files/',
        sleep: async () => {}
      }
    )
    expect(lines).toEqual([
      'GET /v1/files/: Error: boom; retry 1/3 in 1.5 s',
      'GET /v1/files/: Error: boom; retry 2/3 in 1.5 s'
    ])
  })
  test('never retries once its signal fired, whatever the classifier says', async () => {
    const stop = new AbortController()
    let calls = 0
    let asked = 0
    await expect(
      withRetry(
        async () => {
          calls++
          stop.abort()
          throw new Error('reset')
        },
        {
          policy: { retries: 5, baseDelayMs: 1, maxDelayMs: 1 },
          classify: () => (asked++, { retriable: true }),
          signal: stop.signal
        }
      )
    ).rejects.toThrow('reset')
    expect([calls, asked]).toEqual([1, 0])
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
