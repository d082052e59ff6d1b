/**
 * A network model for the S3 endpoint, so the bench can measure the action on a path that looks
 * like a real one instead of loopback: each connection carries at most so many bytes per second
 * (a TCP stream bounded by window / RTT), all connections together at most so many, and every
 * request waits one added round trip (a new connection one more, its handshake). Off by
 * default; correctness tests never turn it on.
 *
 * Bandwidth is enforced on the receiving side, by pausing the request stream: TCP's flow
 * control then slows the sender, as a slow path would. The pacing is a token bucket in
 * virtual time (a chunk may go when the bucket's clock has caught up with it), so a timer that
 * fires late is made up by the next chunks instead of slowing the stream down: the long-run
 * rate is the configured one on a loaded machine too.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

export interface S3Network {
  /** Most request-body bytes per second on one connection; null = unlimited. */
  connectionBytesPerSec: number | null
  /** Most request-body bytes per second across all connections; null = unlimited. */
  totalBytesPerSec: number | null
  /** Added to every S3 request (one round trip); a connection's first request waits twice. */
  rttMs: number
  /**
   * Bench only: believe each part's signed x-amz-checksum-sha256 instead of hashing the body
   * (the ETag is then derived from that checksum and the size). Lets a benchmark measure the
   * client rather than the emulator's own MD5 + SHA-256 of every byte; BadDigest is never
   * answered in this mode, so correctness tests must not use it.
   */
  trustChecksums: boolean
}

export const NO_NETWORK_MODEL: S3Network = {
  connectionBytesPerSec: null,
  totalBytesPerSec: null,
  rttMs: 0,
  trustChecksums: false
}

/** Validates a partial update; throws with a message naming the bad field. */
export function checkNetwork(n: Partial<S3Network>): Partial<S3Network> {
  for (const key of ['connectionBytesPerSec', 'totalBytesPerSec'] as const) {
    const v = n[key]
    if (v !== undefined && v !== null && !(Number.isFinite(v) && v > 0)) {
      throw new Error(`${key} must be a positive number of bytes per second, or null`)
    }
  }
  if (n.rttMs !== undefined && !(Number.isFinite(n.rttMs) && n.rttMs >= 0)) {
    throw new Error('rttMs must be a non-negative number of milliseconds')
  }
  if (n.trustChecksums !== undefined && typeof n.trustChecksums !== 'boolean') {
    throw new Error('trustChecksums must be a boolean')
  }
  return n
}

/**
 * A token bucket in virtual time. `clock` is when everything reserved so far has gone through;
 * an idle bucket banks at most `burstMs` of credit. When our own timer resumed a paused stream
 * late (a loaded machine), late() forgives that much once, so the stream gets back on schedule
 * instead of losing the time: the long-run rate is the configured one.
 */
export class Bucket {
  private clock = -Infinity
  private forgiven = 0

  constructor(
    private readonly bytesPerMs: number,
    private readonly burstMs = 25
  ) {}

  /** Reserves `bytes` at time `now`; returns how long (ms) to wait before taking more. */
  reserve(bytes: number, now: number): number {
    const credit = Math.max(this.burstMs, this.forgiven)
    this.forgiven = 0
    this.clock = Math.max(this.clock, now - credit) + bytes / this.bytesPerMs
    return Math.max(0, this.clock - now)
  }

  /** Our timer resumed the stream `ms` after it was due (capped at 1 s). */
  late(ms: number): void {
    this.forgiven = Math.min(1000, Math.max(0, ms))
  }
}

/**
 * Below this a pause is not worth a timer: the stream runs ahead of its clock by less, and
 * fewer timers keep the emulator cheap at hundreds of MB/s.
 */
const MIN_PAUSE_MS = 10

export class Network {
  private settings: S3Network
  private total: Bucket | null = null
  /** Per connection: its bucket (rebuilt when the rate changes) and whether it was used. */
  private readonly sockets = new WeakMap<Socket, { bucket: Bucket | null; rate: number | null }>()

  constructor(initial: Partial<S3Network> = {}) {
    this.settings = { ...NO_NETWORK_MODEL }
    this.set(initial)
  }

  get(): S3Network {
    return { ...this.settings }
  }

  /** Applies the fields of `update` that are not undefined. */
  set(update: Partial<S3Network>): void {
    checkNetwork(update)
    const defined = Object.entries(update).filter(([, v]) => v !== undefined)
    this.settings = { ...this.settings, ...(Object.fromEntries(defined) as Partial<S3Network>) }
    if (update.totalBytesPerSec !== undefined) {
      const total = update.totalBytesPerSec
      this.total = total === null ? null : new Bucket(total / 1000)
    }
  }

  get trustChecksums(): boolean {
    return this.settings.trustChecksums
  }

  /** The added delay before this request is handled: one RTT, two on a new connection. */
  delayFor(req: IncomingMessage): number {
    const known = this.sockets.has(req.socket)
    this.connection(req.socket)
    return this.settings.rttMs * (known ? 1 : 2)
  }

  /**
   * Paces a request body as it is read: call from the 'data' handler after using the chunk.
   * Pauses the request (and so, through TCP, the sender) until the bytes may have passed.
   */
  pace(req: IncomingMessage, bytes: number): void {
    const conn = this.connection(req.socket)
    if (!conn.bucket && !this.total) return
    const now = performance.now()
    const wait = Math.max(
      conn.bucket?.reserve(bytes, now) ?? 0,
      this.total?.reserve(bytes, now) ?? 0
    )
    if (wait < MIN_PAUSE_MS) return
    req.pause()
    const due = now + wait
    setTimeout(() => {
      // Time our timer lost (a busy machine) is not the sender's: catch up on it.
      const late = performance.now() - due
      conn.bucket?.late(late)
      this.total?.late(late)
      req.resume()
    }, wait)
  }

  private connection(socket: Socket): { bucket: Bucket | null; rate: number | null } {
    const rate = this.settings.connectionBytesPerSec
    let conn = this.sockets.get(socket)
    if (!conn || conn.rate !== rate) {
      conn = { bucket: rate === null ? null : new Bucket(rate / 1000), rate }
      this.sockets.set(socket, conn)
    }
    return conn
  }
}
