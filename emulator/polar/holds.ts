/**
 * Holding API requests until N have arrived, so a test can make concurrent writers overlap for
 * certain instead of by lucky timing: e.g. three jobs' benefit PATCHes, each built from the same
 * read, held until all three are in, then applied one after another (the last writer wins).
 */
import { pathMatches } from '../common/faults.js'
import type { Hold } from './types.js'

interface Gate {
  hold: Hold
  waiting: (() => void)[]
  timer?: NodeJS.Timeout
}

export class Holds {
  private gates: Gate[] = []

  add(hold: Hold): void {
    if (!Number.isInteger(hold.count) || hold.count < 1) {
      throw new Error('hold.count must be a positive integer')
    }
    this.gates.push({ hold, waiting: [] })
  }

  /** Releases every request still held (a test that ends early must not leave sockets hanging). */
  clear(): void {
    for (const gate of this.gates) this.open(gate)
    this.gates = []
  }

  /**
   * Resolves when this request may go on: at once if no hold matches it, else when the hold's
   * `count` requests have arrived (or its timeout passed). Released in `order`, `gapMs` apart,
   * so the handlers run one after another in a known order.
   */
  wait(method: string, path: string): Promise<boolean> {
    const gate = this.gates.find(
      g =>
        g.waiting.length < g.hold.count &&
        (g.hold.method === undefined || g.hold.method.toUpperCase() === method) &&
        pathMatches(g.hold.path, path)
    )
    if (!gate) return Promise.resolve(false)
    const released = new Promise<boolean>(resolve => gate.waiting.push(() => resolve(true)))
    if (gate.waiting.length === gate.hold.count) this.open(gate)
    else if (!gate.timer) {
      gate.timer = setTimeout(() => this.open(gate), gate.hold.timeoutMs ?? 30_000)
    }
    return released
  }

  private open(gate: Gate): void {
    clearTimeout(gate.timer)
    this.gates = this.gates.filter(g => g !== gate)
    const order = gate.hold.order === 'reverse' ? [...gate.waiting].reverse() : gate.waiting
    const gap = gate.hold.gapMs ?? 20
    order.forEach((release, i) => setTimeout(release, i * gap))
  }
}
