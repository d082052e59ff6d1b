/**
 * `concurrency: auto`'s control loop (pure, driven by a simulated clock and a fluid model of a
 * network: per-connection caps, an aggregate cap, a round trip per part). No timing of real
 * code: the clock is the simulation's.
 */
import { describe, expect, test } from '@jest/globals'
import {
  AUTO_INITIAL,
  AUTO_MAX,
  AutoConcurrency,
  type PartToken
} from '../../../src/upload/auto-concurrency.js'

const MB = 1000 // bytes per ms, per MB/s
const PART = 16 * 1024 * 1024

interface Network {
  /** Bytes per ms per connection (each part's own cap varies ±jitter around it). */
  perConn: number
  /** Bytes per ms across all connections; may depend on how many parts are in flight. */
  total: number | ((inFlight: number) => number)
  rttMs: number
  parts: number
  partBytes?: number
  jitter?: number
}

interface Outcome {
  ms: number
  bytes: number
  limits: number[]
  maxInFlight: number
  control: AutoConcurrency
}

/**
 * Event-driven fluid simulation: parts in flight share the total max-min fairly, each capped at
 * its connection's rate; a part that has sent its bytes waits one RTT for S3's answer.
 */
function simulate(
  net: Network,
  control?: AutoConcurrency,
  clock: { t: number } = { t: 0 }
): Outcome {
  const ctl = control ?? new AutoConcurrency({ now: () => clock.t })
  const partBytes = net.partBytes ?? PART
  let seed = 7
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  interface Part {
    left: number
    rtt: number
    cap: number
    token: PartToken
  }
  const active: Part[] = []
  const limits = [ctl.limit]
  let started = 0
  let done = 0
  let maxInFlight = 0
  const fill = () => {
    while (active.length < ctl.limit && started < net.parts) {
      started++
      const cap = net.perConn * (1 + (net.jitter ?? 0.1) * (2 * random() - 1))
      active.push({ left: partBytes, rtt: net.rttMs, cap, token: ctl.start() })
    }
    maxInFlight = Math.max(maxInFlight, active.length)
  }
  fill()
  while (done < net.parts) {
    const sending = active.filter(p => p.left > 0)
    const total = typeof net.total === 'function' ? net.total(active.length) : net.total
    const caps = sending.map(p => p.cap).sort((a, b) => a - b)
    let left = total
    let share = Infinity
    for (let i = 0; i < caps.length; i++) {
      const fair = left / (caps.length - i)
      if (caps[i] > fair) {
        share = fair
        break
      }
      left -= caps[i]
    }
    const rate = (p: Part) => Math.min(p.cap, share)
    const dt = Math.min(...active.map(p => (p.left > 0 ? p.left / rate(p) : p.rtt)))
    clock.t += dt
    for (const p of active) {
      if (p.left > 0) p.left = Math.max(0, p.left - rate(p) * dt - 1e-6)
      else p.rtt -= dt
    }
    for (let i = active.length - 1; i >= 0; i--) {
      if (active[i].left === 0 && active[i].rtt <= 1e-9) {
        const [p] = active.splice(i, 1)
        done++
        ctl.finish(p.token, partBytes, true)
      }
    }
    fill()
    if (ctl.limit !== limits[limits.length - 1]) limits.push(ctl.limit)
  }
  return { ms: clock.t, bytes: net.parts * partBytes, limits, maxInFlight, control: ctl }
}

const mbps = (o: Outcome) => o.bytes / o.ms / MB

