/** src/upload/parts.ts: the part layout. */
import { describe, expect, test } from '@jest/globals'
import { effectivePartSize, layoutParts } from '../../../src/upload/parts.js'

const MIB = 1024 * 1024

describe('parts', () => {
  test('no empty trailing part on an exact multiple', () => {
    const parts = layoutParts(10 * MIB, 5 * MIB)
    expect(parts).toEqual([
      { number: 1, start: 0, end: 5 * MIB },
      { number: 2, start: 5 * MIB, end: 10 * MIB }
    ])
  })
  test('last part holds the remainder; ranges contiguous', () => {
    const parts = layoutParts(11 * MIB + 3, 5 * MIB)
    expect(parts.map(p => p.end - p.start)).toEqual([5 * MIB, 5 * MIB, MIB + 3])
    parts.slice(1).forEach((p, i) => expect(p.start).toBe(parts[i].end))
  })
  test('an empty file is one empty part', () => {
    expect(layoutParts(0, 16 * MIB)).toEqual([{ number: 1, start: 0, end: 0 }])
  })
  test('part size is raised to stay within 10,000 parts', () => {
    const size = 200 * 1024 * MIB // 200 GiB
    const partSize = effectivePartSize(size, 16 * MIB)
    expect(partSize).toBeGreaterThan(16 * MIB)
    expect(partSize % MIB).toBe(0)
    expect(layoutParts(size, partSize).length).toBeLessThanOrEqual(10_000)
    expect(effectivePartSize(100 * MIB, 16 * MIB)).toBe(16 * MIB)
  })
})
