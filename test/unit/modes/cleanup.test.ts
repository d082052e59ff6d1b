/** Cleanup mode's decisions (today src/cleanup.ts). */
import { describe, expect, test } from '@jest/globals'
import { decideCleanup, nameSelector } from '../../../src/modes/cleanup.js'
import { fileReads } from '../../support/fixtures.js'

const file = fileReads(n => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`)

describe('cleanup decisions', () => {
  const now = Date.parse('2026-06-01T00:00:00Z')
  const day = 86_400_000
  const at = (daysAgo: number) => new Date(now - daysAgo * day).toISOString()
  const a1 = file('app.zip', at(100))
  const a2 = file('app.zip', at(50))
  const a3 = file('app.zip', at(5))
  const b1 = file('beta.zip', at(200))
  const b2 = file('beta.zip', at(1))
  const m = file('logo.png', at(300), { service: 'product_media' })
  const files = [a2, b1, a1, m, a3, b2]
  const ids = (fs: { id: string }[]) => fs.map(f => f.id).sort()

  test.each([
    [1, 0, [a1, a2, b1]],
    [2, 0, [a1]],
    [0, 60 * day, [a1, b1]],
    [1, 60 * day, [a1, b1]],
    [1, 150 * day, [b1]],
    [3, 0, []]
  ])('keep %i, older-than %i ms', (keep, olderThanMs, expected) => {
    const d = decideCleanup(files, { names: ['*'], keep, olderThanMs, now }, new Map())
    expect(ids(d.delete)).toEqual(ids(expected))
    expect(d.delete.map(f => f.id)).not.toContain(m.id)
  })
  test('names with excludes', () => {
    const d = decideCleanup(
      files,
      { names: ['*.zip', '!beta*'], keep: 1, olderThanMs: 0, now },
      new Map()
    )
    expect(ids(d.delete)).toEqual(ids([a1, a2]))
  })
  test('benefit-listed files are kept with the benefit named', () => {
    const d = decideCleanup(
      files,
      { names: ['*'], keep: 1, olderThanMs: 0, now },
      new Map([[a1.id, ['ben-1']]])
    )
    expect(ids(d.delete)).toEqual(ids([a2, b1]))
    expect(d.kept.find(k => k.id === a1.id)?.reason).toBe('in benefit ben-1')
  })
  test('name selector', () => {
    const sel = nameSelector(['app-*', '!app-*-debug.zip'])
    expect(sel('app-1.zip')).toBe(true)
    expect(sel('app-1-debug.zip')).toBe(false)
    expect(sel('other.zip')).toBe(false)
  })
})
