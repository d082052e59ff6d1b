/**
 * The S3 network model (network.ts): per-connection and total bandwidth caps, added round
 * trips, trust-checksums mode. Behavioural checks with generous margins (lower bounds from the
 * configured rates; upper bounds only where a broken model would be far off), not benchmarks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { Client, request } from 'undici'
import { startEmulator, type Emulator } from './index.js'
import { api, createFile, md5hex, MiB, putAll, sha256b64, startCli } from './helpers.js'
import { Bucket } from './network.js'

let emu: Emulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(async () => {
  await emu.close()
})
afterEach(() => {
  emu.setS3Network({
    s3ConnectionBytesPerSec: null,
    s3TotalBytesPerSec: null,
    s3RttMs: 0,
    s3TrustChecksums: false
  })
})

const MB = 1e6

/** A file of `size` pseudo-random bytes, created with one part. */
async function onePart(name: string, size: number) {
  const content = Buffer.alloc(size, name)
  const created = await createFile(emu, name, content, { partSize: size })
  return { content, part: created.upload.parts[0] }
}

/** PUTs `body` over its own connection and times it (ms, status, ETag). */
async function timedPut(
  client: Client,
  url: string,
  headers: Record<string, string>,
  body: Buffer
): Promise<{ ms: number; status: number; etag: string | undefined }> {
  const u = new URL(url)
  const started = performance.now()
  const res = await client.request({
    method: 'PUT',
    path: url.slice(u.origin.length),
    headers: { ...headers, 'content-length': String(body.length) },
    body
  })
  await res.body.text()
  const etag = res.headers.etag
  return {
    ms: performance.now() - started,
    status: res.statusCode,
    etag: typeof etag === 'string' ? etag : undefined
  }
}

function client(): Client {
  return new Client(emu.s3Url)
}

describe('token bucket', () => {
  test('waits bytes ÷ rate beyond a small credit, and banks at most burstMs when idle', () => {
    const b = new Bucket(1, 25) // 1 byte per ms
    expect(b.reserve(100, 0)).toBe(75) // 25 ms of credit at start
    expect(b.reserve(100, 0)).toBe(175)
    expect(b.reserve(10, 1000)).toBe(0) // idle: credit again, capped at 25 ms
    expect(b.reserve(10, 1000)).toBe(0)
    expect(b.reserve(10, 1000)).toBe(5)
  })

  test('time lost by a late timer is forgiven once, so the rate holds', () => {
    const b = new Bucket(1, 25)
    expect(b.reserve(125, 0)).toBe(100) // due at 100
    b.late(60) // resumed at 160
    expect(b.reserve(50, 160)).toBe(0) // the 50 bytes were due by 150: on schedule
    expect(b.reserve(50, 160)).toBe(40) // 225 bytes by 200 ms (+ 25 ms credit)
    expect(b.reserve(10, 1000)).toBe(0) // forgiveness is used up: idle credit only
    expect(b.reserve(10, 1000)).toBe(0)
    expect(b.reserve(10, 1000)).toBe(5)
  })
})