describe('AutoConcurrency (simulated networks)', () => {
  test('per-connection bound (25 MB/s each, no shared cap): grows to the ceiling of 64', () => {
    const o = simulate({ perConn: 25 * MB, total: Infinity, rttMs: 30, parts: 256 })
    expect(o.limits[0]).toBe(AUTO_INITIAL)
    expect(Math.max(...o.limits)).toBe(AUTO_MAX)
    expect(o.maxInFlight).toBeLessThanOrEqual(AUTO_MAX)
    expect(o.control.limit).toBe(AUTO_MAX)
  })

  test('an aggregate cap (25 MB/s each, 400 MB/s in all): ≥ 90 % of the cap, one doubling at most', () => {
    for (const parts of [64, 256]) {
      const o = simulate({ perConn: 25 * MB, total: 400 * MB, rttMs: 30, parts })
      expect(mbps(o)).toBeGreaterThanOrEqual(0.9 * 400)
      expect(o.control.limit).toBeGreaterThanOrEqual(16) // the knee: 400 ÷ 25
      expect(o.control.limit).toBeLessThan(2 * AUTO_INITIAL)
      expect(o.maxInFlight).toBeLessThanOrEqual(2 * AUTO_INITIAL)
    }
  })

  test('one shared bottleneck (loopback: the receiver’s core): does not grow past one probe', () => {
    const o = simulate({ perConn: Infinity, total: 340 * MB, rttMs: 0.2, parts: 128 })
    expect(mbps(o)).toBeGreaterThan(0.99 * 340)
    expect(o.control.limit).toBeLessThanOrEqual(2 * AUTO_INITIAL)
    expect(o.maxInFlight).toBeLessThanOrEqual(2 * AUTO_INITIAL)
  })

  test('a setting that makes things slower is undone', () => {
    // Contention: past 16 parts in flight, every extra one costs 2 % of the total.
    const total = (n: number) => 400 * MB * Math.max(0.2, 1 - 0.02 * Math.max(0, n - 16))
    const o = simulate({ perConn: 100 * MB, total, rttMs: 10, parts: 200 })
    expect(o.limits).toContain(2 * AUTO_INITIAL)
    expect(o.control.limit).toBeLessThanOrEqual(AUTO_INITIAL)
    expect(o.control.describe()).toMatch(new RegExp(`slower→${AUTO_INITIAL}`))
  })

  test('a slow uplink (20 MB/s in all) keeps the limit low and loses nothing', () => {
    const o = simulate({ perConn: 5 * MB, total: 20 * MB, rttMs: 80, parts: 40 })
    expect(mbps(o)).toBeGreaterThan(0.97 * 20)
    expect(o.control.limit).toBeLessThanOrEqual(2 * AUTO_INITIAL)
  })

  test('fewer parts than places: nothing to learn, the limit stays', () => {
    const o = simulate({ perConn: 25 * MB, total: Infinity, rttMs: 30, parts: 3 })
    expect(o.limits).toEqual([AUTO_INITIAL])
  })

  test('a retried part halves the limit, once per part duration, never below 1', () => {
    let t = 0
    const c = new AutoConcurrency({ now: () => t, initial: 32 })
    c.retried()
    expect(c.limit).toBe(16)
    t += 500
    c.retried() // the same burst of failures
    expect(c.limit).toBe(16)
    for (let i = 0; i < 10; i++) {
      t += 1000
      c.retried()
    }
    expect(c.limit).toBe(1)
    expect(c.describe()).toMatch(/retry→16/)
  })

  test('after a back-off it grows again, additively, when parts go through', () => {
    const clock = { t: 0 }
    const c = new AutoConcurrency({ now: () => clock.t, initial: 16 })
    c.retried()
    expect(c.limit).toBe(8)
    const o = simulate({ perConn: 25 * MB, total: Infinity, rttMs: 30, parts: 400 }, c, clock)
    expect(o.control.limit).toBeGreaterThan(8)
    // No doubling after a failure: probes of +25 %.
    const steps = o.limits.slice(1)
    for (let i = 1; i < steps.length; i++) {
      expect(steps[i]).toBeLessThanOrEqual(Math.ceil(steps[i - 1] * 1.25))
    }
  })

  test('options are clamped; failed parts are not measured', () => {
    let t = 0
    const c = new AutoConcurrency({ now: () => t, initial: 500, max: 64 })
    expect(c.limit).toBe(64)
    for (let i = 0; i < 100; i++) {
      const token = c.start()
      t += 10
      c.finish(token, 1000, false)
    }
    expect(c.limit).toBe(64)
    expect(c.describe()).toMatch(/unchanged/)
  })
})
