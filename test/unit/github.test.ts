/** The release source's pure parts: asset selection, digests, rate-limit waits, checksums text. */
import { describe, expect, test } from '@jest/globals'
import { rateLimitWait } from '../../src/github/client.js'
import { digestHex, selectAssets, type Asset } from '../../src/github/select.js'
import { checksumsText } from '../../src/report.js'

let id = 0
const asset = (name: string, state = 'uploaded'): Asset => ({
  id: ++id,
  name,
  size: 1,
  state,
  digest: null
})

describe('selectAssets', () => {
  const assets = [
    asset('app.zip'),
    asset('app.dmg', 'starter'),
    asset('app-debug.zip'),
    asset('notes.txt')
  ]
  test('empty files selects every asset, sorted by name', () => {
    expect(selectAssets(assets, []).chosen.map(a => a.name)).toEqual([
      'app-debug.zip',
      'app.dmg',
      'app.zip',
      'notes.txt'
    ])
  })
  test('patterns with braces and excludes; unmatched lines and pending assets named', () => {
    const s = selectAssets(assets, ['*.{zip,dmg}', '!*-debug.*', '*.exe'])
    expect(s.chosen.map(a => a.name)).toEqual(['app.dmg', 'app.zip'])
    expect(s.unmatched).toEqual(['*.exe'])
    expect(s.pending.map(a => a.name)).toEqual(['app.dmg'])
  })
  test('digests: sha256 only, lowercased', () => {
    expect(digestHex(`sha256:${'AB'.repeat(32)}`)).toBe('ab'.repeat(32))
    expect(digestHex(null)).toBeNull()
    expect(digestHex(`sha512:${'ab'.repeat(64)}`)).toBeNull()
  })
})

describe('rateLimitWait', () => {
  const err = (status: number, headers: Record<string, string>, message = 'x') => ({
    status,
    message,
    response: { headers, data: { message } }
  })
  test('a permission 403 is not a rate limit', () => {
    expect(rateLimitWait(err(403, {}, 'Resource not accessible by integration'))).toBeNull()
  })
  test('secondary limits: retry-after, else a minute', () => {
    const msg = 'You have exceeded a secondary rate limit.'
    expect(rateLimitWait(err(403, { 'retry-after': '3' }, msg))).toBe(3000)
    expect(rateLimitWait(err(403, {}, msg))).toBe(60_000)
    expect(rateLimitWait(err(429, {}))).toBe(60_000)
  })
  test('a primary limit waits until the reset', () => {
    const now = 1_000_000_000_000
    const headers = { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 42) }
    expect(rateLimitWait(err(403, headers), now)).toBe(42_000)
  })
})

describe('checksumsText', () => {
  test('sha256sum format: sorted by name, two spaces, LF, a final LF; GNU escapes', () => {
    const a = 'a'.repeat(64)
    const b = 'b'.repeat(64)
    const c = 'c'.repeat(64)
    expect(
      checksumsText([
        { name: 'b.zip', sha256: b },
        { name: 'A.zip', sha256: a },
        { name: 'odd\\name\n.txt', sha256: c }
      ])
    ).toBe(`${a}  A.zip\n${b}  b.zip\n\\${c}  odd\\\\name\\n.txt\n`)
    expect(checksumsText([])).toBe('')
  })
})
