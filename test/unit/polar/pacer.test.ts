/** src/polar/pacer.ts: the request pacer. */
import { describe, expect, test } from '@jest/globals'
import { Pacer } from '../../../src/polar/pacer.js'

describe('Pacer', () => {
  test('never exceeds the per-minute budget in any window', async () => {
    let clock = 0
    const sent: number[] = []
    const pacer = new Pacer(
      120,
      () => clock,
      async ms => {
        clock += ms
      }
    )
    for (let i = 0; i < 300; i++) {
      await pacer.take()
      sent.push(clock)
    }
    for (let i = 0; i < sent.length; i++) {
      const inWindow = sent.filter(t => t >= sent[i] && t < sent[i] + 60_000).length
      expect(inWindow).toBeLessThanOrEqual(120)
    }
    // …and is not needlessly slow: 300 requests at 120/min take about 2.5 minutes.
    expect(clock).toBeLessThan(160_000)
  })
  /** A pacer on a virtual clock: sleeping advances it. */
  const virtual = (perMinute: number) => {
    const t = { clock: 0 }
    const pacer = new Pacer(
      perMinute,
      () => t.clock,
      async ms => {
        t.clock += ms
      }
    )
    return { t, pacer }
  }
  /** The most sends any window of `ms` holds (windows start at a send: that is where the most fit). */
  const busiest = (sent: number[], ms = 60_000) =>
    Math.max(...sent.map(start => sent.filter(x => x >= start && x < start + ms).length))

  test('a small release goes out at once: up to half the budget without waiting', async () => {
    const { t, pacer } = virtual(100)
    for (let i = 0; i < 50; i++) await pacer.take()
    expect(t.clock).toBe(0)
    await pacer.take()
    expect(t.clock).toBeGreaterThan(0)
  })

  test('bursts after idle spells, concurrent callers, pairs: no 60 s window over the budget', async () => {
    for (const budget of [100, 500]) {
      const { t, pacer } = virtual(budget)
      const sent: number[] = []
      let seed = budget
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
      for (let round = 0; round < 40; round++) {
        // Idle for a while (the bucket refills), then a burst of callers at once, some taking two.
        t.clock += Math.floor(random() * 40_000)
        const callers = Array.from({ length: 5 + Math.floor(random() * budget) }, () =>
          random() < 0.2 ? 2 : 1
        )
        await Promise.all(
          callers.map(n => pacer.take(n).then(() => sent.push(...Array(n).fill(t.clock))))
        )
      }
      sent.sort((a, b) => a - b)
      expect(busiest(sent)).toBeLessThanOrEqual(budget)
      // Not needlessly slow either: over the whole run, close to the budget's rate.
      const minutes = (sent[sent.length - 1] - sent[0]) / 60_000
      expect(sent.length / Math.ceil(minutes + 1)).toBeGreaterThan(0.5 * budget)
    }
  })

  test('requests still in flight at the first 429 are not counted in the share: they ran into the dry window too', async () => {
    const counted = virtual(100).pacer
    const excluded = virtual(100).pacer
    for (let i = 0; i < 30; i++) {
      await counted.take()
      await excluded.take()
    }
    counted.throttled(2000)
    excluded.throttled(2000, 5) // five more were sent and are still unanswered
    // 29 accepted (the 429'd one spent nothing) against 24: four such jobs fit one fresh window.
    expect(counted.pace()).toBeCloseTo((0.9 * 29) / (1 + 0), 0)
    expect(excluded.pace()).toBeCloseTo((0.9 * 24) / (1 + 0), 0)
    expect(4 * excluded.pace()).toBeLessThan(100)
  })

  test('after a 429: Retry-After, then its share of each window, never half the budget again', async () => {
    const { t, pacer } = virtual(100)
    for (let i = 0; i < 30; i++) await pacer.take()
    pacer.throttled(2000)
    // 30 sent before the budget ran dry: its share is about that (less a margin), at most half
    const share = pacer.pace()
    expect(share).toBeLessThanOrEqual(30)
    expect(share).toBeGreaterThan(20)
    const from = t.clock
    const sent: number[] = []
    for (let i = 0; i < 80; i++) {
      await pacer.take()
      sent.push(t.clock - from)
    }
    expect(sent[0]).toBeGreaterThanOrEqual(2000)
    // Its share of a window goes at once (Polar's window is fixed: the one that ran dry is over
    // once Retry-After has passed), then nothing more until that window has passed.
    const first = sent.filter(x => x === sent[0]).length
    expect(first).toBe(Math.floor(share))
    expect(sent[first] - sent[0]).toBeGreaterThanOrEqual(60_000)
    expect(busiest(sent)).toBeLessThanOrEqual(Math.ceil(pacer.pace()))
    expect(busiest(sent)).toBeLessThanOrEqual(50)
  })

  test('deep into a burst a request takes two places in flight: fewer 429s when the budget runs dry', async () => {
    const { t, pacer } = virtual(500)
    const weights: number[] = []
    for (let i = 0; i < 200; i++) {
      weights.push(pacer.weight())
      await pacer.take()
    }
    // A quarter of the budget at full width, the rest of the burst at half width…
    expect(weights.slice(0, 125).every(w => w === 1)).toBe(true)
    expect(weights.slice(125).every(w => w === 2)).toBe(true)
    // …and full width again once those sends have left the window.
    t.clock += 61_001
    expect(pacer.weight()).toBe(1)
  })

  test('under a small budget every request takes two places: five in flight at 100/min', async () => {
    const { pacer } = virtual(100)
    expect(pacer.weight()).toBe(2)
    await pacer.take()
    expect(pacer.weight()).toBe(2)
    expect(virtual(200).pacer.weight()).toBe(1)
  })

  test('a 429 pause holds every caller back', async () => {
    let clock = 0
    const pacer = new Pacer(
      6000,
      () => clock,
      async ms => {
        clock += ms
      }
    )
    pacer.throttled(5000)
    await pacer.take()
    expect(clock).toBeGreaterThanOrEqual(5000)
  })
})
