/**
 * dist/licenses.txt must carry the licence of every production dependency: the bundle has
 * several chunks (lazy `import()`s), and ncc's own notices cover one chunk only, so the file is
 * generated from the dependency tree by scripts/licenses.ts. These checks read the tree the way
 * npm marks it (the lockfile's `dev` flags), independently of the generator's own walk.
 */
import { describe, expect, test } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  bundledLocations,
  collectNotices,
  parseNotices,
  productionLocations,
  renderNotices
} from '../scripts/licenses.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const shipped = readFileSync(join(ROOT, 'dist/licenses.txt'), 'utf8')
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  lockfileVersion: number
  packages: Record<string, { version?: string; dev?: boolean; link?: boolean }>
}

/** `name@version` → location, for every installed package npm does not mark as dev-only. */
const production = new Map<string, string>()
for (const [location, entry] of Object.entries(lock.packages)) {
  if (location === '' || entry.dev || entry.link) continue
  const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length)
  production.set(`${name}@${entry.version}`, location)
}

describe('dist/licenses.txt', () => {
  const notices = parseNotices(shipped)

  test('the production tree is not empty (the check below is not vacuous)', () => {
    expect(production.size).toBeGreaterThan(5)
    expect([...production.keys()].some(id => id.startsWith('undici@'))).toBe(true)
  })

  test('lists exactly the production dependencies, by name and version', () => {
    const missing = [...production.keys()].filter(id => !notices.has(id))
    const extra = [...notices.keys()].filter(id => !production.has(id))
    expect({ missing, extra }).toEqual({ missing: [], extra: [] })
  })

  test.each([...production.entries()])('%s: licence type and text', (_id, location) => {
    const dir = join(ROOT, location)
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string
      version: string
      license?: string
    }
    const notice = notices.get(`${manifest.name}@${manifest.version}`)
    expect(notice?.license).toBe(manifest.license)
    const files = readdirSync(dir).filter(f => /^licen[cs]e/i.test(f))
    expect(files.length).toBeGreaterThan(0)
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8').replace(/\r\n?/g, '\n').trim()
      expect(notice?.text).toContain(text)
    }
  })

  test('equals a fresh generation (run `npm run bundle` after changing dependencies)', () => {
    expect(shipped).toBe(renderNotices(collectNotices(ROOT)))
  })
})

describe('scripts/licenses.ts', () => {
  test('walks the tree as Node resolves it: nested copies, optional and dev packages', () => {
    const tree = {
      lockfileVersion: 3,
      packages: {
        '': { dependencies: { a: '1' }, devDependencies: { d: '1' } },
        'node_modules/a': { dependencies: { b: '2', c: '1' }, optionalDependencies: { gone: '1' } },
        'node_modules/a/node_modules/b': { dependencies: { c: '1' } },
        'node_modules/b': { version: '1.0.0' },
        'node_modules/c': {},
        'node_modules/d': { dev: true }
      }
    }
    expect(productionLocations(tree)).toEqual([
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/c'
    ])
    const broken = { lockfileVersion: 3, packages: { '': { dependencies: { x: '1' } } } }
    expect(() => productionLocations(broken)).toThrow(/'x' .* is not in the tree/)
  })

  test('finds bundled packages in webpack stats, inside concatenated modules too', () => {
    const stats = {
      modules: [
        {
          name: './src/index.ts + 3 modules',
          modules: [{ name: './node_modules/undici/index.js' }]
        },
        { name: './node_modules/@actions/core/lib/core.js' },
        {
          name: './node_modules/@actions/github/node_modules/@actions/http-client/lib/index.js'
        },
        { name: 'external "node:fs"' }
      ],
      children: [{ modules: [{ name: './node_modules/mime-db/db.json' }] }]
    }
    expect(bundledLocations(stats)).toEqual([
      'node_modules/@actions/core',
      'node_modules/@actions/github/node_modules/@actions/http-client',
      'node_modules/mime-db',
      'node_modules/undici'
    ])
  })

  test('a block that lost its licence line is an error, not a silent skip', () => {
    const rule = '='.repeat(72)
    expect(() => parseNotices(`header\n\n${rule}\nx@1.0.0\nMIT text\n`)).toThrow(/malformed/)
  })
})
