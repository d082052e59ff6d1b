/** src/github/download.ts: downloadAsset over a fake stream. */
import { describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import type { GitHubReleases } from '../../../src/github/client.js'
import { downloadAsset } from '../../../src/github/download.js'
import type { Asset } from '../../../src/github/select.js'
import type { Logger } from '../../../src/log.js'
import { layoutParts } from '../../../src/upload/parts.js'
import { tempDir } from '../../support/temp.js'

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
