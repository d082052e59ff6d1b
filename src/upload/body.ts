/**
 * Part bodies read from disk into a few reused buffers, so uploading makes no garbage per
 * MiB (fresh stream buffers pile up before V8 collects them; see BENCHMARKS.md, "Figures
 * behind the code's choices").
 *
 * A buffer is reused only RING chunks later. undici asks for the next chunk only after the
 * socket took the previous one: it writes each chunk to a corked socket, so the write sees the
 * whole chunk buffered, far above the socket's 16 KiB high-water mark, returns false, and undici
 * waits for 'drain' (the buffer sent) before the next. Keep MIN_CHUNK well above 16 KiB. Were a
 * chunk still queued when its buffer comes round, S3 would refuse the part (its SHA-256 is
 * signed into the URL), never store wrong bytes.
 *
 * Each part in flight holds RING buffers. Their size follows the number of parts in flight,
 * so all of them together stay within RING_BUDGET (8 MiB; beyond 32 in flight, 2 × MIN_CHUNK
 * each: 16 MiB at `concurrency: auto`'s ceiling of 64): few large reads when few parts are in
 * flight (each read costs the main thread the same, whatever its size), small ones when many
 * are (fewer bytes held). The measurements behind it: BENCHMARKS.md.
 */
import { open } from 'node:fs/promises'

export const RING = 2
export const MIN_CHUNK = 128 * 1024
export const MAX_CHUNK = 512 * 1024
/** What the rings of all parts in flight may hold together (beyond 64 × 2 × MIN_CHUNK). */
const RING_BUDGET = 8 * 1024 * 1024

/** The chunk size for `inFlight` parts: a power of two in [MIN_CHUNK, MAX_CHUNK]. */
export function chunkFor(inFlight: number): number {
  let chunk = MAX_CHUNK
  while (chunk > MIN_CHUNK && chunk * RING * inFlight > RING_BUDGET) chunk /= 2
  return chunk
}

/** Rings no PUT is using, kept for the next PUT; only rings of the size last asked for. */
let spare: Buffer[][] = []
let spareChunk = 0

export interface RangeBody {
  body: AsyncIterable<Buffer>
  /** Call once the request has settled; the buffers are reused when the reader is done too. */
  release(): void
}

/** The bytes [start, end) of the file, read `chunk` bytes at a time (see chunkFor). */
export function rangeBody(
  filePath: string,
  start: number,
  end: number,
  chunk = MIN_CHUNK
): RangeBody {
  if (chunk !== spareChunk) {
    spare = [] // the other size's rings go to the garbage collector
    spareChunk = chunk
  }
  const ring = spare.pop() ?? Array.from({ length: RING }, () => Buffer.allocUnsafeSlow(chunk))
  let started = false
  let finished = false
  let settled = false
  // A read still in flight after the request failed must not land in another PUT's buffers.
  const recycle = () => {
    if (settled && (!started || finished) && ring[0].length === spareChunk) spare.push(ring)
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
        const { bytesRead } = await handle.read(buffer, 0, Math.min(chunk, end - pos), pos)
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
