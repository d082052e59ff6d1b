import type { Logger } from './log.js'
import { formatBytes } from './units.js'

/**
 * Progress lines for long uploads: bytes as they are sent, %, and the rate since the last line
 * (not since the file was queued: a file waiting for a slot or a part in a retry would drag
 * an average down), at most every `everyMs`.
 */
export class Progress {
  private readonly files = new Map<
    string,
    { total: number; sent: number; lastSent: number; lastAt: number | null }
  >()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 5000
  ) {}

  start(name: string, total: number): void {
    this.files.set(name, { total, sent: 0, lastSent: 0, lastAt: null })
    if (!this.timer) {
      this.timer = setInterval(() => this.print(), this.everyMs)
      this.timer.unref()
    }
  }

  add(name: string, bytes: number): void {
    const f = this.files.get(name)
    if (!f) return
    f.lastAt ??= Date.now() // the rate counts from the first byte sent
    f.sent = Math.max(0, f.sent + bytes)
  }

  finish(name: string): void {
    this.files.delete(name)
    if (this.files.size === 0) this.stop()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private print(): void {
    const now = Date.now()
    for (const [name, f] of this.files) {
      if (f.lastAt === null) {
        this.logger.info(`${name}: waiting to start (${formatBytes(f.total)})`)
        continue
      }
      const pct = f.total ? Math.floor((f.sent / f.total) * 100) : 100
      const seconds = (now - f.lastAt) / 1000
      const rate = seconds > 0 ? Math.max(0, f.sent - f.lastSent) / seconds : 0
      f.lastSent = f.sent
      f.lastAt = now
      this.logger.info(
        `${name}: ${formatBytes(f.sent)} / ${formatBytes(f.total)} (${pct}%), ${formatBytes(rate)}/s`
      )
    }
  }
}
