/** src/units.ts: sizes and durations as users write them. */
import { describe, expect, test } from '@jest/globals'
import { formatBytes, parseDuration, parseSize } from '../../src/units.js'

const MIB = 1024 * 1024

describe('units', () => {
  test.each([
    ['16MiB', 16 * MIB],
    ['5 MB', 5_000_000],
    ['1GiB', 1024 * MIB],
    ['10000000', 10_000_000],
    ['1.5KiB', 1536]
  ])('size %s', (text, bytes) => expect(parseSize(text)).toBe(bytes))
  test.each(['', 'MiB', '-5MiB', '5 parsecs'])('bad size %j', text =>
    expect(parseSize(text)).toBeNull()
  )
  test.each([
    ['0', 0],
    ['90d', 90 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['30m', 30 * 60_000]
  ])('duration %s', (text, ms) => expect(parseDuration(text)).toBe(ms))
  test('bad duration', () => expect(parseDuration('soon')).toBeNull())
})

describe('formatBytes', () => {
  test('a rate under 1 KiB is whole bytes, never a raw float', () => {
    expect(formatBytes(21 / 0.28)).toBe('75 B')
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023.6)).toBe('1024 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
  })
})
