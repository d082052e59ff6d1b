import { describe, expect, test } from '@jest/globals'
import { decideCleanup } from '../../../src/modes/cleanup.js'
import { parseInputs } from '../../../src/inputs.js'
import {
  addMonths,
  deprecationWarning,
  PIN_CHECKED_ON,
  PINNED_VERSION
} from '../../../src/polar/api-version.js'
import type { FileRead } from '../../../src/polar/types.js'
import { findUnchanged } from '../../../src/replace.js'
import { parseUnfinished, SavedSet } from '../../../src/post-state.js'

const at = (iso: string) => new Date(iso)

describe('the pin and its schedule', () => {
  test('one pin, with the date it was checked', () => {
    expect(PINNED_VERSION).toBe('2026-10')
    expect(PIN_CHECKED_ON).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(addMonths('2026-10', 3)).toBe('2027-01')
    expect(addMonths('2026-10', 6)).toBe('2027-04')
    expect(addMonths('2026-12', 1)).toBe('2027-01')
  })

  test('no warning while Current; from pin month + 3 it names the removal in pin month + 6', () => {
    expect(deprecationWarning('2026-10', true, at('2026-12-31T23:59:59Z'))).toBeNull()
    const jan = deprecationWarning('2026-10', true, at('2027-01-01T00:00:00Z'))
    expect(jan).toMatch(/2026-10.*deprecated: Polar will remove it in the first week of April 2027/)
    expect(jan).toContain('update polar-files-action')
    expect(deprecationWarning('2026-10', true, at('2027-03-31T12:00:00Z'))).toBe(jan)
    // Removed: the run's first call tells (fallback or strict failure), not the calendar.
    expect(deprecationWarning('2026-10', true, at('2027-04-02T00:00:00Z'))).toBeNull()
    const explicit = deprecationWarning('2026-04', false, at('2026-08-15T00:00:00Z'))
    expect(explicit).toMatch(/api-version.*first week of October 2026/)
  })
})

describe('api-version input', () => {
  const read = (values: Record<string, string>) => (name: string) =>
    ({ token: 'polar_oat_x', files: 'a', ...values })[name] ?? ''
  test('empty: the pin (null); YYYY-MM: kept; anything else fails naming the input', () => {
    expect(parseInputs(read({}), {}).apiVersion).toBeNull()
    expect(parseInputs(read({ 'api-version': '2027-01' }), {}).apiVersion).toBe('2027-01')
    for (const bad of ['2027-1', '2027-13', 'latest', '27-01']) {
      expect(() => parseInputs(read({ 'api-version': bad }), {})).toThrow(
        `Input 'api-version': '${bad}' is not a Polar API version`
      )
    }
  })
})

const f = (o: Partial<FileRead>): FileRead =>
  ({
    id: o.id ?? 'id',
    name: 'app.zip',
    service: 'downloadable',
    is_uploaded: true,
    version: null,
    checksum_sha256_hex: 'ab',
    checksum_sha256_base64: null,
    created_at: '2026-11-01T00:00:00Z',
    flagged_malicious_at: null,
    ...o
  }) as FileRead

describe('flagged files', () => {
  test('if-unchanged never reuses a flagged file', () => {
    const flagged = f({ id: 'bad', flagged_malicious_at: '2026-11-02T00:00:00Z' })
    expect(findUnchanged('app.zip', 'ab', [flagged])).toBeUndefined()
    const clean = f({ id: 'ok', created_at: '2026-10-01T00:00:00Z' })
    expect(findUnchanged('app.zip', 'ab', [clean, flagged])?.id).toBe('ok')
  })

  test('cleanup: not among keep, never deleted; keep 1 keeps the newest clean file', () => {
    const files = [
      f({ id: 'old', created_at: '2026-09-01T00:00:00Z' }),
      f({ id: 'clean', created_at: '2026-10-01T00:00:00Z' }),
      f({
        id: 'bad',
        created_at: '2026-11-01T00:00:00Z',
        flagged_malicious_at: '2026-11-01T01:00:00Z'
      })
    ]
    const d = decideCleanup(
      files,
      { names: ['*'], keep: 1, olderThanMs: 0, now: Date.now() },
      new Map()
    )
    expect(d.delete.map(x => x.id)).toEqual(['old'])
    expect(d.kept.map(k => [k.id, k.reason])).toEqual([
      ['bad', 'flagged as malicious (left for Polar’s review)'],
      ['clean', 'newest 1']
    ])
    const none = decideCleanup(
      files,
      { names: ['*'], keep: 0, olderThanMs: 0, now: Date.now() },
      new Map()
    )
    expect(none.delete.map(x => x.id).sort()).toEqual(['clean', 'old'])
  })
})

describe('post-step state', () => {
  test('saved at every change; read back tolerantly', () => {
    const saved: string[][] = []
    const set = new SavedSet(ids => saved.push(ids))
    set.add('a')
    set.add('b')
    set.add('a')
    set.delete('a')
    set.delete('zzz')
    expect(saved).toEqual([['a'], ['a', 'b'], ['b']])
    expect(parseUnfinished(JSON.stringify(['b']))).toEqual(['b'])
    expect(parseUnfinished('')).toEqual([])
    expect(parseUnfinished('not json')).toEqual([])
  })
})
