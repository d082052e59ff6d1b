/** src/upload/names.ts: the name template. */
import { describe, expect, test } from '@jest/globals'
import { renderName, splitName } from '../../../src/upload/names.js'

describe('names', () => {
  test('{ext} keeps its dot and compound tar extensions stay together', () => {
    expect(splitName('app.tar.gz')).toEqual({ stem: 'app', ext: '.tar.gz' })
    expect(splitName('app.zip')).toEqual({ stem: 'app', ext: '.zip' })
    expect(splitName('README')).toEqual({ stem: 'README', ext: '' })
    expect(renderName('{stem}-{version}{ext}', '/x/app.tar.gz', 'v1.0')).toBe('app-v1.0.tar.gz')
    expect(renderName('{basename}', '/x/My App+1 é.dmg', null)).toBe('My App+1 é.dmg')
    expect(renderName('{stem}-{version}.{ext}', '/x/app.tar.gz', 'v2')).toBe('app-v2.tar.gz')
    expect(renderName('{stem}-{version}.{ext}', '/x/LICENSE', 'v2')).toBe('LICENSE-v2')
  })
})
