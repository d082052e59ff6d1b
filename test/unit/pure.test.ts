import { describe, expect, test } from '@jest/globals'
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CancelledError, PolarApiError } from '../../src/errors.js'
import { redact, scrub } from '../../src/log.js'
import { parseErrorBody } from '../../src/polar/api-errors.js'
import { Pacer } from '../../src/polar/pacer.js'
import { isNetworkError, parseRetryAfter, withRetry } from '../../src/retry.js'
import { parseDuration, parseSize } from '../../src/units.js'
import { hashFile, WORKER_THRESHOLD } from '../../src/upload/hash.js'
import { renderName, splitName } from '../../src/upload/names.js'
import { effectivePartSize, layoutParts } from '../../src/upload/parts.js'
import { splitUrl } from '../../src/upload/transfer.js'
import { chunkFor, MAX_CHUNK, MIN_CHUNK, RING, rangeBody } from '../../src/upload/body.js'
import { tempDir } from '../support/temp.js'

const MIB = 1024 * 1024

describe('units', () => {
  test.each([
    ['16MiB', 16 * MIB],
    ['5 MB', 5_000_000],
    ['1GiB', 1024 * MIB],
    ['10000000', 10_000_000],
    ['1.5KiB', 1536]
  ])('size %s', (text, bytes) => expect(parseSize(text)).toBe(bytes))
  test.each(['', 'MiB', '-5MiB', '5 parsecs'])('bad size %j', text =>
    expect(parseSize(text)).toBeNull()
  )
  test.each([
    ['0', 0],
    ['90d', 90 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['30m', 30 * 60_000]
  ])('duration %s', (text, ms) => expect(parseDuration(text)).toBe(ms))
  test('bad duration', () => expect(parseDuration('soon')).toBeNull())
})

describe('names', () => {
  test('{ext} keeps its dot and compound tar extensions stay together', () => {
    expect(splitName('app.tar.gz')).toEqual({ stem: 'app', ext: '.tar.gz' })
    expect(splitName('app.zip')).toEqual({ stem: 'app', ext: '.zip' })
    expect(splitName('README')).toEqual({ stem: 'README', ext: '' })
    expect(renderName('{stem}-{version}{ext}', '/x/app.tar.gz', 'v1.0')).toBe('app-v1.0.tar.gz')
    expect(renderName('{basename}', '/x/My App+1 é.dmg', null)).toBe('My App+1 é.dmg')
    expect(renderName('{stem}-{version}.{ext}', '/x/app.tar.gz', 'v2')).toBe('app-v2.tar.gz')
    expect(renderName('{stem}-{version}.{ext}', '/x/LICENSE', 'v2')).toBe('LICENSE-v2')
  })
})

describe('parts', () => {
  test('no empty trailing part on an exact multiple', () => {
    const parts = layoutParts(10 * MIB, 5 * MIB)
    expect(parts).toEqual([
      { number: 1, start: 0, end: 5 * MIB },
      { number: 2, start: 5 * MIB, end: 10 * MIB }
    ])
  })
  test('last part holds the remainder; ranges contiguous', () => {
    const parts = layoutParts(11 * MIB + 3, 5 * MIB)
    expect(parts.map(p => p.end - p.start)).toEqual([5 * MIB, 5 * MIB, MIB + 3])
    parts.slice(1).forEach((p, i) => expect(p.start).toBe(parts[i].end))
  })
  test('an empty file is one empty part', () => {
    expect(layoutParts(0, 16 * MIB)).toEqual([{ number: 1, start: 0, end: 0 }])
  })
  test('part size is raised to stay within 10,000 parts', () => {
    const size = 200 * 1024 * MIB // 200 GiB
    const partSize = effectivePartSize(size, 16 * MIB)
    expect(partSize).toBeGreaterThan(16 * MIB)
    expect(partSize % MIB).toBe(0)
    expect(layoutParts(size, partSize).length).toBeLessThanOrEqual(10_000)
    expect(effectivePartSize(100 * MIB, 16 * MIB)).toBe(16 * MIB)
  })
})

describe('hashFile', () => {
  test('whole and per-part SHA-256 match independent hashes', async () => {
    const dir = tempDir('hash-')
    const file = join(dir, 'f.bin')
    const data = randomBytes(5 * MIB * 2 + 12345)
    writeFileSync(file, data)
    const parts = layoutParts(data.length, 5 * MIB)
    const h = await hashFile(file, data.length, parts)
    expect(h.sha256Hex).toBe(createHash('sha256').update(data).digest('hex'))
    expect(h.partSha256Base64).toEqual(
      parts.map(p => createHash('sha256').update(data.subarray(p.start, p.end)).digest('base64'))
    )
  })
  test('empty file: one digest of nothing', async () => {
    const dir = tempDir('hash-')
    const file = join(dir, 'empty')
    writeFileSync(file, '')
    const h = await hashFile(file, 0, layoutParts(0, 5 * MIB))
    const empty = createHash('sha256').digest('base64')
    expect(h.partSha256Base64).toEqual([empty])
    expect(h.sha256Base64).toBe(empty)
  })
  test('a file that changed size since planning is refused', async () => {
    const dir = tempDir('hash-')
    const file = join(dir, 'grew')
    writeFileSync(file, Buffer.alloc(100))
    await expect(hashFile(file, 50, layoutParts(50, 5 * MIB))).rejects.toThrow(/changed while/)
  })
})

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

describe('Pacer', () => {
  test('never exceeds the per-minute budget in any window', async () => {
    let clock = 0
    const sent: number[] = []
    const pacer = new Pacer(
      120,
      () => clock,
      async ms => {
        clock += ms
      }
    )
    for (let i = 0; i < 300; i++) {
      await pacer.take()
      sent.push(clock)
    }
    for (let i = 0; i < sent.length; i++) {
      const inWindow = sent.filter(t => t >= sent[i] && t < sent[i] + 60_000).length
      expect(inWindow).toBeLessThanOrEqual(120)
    }
    // …and is not needlessly slow: 300 requests at 120/min take about 2.5 minutes.
    expect(clock).toBeLessThan(160_000)
  })
  /** A pacer on a virtual clock: sleeping advances it. */
  const virtual = (perMinute: number) => {
    const t = { clock: 0 }
    const pacer = new Pacer(
      perMinute,
      () => t.clock,
      async ms => {
        t.clock += ms
      }
    )
    return { t, pacer }
  }
  /** The most sends any window of `ms` holds (windows start at a send: that is where the most fit). */
  const busiest = (sent: number[], ms = 60_000) =>
    Math.max(...sent.map(start => sent.filter(x => x >= start && x < start + ms).length))

  test('a small release goes out at once: up to half the budget without waiting', async () => {
    const { t, pacer } = virtual(100)
    for (let i = 0; i < 50; i++) await pacer.take()
    expect(t.clock).toBe(0)
    await pacer.take()
    expect(t.clock).toBeGreaterThan(0)
  })

  test('bursts after idle spells, concurrent callers, pairs: no 60 s window over the budget', async () => {
    for (const budget of [100, 500]) {
      const { t, pacer } = virtual(budget)
      const sent: number[] = []
      let seed = budget
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
      for (let round = 0; round < 40; round++) {
        // Idle for a while (the bucket refills), then a burst of callers at once, some taking two.
        t.clock += Math.floor(random() * 40_000)
        const callers = Array.from({ length: 5 + Math.floor(random() * budget) }, () =>
          random() < 0.2 ? 2 : 1
        )
        await Promise.all(
          callers.map(n => pacer.take(n).then(() => sent.push(...Array(n).fill(t.clock))))
        )
      }
      sent.sort((a, b) => a - b)
      expect(busiest(sent)).toBeLessThanOrEqual(budget)
      // Not needlessly slow either: over the whole run, close to the budget's rate.
      const minutes = (sent[sent.length - 1] - sent[0]) / 60_000
      expect(sent.length / Math.ceil(minutes + 1)).toBeGreaterThan(0.5 * budget)
    }
  })

  test('after a 429: Retry-After, then its share of each window, never half the budget again', async () => {
    const { t, pacer } = virtual(100)
    for (let i = 0; i < 30; i++) await pacer.take()
    pacer.throttled(2000)
    // 30 sent before the budget ran dry: its share is about that (less a margin), at most half
    const share = pacer.pace()
    expect(share).toBeLessThanOrEqual(30)
    expect(share).toBeGreaterThan(20)
    const from = t.clock
    const sent: number[] = []
    for (let i = 0; i < 80; i++) {
      await pacer.take()
      sent.push(t.clock - from)
    }
    expect(sent[0]).toBeGreaterThanOrEqual(2000)
    // Its share of a window goes at once (Polar's window is fixed: the one that ran dry is over
    // once Retry-After has passed), then nothing more until that window has passed.
    const first = sent.filter(x => x === sent[0]).length
    expect(first).toBe(Math.floor(share))
    expect(sent[first] - sent[0]).toBeGreaterThanOrEqual(60_000)
    expect(busiest(sent)).toBeLessThanOrEqual(Math.ceil(pacer.pace()))
    expect(busiest(sent)).toBeLessThanOrEqual(50)
  })

  test('deep into a burst a request takes two places in flight: fewer 429s when the budget runs dry', async () => {
    const { t, pacer } = virtual(100)
    const weights: number[] = []
    for (let i = 0; i < 40; i++) {
      weights.push(pacer.weight())
      await pacer.take()
    }
    // A quarter of the budget at full width, the rest of the burst at half width…
    expect(weights.slice(0, 25).every(w => w === 1)).toBe(true)
    expect(weights.slice(25).every(w => w === 2)).toBe(true)
    // …and full width again once those sends have left the window.
    t.clock += 61_001
    expect(pacer.weight()).toBe(1)
  })

  test('a 429 pause holds every caller back', async () => {
    let clock = 0
    const pacer = new Pacer(
      6000,
      () => clock,
      async ms => {
        clock += ms
      }
    )
    pacer.throttled(5000)
    await pacer.take()
    expect(clock).toBeGreaterThanOrEqual(5000)
  })
})

describe('secrets', () => {
  const url =
    'https://bucket.s3.amazonaws.com/org/id/My%20App.zip?partNumber=1&uploadId=abc&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101&X-Amz-Signature=deadbeef'
  test('redact removes presigned query strings', () => {
    const text = redact(`connect failed for ${url} (retrying)`)
    expect(text).not.toContain('deadbeef')
    expect(text).not.toContain('AKIA')
    expect(text).toContain('(retrying)')
  })
  test('splitUrl keeps every byte of the path', () => {
    const { origin, path } = splitUrl(url)
    expect(origin).toBe('https://bucket.s3.amazonaws.com')
    expect(origin + path).toBe(url)
  })
})

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

describe('hashFile above the worker threshold', () => {
  const sha = (b: Buffer, enc: 'hex' | 'base64') => createHash('sha256').update(b).digest(enc)

  test('the worker threads’ whole-file and part hashes equal independent ones, file after file', async () => {
    const dir = tempDir('hash-')
    for (const extra of [5 * MIB + 7, 16 * MIB]) {
      const file = join(dir, `big-${extra}.bin`)
      const data = randomBytes(WORKER_THRESHOLD + extra)
      writeFileSync(file, data)
      const parts = layoutParts(data.length, 16 * MIB)
      const h = await hashFile(file, data.length, parts)
      expect(h.sha256Hex).toBe(sha(data, 'hex'))
      expect(h.sha256Base64).toBe(sha(data, 'base64'))
      expect(h.partSha256Base64).toEqual(
        parts.map(p => sha(data.subarray(p.start, p.end), 'base64'))
      )
    }
  })

  test('files hashed at once by the threads each get their own digests', async () => {
    const dir = tempDir('hash-')
    const files = [0, 1, 2].map(i => {
      const file = join(dir, `at-once-${i}.bin`)
      const data = randomBytes(WORKER_THRESHOLD + i * 3 * MIB + 1)
      writeFileSync(file, data)
      return { file, data, parts: layoutParts(data.length, 5 * MIB) }
    })
    const hashes = await Promise.all(files.map(f => hashFile(f.file, f.data.length, f.parts)))
    for (const [i, { data, parts }] of files.entries()) {
      expect(hashes[i].sha256Hex).toBe(sha(data, 'hex'))
      expect(hashes[i].partSha256Base64).toEqual(
        parts.map(p => sha(data.subarray(p.start, p.end), 'base64'))
      )
    }
  })

  test('a cancel stops the threads mid-file; the next file is hashed by fresh ones', async () => {
    const dir = tempDir('hash-')
    const big = join(dir, 'big.bin')
    const fd = openSync(big, 'w')
    ftruncateSync(fd, 2048 * MIB) // sparse: seconds of hashing, no disk
    closeSync(fd)
    const cancel = new AbortController()
    const hashing = hashFile(big, 2048 * MIB, layoutParts(2048 * MIB, 64 * MIB), cancel.signal)
    setTimeout(() => cancel.abort(), 50)
    await expect(hashing).rejects.toBeInstanceOf(CancelledError)
    const file = join(dir, 'next.bin')
    const data = randomBytes(WORKER_THRESHOLD + 3)
    writeFileSync(file, data)
    const h = await hashFile(file, data.length, layoutParts(data.length, 16 * MIB))
    expect(h.sha256Hex).toBe(sha(data, 'hex'))
  })

  test('after a failed read the threads go on hashing correctly', async () => {
    const dir = tempDir('hash-')
    const file = join(dir, 'after.bin')
    const data = randomBytes(WORKER_THRESHOLD + 1)
    writeFileSync(file, data)
    const parts = layoutParts(data.length, 16 * MIB)
    const [gone, ok] = await Promise.allSettled([
      hashFile(join(dir, 'gone.bin'), data.length, parts),
      hashFile(file, data.length, parts)
    ])
    expect(gone.status).toBe('rejected')
    expect(ok.status === 'fulfilled' && ok.value.sha256Hex).toBe(sha(data, 'hex'))
  })

  test('a file shorter than planned, or gone, is a planning error', async () => {
    const dir = tempDir('hash-')
    const file = join(dir, 'short.bin')
    writeFileSync(file, randomBytes(WORKER_THRESHOLD))
    const size = WORKER_THRESHOLD + MIB
    await expect(hashFile(file, size, layoutParts(size, 16 * MIB))).rejects.toThrow(/changed while/)
    await expect(
      hashFile(join(dir, 'gone.bin'), size, layoutParts(size, 16 * MIB))
    ).rejects.toThrow(/gone\.bin: ENOENT/)
  })
})

describe('rangeBody', () => {
  test('yields exactly the bytes of [start, end)', async () => {
    const dir = tempDir('body-')
    const file = join(dir, 'f.bin')
    const data = randomBytes(3 * MIB + 12345)
    writeFileSync(file, data)
    const start = 1000
    const end = data.length - 7
    const source = rangeBody(file, start, end)
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of source.body) {
      hash.update(chunk)
      bytes += chunk.length
    }
    source.release()
    expect(bytes).toBe(end - start)
    expect(hash.digest('hex')).toBe(
      createHash('sha256').update(data.subarray(start, end)).digest('hex')
    )
  })
  test('buffers come round every RING chunks, and a ring is shared only after release', async () => {
    const dir = tempDir('body-')
    const file = join(dir, 'f.bin')
    writeFileSync(file, randomBytes(2 * MIB))
    const first = rangeBody(file, 0, 2 * MIB)
    const buffers: ArrayBufferLike[] = []
    for await (const chunk of first.body) buffers.push(chunk.buffer)
    expect(buffers).toHaveLength((2 * MIB) / MIN_CHUNK)
    expect(buffers[RING]).toBe(buffers[0])
    expect(new Set(buffers.slice(0, RING)).size).toBe(RING)
    const meanwhile = rangeBody(file, 0, MIB) // before release: its own ring
    const next = async (b: ReturnType<typeof rangeBody>) => {
      const it = b.body[Symbol.asyncIterator]()
      const chunk = (await it.next()).value as Buffer
      await it.return?.(undefined)
      b.release()
      return chunk.buffer
    }
    expect(await next(meanwhile)).not.toBe(buffers[0])
    first.release()
    const later = rangeBody(file, 0, MIB) // after release: the first ring again
    expect(await next(later)).toBe(buffers[0])
  })
  test('chunk sizes follow the parts in flight: ≤ 8 MiB of rings up to 32, 16 MiB at 64', () => {
    expect(chunkFor(1)).toBe(MAX_CHUNK)
    expect(chunkFor(8)).toBe(512 * 1024)
    expect(chunkFor(16)).toBe(256 * 1024)
    expect(chunkFor(32)).toBe(MIN_CHUNK)
    for (const n of [1, 3, 8, 12, 16, 24, 32]) {
      expect(n * RING * chunkFor(n)).toBeLessThanOrEqual(8 * MIB)
    }
    expect(64 * RING * chunkFor(64)).toBe(16 * MIB)
  })
  test('rings of another chunk size are not reused', async () => {
    const dir = tempDir('body-')
    const file = join(dir, 'f.bin')
    writeFileSync(file, randomBytes(MIB))
    const firstChunk = async (b: ReturnType<typeof rangeBody>) => {
      const it = b.body[Symbol.asyncIterator]()
      const chunk = (await it.next()).value as Buffer
      await it.return?.(undefined)
      b.release()
      return chunk
    }
    const big = await firstChunk(rangeBody(file, 0, MIB, MAX_CHUNK))
    expect(big.length).toBe(MAX_CHUNK)
    const small = await firstChunk(rangeBody(file, 0, MIB, MIN_CHUNK))
    expect(small.length).toBe(MIN_CHUNK)
    expect(small.buffer).not.toBe(big.buffer)
    expect((await firstChunk(rangeBody(file, 0, MIB, MIN_CHUNK))).buffer).toBe(small.buffer)
  })
  test('a file that shrank is an error, not a short body', async () => {
    const dir = tempDir('body-')
    const file = join(dir, 'f.bin')
    writeFileSync(file, randomBytes(100))
    const source = rangeBody(file, 0, 200)
    await expect(
      (async () => {
        for await (const _ of source.body) void _
      })()
    ).rejects.toThrow(/shorter than when it was hashed/)
    source.release()
  })
})