describe('S3 network model', () => {
  test('a 4 MB PUT on a connection capped at 8 MB/s takes about half a second', async () => {
    emu.setS3Network({ s3ConnectionBytesPerSec: 8 * MB })
    const { content, part } = await onePart('capped.bin', 4 * MB)
    const c = client()
    try {
      const r = await timedPut(c, part.url, part.headers, content)
      expect(r.status).toBe(200)
      expect(r.ms).toBeGreaterThanOrEqual(450)
      expect(r.ms).toBeLessThan(5000)
    } finally {
      await c.close()
    }
  })

  test('the per-connection cap is per connection: two connections carry twice as much', async () => {
    emu.setS3Network({ s3ConnectionBytesPerSec: 8 * MB })
    const a = await onePart('conn-a.bin', 4 * MB)
    const b = await onePart('conn-b.bin', 4 * MB)
    const [ca, cb] = [client(), client()]
    try {
      const started = performance.now()
      const rs = await Promise.all([
        timedPut(ca, a.part.url, a.part.headers, a.content),
        timedPut(cb, b.part.url, b.part.headers, b.content)
      ])
      const ms = performance.now() - started
      expect(rs.map(r => r.status)).toEqual([200, 200])
      expect(ms).toBeGreaterThanOrEqual(450)
      expect(ms).toBeLessThan(950) // one shared 8 MB/s would take ≥ 975 ms
    } finally {
      await Promise.all([ca.close(), cb.close()])
    }
  })

  test('the total cap is shared: two connections at 8 MB/s in all take twice as long', async () => {
    emu.setS3Network({ s3TotalBytesPerSec: 8 * MB })
    const a = await onePart('total-a.bin', 2 * MB)
    const b = await onePart('total-b.bin', 2 * MB)
    const [ca, cb] = [client(), client()]
    try {
      const started = performance.now()
      const rs = await Promise.all([
        timedPut(ca, a.part.url, a.part.headers, a.content),
        timedPut(cb, b.part.url, b.part.headers, b.content)
      ])
      expect(rs.map(r => r.status)).toEqual([200, 200])
      expect(performance.now() - started).toBeGreaterThanOrEqual(450)
    } finally {
      await Promise.all([ca.close(), cb.close()])
    }
  })

  test('RTT is added to every request, twice on a new connection (its handshake)', async () => {
    emu.setS3Network({ s3RttMs: 200 })
    const { content, part } = await onePart('rtt.bin', 1000)
    const c = client()
    try {
      const first = await timedPut(c, part.url, part.headers, content)
      const second = await timedPut(c, part.url, part.headers, content)
      expect([first.status, second.status]).toEqual([200, 200])
      expect(first.ms).toBeGreaterThanOrEqual(390)
      expect(second.ms).toBeGreaterThanOrEqual(190)
      expect(second.ms).toBeLessThan(first.ms)
    } finally {
      await c.close()
    }
  })

  test('trust-checksums mode believes the signed checksum, still answers ETags, and completes', async () => {
    emu.setS3Network({ s3TrustChecksums: true })
    const content = Buffer.alloc(6 * MiB, 'trust')
    const created = await createFile(emu, 'trust.bin', content, { partSize: 5 * MiB })
    // Other bytes of the same length: a hashing S3 would answer BadDigest.
    const body = await putAll(created, Buffer.alloc(content.length, 'other'))
    expect(body.parts).toHaveLength(2)
    for (const p of body.parts) expect(p.checksum_etag).toMatch(/^"[0-9a-f]{32}"$/)
    const done = await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, { body })
    expect(done.status).toBe(200)
    expect((done.json as { is_uploaded: boolean }).is_uploaded).toBe(true)
    const stored = emu.files().find(f => f.id === created.id)!
    expect(stored.parts.map(p => p.sha256Base64)).toEqual(
      created.upload.parts.map(p => p.checksum_sha256_base64)
    )
  })

  test('without trust mode the same PUT is refused (BadDigest) and the ETag is the MD5', async () => {
    const content = Buffer.from('real bytes')
    const created = await createFile(emu, 'no-trust.bin', content)
    await expect(putAll(created, Buffer.from('fake bytes'))).rejects.toThrow(/400/)
    const ok = await putAll(created, content)
    expect(ok.parts[0].checksum_etag).toBe(`"${md5hex(content)}"`)
  })

  test('settings are validated, and POST /_emulator/config changes them', async () => {
    expect(() => emu.setS3Network({ s3ConnectionBytesPerSec: 0 })).toThrow(/positive/)
    expect(() => emu.setS3Network({ s3RttMs: -1 })).toThrow(/non-negative/)
    const res = await request(`${emu.apiUrl}/_emulator/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        s3ConnectionBytesPerSec: 25e6,
        s3TotalBytesPerSec: 4e8,
        s3RttMs: 30,
        s3TrustChecksums: true
      })
    })
    expect(res.statusCode).toBe(204)
    await res.body.text()
    expect(emu.s3Network()).toEqual({
      s3ConnectionBytesPerSec: 25e6,
      s3TotalBytesPerSec: 4e8,
      s3RttMs: 30,
      s3TrustChecksums: true
    })
    // Fields left out stay as they are.
    emu.setS3Network({ s3RttMs: 0 })
    expect(emu.s3Network().s3TotalBytesPerSec).toBe(4e8)
  })
})

describe('CLI network flags', () => {
  test('--s3-bandwidth, --s3-rtt and --s3-trust-checksums reach the S3 endpoint', async () => {
    const { child, env } = await startCli(
      [
        ...['--s3-bandwidth', '8MB/s', '--s3-total-bandwidth', '400M', '--s3-rtt', '100'],
        '--s3-trust-checksums'
      ],
      'S3_URL'
    )
    try {
      const content = Buffer.alloc(2 * MB, 'cli')
      const created = await request(`${env.POLAR_API_URL}/v1/files/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.POLAR_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          service: 'downloadable',
          name: 'cli.bin',
          mime_type: 'application/octet-stream',
          size: content.length,
          checksum_sha256_base64: sha256b64(content),
          upload: {
            parts: [
              {
                number: 1,
                chunk_start: 0,
                chunk_end: content.length,
                checksum_sha256_base64: sha256b64(content)
              }
            ]
          }
        })
      })
      expect(created.statusCode).toBe(201)
      const part = (
        (await created.body.json()) as {
          upload: { parts: { url: string; headers: Record<string, string> }[] }
        }
      ).upload.parts[0]
      const c = new Client(env.S3_URL)
      try {
        // Wrong bytes (trust mode: accepted); 2 MB at 8 MB/s + 2 × 100 ms ≥ 0.45 s.
        const r = await timedPut(c, part.url, part.headers, Buffer.alloc(content.length, 'x'))
        expect(r.status).toBe(200)
        expect(r.ms).toBeGreaterThanOrEqual(400)
      } finally {
        await c.close()
      }
    } finally {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }, 20000)
})
