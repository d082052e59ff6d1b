/**
 * Part bodies read from disk into a few reused buffers, so uploading makes no garbage per
 * MiB (fresh stream buffers pile up to tens of MiB before V8 collects them: measured peak RSS
 * of a 256 MiB upload 137 → 109 MiB).
 *
 * A buffer is reused only RING chunks later. undici asks for the next chunk only after the
 * socket took the previous one (written at once, or after 'drain': a CHUNK is far above the
 * socket's 16 KiB high-water mark, so a write that is not taken at once always waits for
 * 'drain'). Keep CHUNK well above it. Were a chunk still queued when its buffer comes round,
 * S3 would refuse the part (its SHA-256 is signed into the URL), never store wrong bytes.
 */
import { open } from 'node:fs/promises'

const CHUNK = 256 * 1024
const RING = 4

/** Rings of buffers no PUT is using, kept for the next PUT. */
const spare: Buffer[][] = []

export interface RangeBody {
  body: AsyncIterable<Buffer>
  /** Call once the request has settled; the buffers are reused when the reader is done too. */
  release(): void
}

export function rangeBody(filePath: string, start: number, end: number): RangeBody {
  const ring = spare.pop() ?? Array.from({ length: RING }, () => Buffer.allocUnsafeSlow(CHUNK))
  let started = false
  let finished = false
  let settled = false
  // A read still in flight after the request failed must not land in another PUT's buffers.
  const recycle = () => {
    if (settled && (!started || finished)) spare.push(ring)
  }
  async function* read(): AsyncGenerator<Buffer> {
    started = true
    const handle = await open(filePath, 'r').catch(error => {
      finished = true
      recycle()
      throw error
    })
    try {
      for (let pos = start, i = 0; pos < end; i++) {
        const buffer = ring[i % RING]
        const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, end - pos), pos)
        if (bytesRead === 0) throw new Error(`${filePath} is shorter than when it was hashed`)
        pos += bytesRead
        yield buffer.subarray(0, bytesRead)
      }
    } finally {
      try {
        await handle.close()
      } finally {
        finished = true
        recycle()
      }
    }
  }
  return {
    body: read(),
    release: () => {
      if (settled) return
      settled = true
      recycle()
    }
  }
}
