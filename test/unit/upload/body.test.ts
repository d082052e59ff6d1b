/** src/upload/body.ts: the ranged part body. */
import { describe, expect, test } from '@jest/globals'
import { writeFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { chunkFor, MAX_CHUNK, MIN_CHUNK, RING, rangeBody } from '../../../src/upload/body.js'
import { tempDir } from '../../support/temp.js'

const MIB = 1024 * 1024

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
