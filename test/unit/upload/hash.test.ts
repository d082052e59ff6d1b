/** src/upload/hash.ts: the file digests, in process and in a worker. */
import { describe, expect, test } from '@jest/globals'
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CancelledError } from '../../../src/errors.js'
import { hashFile, WORKER_THRESHOLD } from '../../../src/upload/hash.js'
import { layoutParts } from '../../../src/upload/parts.js'
import { tempDir } from '../../support/temp.js'

const MIB = 1024 * 1024

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
