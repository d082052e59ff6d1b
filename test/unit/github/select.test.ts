/** src/github/select.ts: asset selection and digests. */
import { describe, expect, test } from '@jest/globals'
import { digestHex, selectAssets, type Asset } from '../../../src/github/select.js'

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
