/**
 * The release source's pure parts (asset selection, digests, rate-limit waits, checksums text),
 * and downloadAsset over a fake stream.
 */
import { describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { rateLimitWait, type GitHubReleases } from '../../src/github/client.js'
import { downloadAsset } from '../../src/github/download.js'
import { digestHex, selectAssets, type Asset } from '../../src/github/select.js'
import type { Logger } from '../../src/log.js'
import { checksumsText } from '../../src/run-report.js'
import { layoutParts } from '../../src/upload/parts.js'
import { tempDir } from '../support/temp.js'

let id = 0
const asset = (name: string, state = 'uploaded'): Asset => ({
  id: ++id,
  name,
  size: 1,
  state,
  digest: null
})

describe('selectAssets', () => {
  const assets = [
    asset('app.zip'),
    asset('app.dmg', 'starter'),
    asset('app-debug.zip'),
    asset('notes.txt')
  ]
  test('empty files selects every asset, sorted by name', () => {
    expect(selectAssets(assets, []).chosen.map(a => a.name)).toEqual([
      'app-debug.zip',
      'app.dmg',
      'app.zip',
      'notes.txt'
    ])
  })
  test('patterns with braces and excludes; unmatched lines and pending assets named', () => {
    const s = selectAssets(assets, ['*.{zip,dmg}', '!*-debug.*', '*.exe'])
    expect(s.chosen.map(a => a.name)).toEqual(['app.dmg', 'app.zip'])
    expect(s.unmatched).toEqual(['*.exe'])
    expect(s.pending.map(a => a.name)).toEqual(['app.dmg'])
  })
  test('digests: sha256 only, lowercased', () => {
    expect(digestHex(`sha256:${'AB'.repeat(32)}`)).toBe('ab'.repeat(32))
    expect(digestHex(null)).toBeNull()
    expect(digestHex(`sha512:${'ab'.repeat(64)}`)).toBeNull()
  })
})

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

describe('checksumsText', () => {
  test('sha256sum format: sorted by name, two spaces, LF, a final LF; GNU escapes', () => {
    const a = 'a'.repeat(64)
    const b = 'b'.repeat(64)
    const c = 'c'.repeat(64)
    expect(
      checksumsText([
        { name: 'b.zip', sha256: b },
        { name: 'A.zip', sha256: a },
        { name: 'odd\\name\n.txt', sha256: c }
      ])
    ).toBe(`${a}  A.zip\n${b}  b.zip\n\\${c}  odd\\\\name\\n.txt\n`)
    expect(checksumsText([])).toBe('')
  })
})

describe('downloadAsset', () => {
  const MIB = 1024 * 1024
  const sha = (b: Buffer, enc: 'hex' | 'base64') => createHash('sha256').update(b).digest(enc)
  const logger = { info: () => undefined } as unknown as Logger

  /** `data` in chunks of random sizes, so chunk edges straddle part edges. */
  function chunked(data: Buffer): Buffer[] {
    const chunks: Buffer[] = []
    for (let at = 0; at < data.length;) {
      const n = 1 + Math.floor(Math.random() * 200 * 1024)
      chunks.push(data.subarray(at, at + n))
      at += n
    }
    return chunks
  }

  test('hashes each part and the whole asset as it arrives, and writes it byte for byte', async () => {
    const data = randomBytes(12 * MIB + 3)
    const parts = layoutParts(data.length, 5 * MIB)
    const asset: Asset = {
      id: 7,
      name: 'app.zip',
      size: data.length,
      state: 'uploaded',
      digest: `sha256:${sha(data, 'hex')}`
    }
    const github = { open: () => Promise.resolve(Readable.from(chunked(data))) }
    const dir = tempDir('download-')
    const got = await downloadAsset(asset, dir, parts, {
      github: github as unknown as GitHubReleases,
      retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 },
      logger
    })
    expect(readFileSync(got.path).equals(data)).toBe(true)
    expect(got.hashes.sha256Hex).toBe(sha(data, 'hex'))
    expect(got.hashes.partSha256Base64).toEqual(
      parts.map(p => sha(data.subarray(p.start, p.end), 'base64'))
    )
  })

  test('a digest that does not match names the asset', async () => {
    const data = randomBytes(1000)
    const asset: Asset = {
      id: 8,
      name: 'app.dmg',
      size: 1000,
      state: 'uploaded',
      digest: `sha256:${'0'.repeat(64)}`
    }
    const github = { open: () => Promise.resolve(Readable.from(chunked(data))) }
    await expect(
      downloadAsset(asset, tempDir('download-'), layoutParts(1000, 5 * MIB), {
        github: github as unknown as GitHubReleases,
        retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 },
        logger
      })
    ).rejects.toThrow(/app\.dmg/)
  })
})
