/** The part pools that apply a concurrency limit: fixed, and adaptive under `auto`'s control. */
import { describe, expect, test } from '@jest/globals'
import { AUTO_INITIAL, AUTO_MAX, AutoConcurrency } from '../../../src/upload/auto-concurrency.js'
import {
  AdaptivePool,
  connectionsFor,
  createPartPool,
  FixedPool
} from '../../../src/upload/pool.js'

describe('part pools', () => {
  test('fixed concurrency is a plain limiter; auto is adaptive; connections follow', () => {
    const fixed = createPartPool(8)
    expect(fixed).toBeInstanceOf(FixedPool)
    expect(fixed.limit).toBe(8)
    const auto = createPartPool('auto')
    expect(auto).toBeInstanceOf(AdaptivePool)
    expect(auto.limit).toBe(AUTO_INITIAL)
    expect(connectionsFor(8)).toBe(8)
    expect(connectionsFor('auto')).toBe(AUTO_MAX)
  })

  test('AdaptivePool never runs more than the limit, in arrival order, and passes errors on', async () => {
    const t = 0
    const control = new AutoConcurrency({ now: () => t, initial: 2 })
    const pool = new AdaptivePool(control)
    let running = 0
    let most = 0
    const order: number[] = []
    const gates: (() => void)[] = []
    const tasks = Array.from({ length: 6 }, (_, i) =>
      pool.run(async () => {
        running++
        most = Math.max(most, running)
        order.push(i)
        await new Promise<void>(resolve => gates.push(resolve))
        running--
        if (i === 3) throw new Error('part 3 failed')
        return i
      }, 100)
    )
    const all = Promise.allSettled(tasks)
    for (let i = 0; i < 6; i++) {
      await new Promise(resolve => setImmediate(resolve))
      gates.shift()?.()
    }
    await new Promise(resolve => setImmediate(resolve))
    while (gates.length) {
      gates.shift()!()
      await new Promise(resolve => setImmediate(resolve))
    }
    const settled = await all
    expect(most).toBe(2)
    expect(order).toEqual([0, 1, 2, 3, 4, 5])
    expect(settled[3]).toMatchObject({ status: 'rejected' })
    expect(settled.filter(s => s.status === 'fulfilled')).toHaveLength(5)
  })

  test('AdaptivePool lets waiters in at once when the limit grows', async () => {
    let t = 0
    const control = new AutoConcurrency({ now: () => t, initial: 2 })
    const pool = new AdaptivePool(control)
    const gates = new Map<number, () => void>()
    let running = 0
    const tasks = Array.from({ length: 10 }, (_, i) =>
      pool.run(async () => {
        running++
        await new Promise<void>(resolve => gates.set(i, resolve))
        running--
      }, 1_000_000)
    )
    const tick = () => new Promise(resolve => setImmediate(resolve))
    await tick()
    expect(running).toBe(2)
    t = 100
    gates.get(0)!()
    gates.get(1)!()
    await tick()
    expect(running).toBe(2)
    t = 200
    gates.get(2)!()
    gates.get(3)!() // the fourth sample of a saturated round: slow start doubles
    await tick()
    expect(control.limit).toBe(4)
    expect(running).toBe(4)
    for (let i = 4; i < 10; i++) {
      t += 100
      gates.get(i)!()
      await tick()
    }
    await Promise.all(tasks)
  })
})
