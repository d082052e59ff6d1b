/** Test files: random content written in 16 MiB chunks, never a whole file in memory. */
import { randomFill } from 'node:crypto'
import { mkdirSync, statfsSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import { MIB } from './util.js'

const CHUNK = 16 * MIB

function fill(buffer: Buffer, offset: number, size: number): Promise<void> {
  return new Promise((resolve, reject) =>
    randomFill(buffer, offset, size, error => (error ? reject(error) : resolve()))
  )
}

/** Writes `size` random bytes (OpenSSL's CSPRNG: ~2 GB/s here, far faster than /dev/urandom). */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true })
  const handle = await open(path, 'w')
  try {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)))
    for (let written = 0; written < size;) {
      const n = Math.min(buffer.length, size - written)
      await fill(buffer, 0, n)
      await handle.write(buffer, 0, n)
      written += n
    }
    // Flush now, so write-back of a fresh GiB never competes with the first timed run; the
    // bytes stay in the page cache, as a runner's freshly built artifacts would.
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Fails early, with a clear message, when the temp folder cannot hold `bytes` more. */
export function ensureFreeSpace(dir: string, bytes: number): void {
  const s = statfsSync(dir)
  const free = s.bavail * s.bsize
  // Keep 1 GiB spare for everything else on the machine.
  if (free < bytes + 1024 * MIB) {
    throw new Error(
      `${dir} has ${(free / MIB).toFixed(0)} MiB free; the bench needs ${(bytes / MIB).toFixed(0)} MiB plus 1 GiB spare`
    )
  }
}
