import { describe, expect, test } from '@jest/globals'
import {
  compareVersions,
  earlierVersions,
  findUnchanged,
  higherVersions,
  isEarlier,
  isNewer,
  isOlder,
  relabel,
  type Published
} from '../../src/replace.js'
import { fileReads } from '../support/fixtures.js'

const file = fileReads(n => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`)

describe('earlierVersions', () => {
  const old1 = file('app.zip', '2026-01-01T00:00:00Z')
  const old2 = file('app.zip', '2026-02-01T00:00:00Z')
  const other = file('other.zip', '2026-01-01T00:00:00Z')
  const media = file('app.zip', '2026-01-01T00:00:00Z', { service: 'product_media' })
  const reused = file('app.zip', '2026-03-01T00:00:00Z')
  const newer = file('app.zip', '2026-04-01T00:00:00Z')
  const all = [old1, old2, other, media, reused, newer]
  const mine = (f: Partial<Published> = {}): Published => ({
    id: 'new',
    name: 'app.zip',
    createdAt: null,
    version: null,
    ...f
  })

  test('a new upload replaces every listed same-name downloadable, oldest first', () => {
    expect(earlierVersions(mine(), [old2, old1, other, media]).map(f => f.id)).toEqual([
      old1.id,
      old2.id
    ])
  })
  test('a reused file replaces only older ones, never itself or a newer one', () => {
    const ids = earlierVersions(mine({ id: reused.id, createdAt: reused.created_at }), all).map(
      f => f.id
    )
    expect(ids).toEqual([old1.id, old2.id])
    expect(ids).not.toContain(newer.id)
  })
  test('a higher version is never an earlier version, whatever its age', () => {
    const v110 = file('app.zip', '2026-01-01T00:00:00Z', { version: 'v1.1.0' })
    const v104 = file('app.zip', '2026-01-02T00:00:00Z', { version: '1.0.4' })
    const nightly = file('app.zip', '2026-01-03T00:00:00Z', { version: 'nightly' })
    const backport = mine({ version: 'v1.0.5', createdAt: '2026-02-01T00:00:00Z' })
    expect(earlierVersions(backport, [v110, v104, nightly]).map(f => f.id)).toEqual([
      v104.id,
      nightly.id // not comparable: created-at order decides
    ])
    expect(higherVersions(backport, [v110, v104, nightly]).map(f => f.id)).toEqual([v110.id])
    expect(isEarlier(v110, backport)).toBe(false)
  })
  test('a lower version created after the new file is left alone (created-at rule)', () => {
    const later = file('app.zip', '2026-05-01T00:00:00Z', { version: 'v1.0.0' })
    expect(isEarlier(later, mine({ version: 'v2.0.0', createdAt: '2026-04-01T00:00:00Z' }))).toBe(
      false
    )
  })
})

describe('version order against creation order', () => {
  const mine = (f: Partial<Published>): Published => ({
    id: 'new',
    name: 'app.zip',
    createdAt: '2026-03-01T00:00:00Z',
    version: null,
    ...f
  })
  test('a backport published after the newest release: displaced by it, never deleted by it', () => {
    const newest = mine({ id: 'x', version: 'v1.1.0', createdAt: '2026-03-01T00:00:00Z' })
    const backport = file('app.zip', '2026-03-01T00:00:01Z', { version: 'v1.0.1' })
    expect(isOlder(backport, newest)).toBe(true)
    expect(isEarlier(backport, newest)).toBe(false)
    expect(isNewer(backport, newest)).toBe(false)
  })
  test('equal or unparseable versions: created first is older; ties broken by time, then ID', () => {
    const a = file('app.zip', '2026-03-01T00:00:00.000001Z', { version: 'v2' })
    const b = mine({ id: 'zz', version: 'v2', createdAt: '2026-03-01T00:00:00.000002Z' })
    expect(isOlder(a, b)).toBe(true)
    expect(isOlder(file('app.zip', b.createdAt!, { id: 'aa', version: 'v2' }), b)).toBe(true)
  })
  test('reusing an older identical build: only when it comes out on top after its relabel', () => {
    const old = file('app.zip', '2026-01-01T00:00:00Z', {
      checksum_sha256_hex: 'ab',
      version: 'v1.0.0'
    })
    const newer = file('app.zip', '2026-02-01T00:00:00Z', {
      checksum_sha256_hex: 'cd',
      version: 'v1.1.0'
    })
    expect(findUnchanged('app.zip', 'ab', [old, newer], 'v1.2.0')?.id).toBe(old.id)
    expect(findUnchanged('app.zip', 'ab', [old, newer], 'v1.0.5')).toBeUndefined()
  })
})

describe('compareVersions and relabel', () => {
  test.each([
    ['v1.1.0', '1.0.5', 1],
    ['1.0.0-rc.1', 'v1.0.0', -1],
    ['V2.0.0', 'v2.0.0', 0],
    ['nightly', 'v1.0.0', null],
    [null, 'v1.0.0', null]
  ])('%s vs %s', (a, b, expected) => {
    const order = compareVersions(a, b)
    expect(order === null ? null : Math.sign(order)).toBe(expected)
  })
  test('a reuse never lowers a label; it raises or sets it', () => {
    expect(relabel('v1.1.0', 'v1.0.5')).toBeNull()
    expect(relabel('v1.0.0', 'v1.0.5')).toBe('v1.0.5')
    expect(relabel(null, 'v1.0.5')).toBe('v1.0.5')
    expect(relabel('nightly', 'v1.0.5')).toBe('v1.0.5')
    expect(relabel('v1.0.5', 'v1.0.5')).toBeNull()
    expect(relabel('v1.0.5', null)).toBeNull()
  })
})

describe('findUnchanged', () => {
  test('the newest file with the same name and SHA-256', () => {
    const a = file('app.zip', '2026-01-01T00:00:00Z', { checksum_sha256_hex: 'ab' })
    const b = file('app.zip', '2026-02-01T00:00:00Z', { checksum_sha256_hex: 'ab' })
    const c = file('app.zip', '2026-03-01T00:00:00Z', { checksum_sha256_hex: 'cd' })
    expect(findUnchanged('app.zip', 'ab', [a, b])?.id).toBe(b.id)
    expect(findUnchanged('app.zip', 'ef', [a, b, c])).toBeUndefined()
    // A revert to an older build: reusing b would leave the newer, different c in place.
    expect(findUnchanged('app.zip', 'ab', [a, b, c])).toBeUndefined()
    const onlyBase64 = file('app.zip', '2026-04-01T00:00:00Z', {
      checksum_sha256_base64: Buffer.from('abcd', 'hex').toString('base64')
    })
    expect(findUnchanged('app.zip', 'abcd', [onlyBase64])?.id).toBe(onlyBase64.id)
  })
})
