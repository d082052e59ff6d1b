/**
 * Computes the whole-file SHA-256 and every part's SHA-256.
 * Polar bakes each part's checksum into its presigned URL, so these are needed before create.
 *
 * Large files are hashed off the main thread, by two worker threads that each read the file:
 * one computes the whole-file SHA-256, the other the parts' — two hashes of every byte on two
 * cores, and the main thread stays free to drive the uploads of files already hashed (a
 * many-file release hashes file k+1 while file k uploads). The workers are started once, kept
 * while files keep coming, and stopped when idle. Small files are hashed here, in one read.
 * Reads go into one reused buffer per thread: memory stays flat and no garbage is made.
 */
import { createHash, type Hash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { Worker } from 'node:worker_threads'
import { CancelledError, cancelledBy, PlanError, throwIfCancelled } from '../errors.js'
import type { PartRange } from './parts.js'

export interface FileHashes {
  sha256Hex: string
  sha256Base64: string
  /** Base64 SHA-256 of each part, in part order. */
  partSha256Base64: string[]
}

const READ_CHUNK = 1024 * 1024
/**
 * From this size on, a file is hashed by the worker threads. Below it, hashing on this thread
 * takes a few ms and a worker's start-up would cost more than it saves (see BENCHMARKS.md).
 */
export const WORKER_THRESHOLD = 32 * 1024 * 1024
/**
 * Idle workers are stopped after this long without a file to hash. The next file of a release
 * comes within microseconds; keeping threads alive longer costs memory while uploads start
 * (see BENCHMARKS.md).
 */
const IDLE_MS = 20

// CommonJS source for an eval'd worker, so the bundle stays one file. Synchronous reads are
// fine here: this thread does nothing else. A job: {id, path, ends} — `ends` null for the
// whole-file hash, else each part's end offset (the last part takes whatever remains, so a file
// that grew is caught by the size check).
const HASH_WORKER = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const fs = require('node:fs')
const buffer = Buffer.allocUnsafe(${READ_CHUNK})
parentPort.on('message', ({ id, path, ends }) => {
  let fd
  try {
    fd = fs.openSync(path, 'r')
    const digests = []
    let hash = createHash('sha256')
    let index = 0
    let offset = 0
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, offset)) > 0; ) {
      let at = 0
      while (at < n) {
        const partEnd = ends && index < ends.length - 1 ? ends[index] : Infinity
        const take = Math.min(n - at, partEnd - offset)
        hash.update(take === buffer.length ? buffer : buffer.subarray(at, at + take))
        at += take
        offset += take
        if (offset === partEnd) {
          digests.push(hash.digest('base64'))
          hash = createHash('sha256')
          index++
        }
      }
    }
    digests.push(hash.digest('base64'))
    parentPort.postMessage({ id, digests, bytes: offset })
  } catch (error) {
    parentPort.postMessage({ id, error: error.message })
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
})
`

interface Job {
  resolve(r: { digests: string[]; bytes: number }): void
  reject(e: Error): void
}

/** One long-lived hashing thread; jobs run one after another in the order posted. */
class HashThread {
  private worker: Worker | null = null
  private readonly jobs = new Map<number, Job>()
  private nextId = 0

  run(path: string, ends: number[] | null): Promise<{ digests: string[]; bytes: number }> {
    const worker = this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject })
      worker.ref() // a job in flight keeps the process alive
      worker.postMessage({ id, path, ends })
    })
  }

  private start(): Worker {
    if (this.worker) return this.worker
    const worker = new Worker(HASH_WORKER, {
      eval: true,
      // One buffer and a hash: a small heap keeps the process's RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 }
    })
    worker.on(
      'message',
      (m: { id: number; digests?: string[]; bytes?: number; error?: string }) => {
        const job = this.jobs.get(m.id)
        this.jobs.delete(m.id)
        if (m.error !== undefined) job?.reject(new Error(m.error))
        else job?.resolve({ digests: m.digests!, bytes: m.bytes! })
        if (this.jobs.size === 0) worker.unref() // idle: the process may exit around it
      }
    )
    const fail = (error: Error) => {
      if (this.worker !== worker) return
      this.worker = null
      for (const job of this.jobs.values()) job.reject(error)
      this.jobs.clear()
    }
    worker.on('error', fail)
    worker.on('exit', code => fail(new Error(`the hashing thread stopped (exit ${code})`)))
    this.worker = worker
    return worker
  }

  /** Stops the thread mid-job (a read of gigabytes cannot be interrupted otherwise). */
  abort(error: Error): void {
    const worker = this.worker
    if (!worker) return
    this.worker = null
    for (const job of this.jobs.values()) job.reject(error)
    this.jobs.clear()
    void worker.terminate()
  }

  /** Stops the thread if it has nothing to do. */
  stopIfIdle(): void {
    const worker = this.worker
    if (!worker || this.jobs.size > 0) return
    this.worker = null
    void worker.terminate()
  }
}

const wholeThread = new HashThread()
const partsThread = new HashThread()
/** hashFile calls using the threads, and the timer that stops them once there are none. */
let using = 0
let idle: NodeJS.Timeout | null = null

async function onThreads<T>(work: () => Promise<T>): Promise<T> {
  using++
  if (idle) clearTimeout(idle)
  idle = null
  try {
    return await work()
  } finally {
    if (--using === 0) {
      idle = setTimeout(() => {
        wholeThread.stopIfIdle()
        partsThread.stopIfIdle()
      }, IDLE_MS)
      idle.unref()
    }
  }
}

/**
 * `signal`: when it fires, the hashing threads are stopped at once (with every file they were
 * hashing): a cancelled job, or a run whose planning reads failed, must not wait for gigabytes.
 */
export async function hashFile(
  filePath: string,
  size: number,
  parts: PartRange[],
  signal?: AbortSignal
): Promise<FileHashes> {
  let whole: { digest: Buffer; bytes: number }
  let partDigests: string[]
  let partBytes: number
  throwIfCancelled(signal)
  if (size >= WORKER_THRESHOLD) {
    const stop = () => {
      wholeThread.abort(cancelledBy(signal!))
      partsThread.abort(cancelledBy(signal!))
    }
    signal?.addEventListener('abort', stop)
    const [w, p] = await onThreads(() =>
      Promise.all([
        wholeThread.run(filePath, null),
        partsThread.run(
          filePath,
          parts.map(r => r.end)
        )
      ])
    )
      .catch((error: Error) => {
        if (error instanceof CancelledError) throw error
        throw new PlanError(`${filePath}: ${error.message}`)
      })
      .finally(() => signal?.removeEventListener('abort', stop))
    whole = { digest: Buffer.from(w.digests[0], 'base64'), bytes: w.bytes }
    partDigests = p.digests
    partBytes = p.bytes
  } else {
    const here = await hashHere(filePath, parts)
    whole = { digest: here.whole, bytes: here.bytes }
    partDigests = here.partDigests
    partBytes = here.bytes
  }
  if (partBytes !== size || whole.bytes !== size || partDigests.length !== parts.length) {
    throw new PlanError(
      `${filePath} changed while it was being read (${size} bytes expected, ${partBytes} read). ` +
        'Make sure no other step writes it during the upload.'
    )
  }
  return {
    sha256Hex: whole.digest.toString('hex'),
    sha256Base64: whole.digest.toString('base64'),
    partSha256Base64: partDigests
  }
}

/**
 * The whole-file and per-part SHA-256 of bytes fed in order: for small files here, and for a
 * release asset while it downloads (so it needs no second pass over the disk).
 */
export class StreamHasher {
  private readonly whole = createHash('sha256')
  private part: Hash = createHash('sha256')
  private readonly partDigests: string[] = []
  private index = 0
  /** Bytes fed so far. */
  bytes = 0

  constructor(private readonly parts: PartRange[]) {}

  update(chunk: Buffer): void {
    this.whole.update(chunk)
    let at = 0
    while (at < chunk.length) {
      // The last part takes whatever remains, so a file that grew is caught by the size check.
      const { parts, index } = this
      const partEnd = index < parts.length - 1 ? parts[index].end : Infinity
      const take = Math.min(chunk.length - at, partEnd - this.bytes)
      this.part.update(take === chunk.length ? chunk : chunk.subarray(at, at + take))
      at += take
      this.bytes += take
      if (this.bytes === partEnd) {
        this.partDigests.push(this.part.digest('base64'))
        this.part = createHash('sha256')
        this.index++
      }
    }
  }

  digest(): { whole: Buffer; partDigests: string[]; bytes: number } {
    return {
      whole: this.whole.digest(),
      partDigests: [...this.partDigests, this.part.digest('base64')],
      bytes: this.bytes
    }
  }
}

/** Both hashes on this thread, in one read (small files). */
async function hashHere(
  filePath: string,
  parts: PartRange[]
): Promise<{ whole: Buffer; partDigests: string[]; bytes: number }> {
  const hasher = new StreamHasher(parts)
  const handle = await open(filePath, 'r')
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK)
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, hasher.bytes)
      if (bytesRead === 0) break
      hasher.update(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead))
    }
  } finally {
    await handle.close()
  }
  return hasher.digest()
}
