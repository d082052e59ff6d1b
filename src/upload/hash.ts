/**
 * Computes the whole-file SHA-256 and every part's SHA-256 (one read; two reads in parallel
 * threads for large files).
 * Polar bakes each part's checksum into its presigned URL, so these are needed before create.
 * Reads go into one reused buffer: memory stays flat and no garbage is made, whatever the size.
 */
import { createHash, type Hash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { Worker } from 'node:worker_threads'
import { PlanError } from '../errors.js'
import type { PartRange } from './parts.js'

export interface FileHashes {
  sha256Hex: string
  sha256Base64: string
  /** Base64 SHA-256 of each part, in part order. */
  partSha256Base64: string[]
}

const READ_CHUNK = 1024 * 1024
/**
 * From this size on, the whole-file SHA-256 runs in a worker thread over its own read of the
 * file while this thread hashes the parts: two hashes of every byte on two cores instead of one.
 * Below it, a worker's start-up costs more than it saves.
 */
export const WORKER_THRESHOLD = 32 * 1024 * 1024

// CommonJS source for an eval'd worker, so the bundle stays one file. Synchronous reads are
// fine here: this thread does nothing else.
const WHOLE_FILE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const fs = require('node:fs')
try {
  const fd = fs.openSync(workerData.path, 'r')
  const buffer = Buffer.allocUnsafe(${READ_CHUNK})
  const hash = createHash('sha256')
  let bytes = 0
  for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, bytes)) > 0; bytes += n) {
    hash.update(n === buffer.length ? buffer : buffer.subarray(0, n))
  }
  fs.closeSync(fd)
  parentPort.postMessage({ digest: hash.digest('base64'), bytes })
} catch (error) {
  parentPort.postMessage({ error: error.message })
}
`

interface WorkerHash {
  result: Promise<{ digest: string; bytes: number }>
  stop(): void
}

function hashInWorker(filePath: string): WorkerHash {
  const worker = new Worker(WHOLE_FILE_WORKER, {
    eval: true,
    workerData: { path: filePath },
    // It holds one buffer and a hash: a small heap keeps the process's RSS down.
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 }
  })
  const result = new Promise<{ digest: string; bytes: number }>((resolve, reject) => {
    worker.once('message', (m: { digest?: string; bytes?: number; error?: string }) => {
      if (m.error !== undefined) reject(new PlanError(`${filePath}: ${m.error}`))
      else resolve({ digest: m.digest!, bytes: m.bytes! })
    })
    worker.once('error', reject)
    worker.once('exit', code => reject(new Error(`the hashing thread stopped (exit ${code})`)))
  })
  result.catch(() => undefined) // observed by the caller after the parts are hashed
  return { result, stop: () => void worker.terminate() }
}

export async function hashFile(
  filePath: string,
  size: number,
  parts: PartRange[]
): Promise<FileHashes> {
  const inWorker = size >= WORKER_THRESHOLD ? hashInWorker(filePath) : null
  try {
    return await hashParts(filePath, size, parts, inWorker)
  } finally {
    inWorker?.stop()
  }
}

async function hashParts(
  filePath: string,
  size: number,
  parts: PartRange[],
  inWorker: WorkerHash | null
): Promise<FileHashes> {
  const whole = inWorker ? null : createHash('sha256')
  const partDigests: string[] = []
  let index = 0
  let part: Hash = createHash('sha256')
  let offset = 0

  const handle = await open(filePath, 'r')
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK)
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset)
      if (bytesRead === 0) break
      const chunk = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead)
      whole?.update(chunk)
      let at = 0
      while (at < chunk.length) {
        // The last part takes whatever remains, so a file that grew is caught by the size check.
        const partEnd = index < parts.length - 1 ? parts[index].end : Infinity
        const take = Math.min(chunk.length - at, partEnd - offset)
        part.update(take === chunk.length ? chunk : chunk.subarray(at, at + take))
        at += take
        offset += take
        if (offset === partEnd) {
          partDigests.push(part.digest('base64'))
          part = createHash('sha256')
          index++
        }
      }
    }
  } finally {
    await handle.close()
  }
  partDigests.push(part.digest('base64'))
  const fromWorker = inWorker ? await inWorker.result : null
  if (
    offset !== size ||
    partDigests.length !== parts.length ||
    (fromWorker && fromWorker.bytes !== size)
  ) {
    throw new PlanError(
      `${filePath} changed while it was being read (${size} bytes expected, ${offset} read). ` +
        'Make sure no other step writes it during the upload.'
    )
  }
  const digest = fromWorker ? Buffer.from(fromWorker.digest, 'base64') : whole!.digest()
  return {
    sha256Hex: digest.toString('hex'),
    sha256Base64: digest.toString('base64'),
    partSha256Base64: partDigests
  }
}
