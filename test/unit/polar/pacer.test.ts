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

  test('after a 429: Retry-After, then a lower pace and a smaller burst', async () => {
    const { t, pacer } = virtual(100)
    for (let i = 0; i < 30; i++) await pacer.take()
    pacer.throttled(2000)
    expect(pacer.pace()).toBeLessThanOrEqual(50)
    const from = t.clock
    const sent: number[] = []
    for (let i = 0; i < 40; i++) {
      await pacer.take()
      sent.push(t.clock - from)
    }
    expect(sent[0]).toBeGreaterThanOrEqual(2000)
    // No burst of half the budget again: the second request already waits for the pace.
    expect(sent[1]).toBeGreaterThan(sent[0])
    expect(busiest(sent)).toBeLessThanOrEqual(50)
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
