/**
 * The payload types come from the vendored OpenAPI subset, generated (never edited by hand),
 * and the pinned API version is one that subset was checked against.
 */
import { describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PINNED_VERSION } from '../src/polar/api-version.js'
import { tempDir } from './support/temp.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SPEC = 'emulator/polar/polar-openapi-files.json'

describe('payload types from the OpenAPI document', () => {
  test('src/polar/openapi.d.ts is what openapi-typescript generates from the vendored spec', () => {
    const out = join(tempDir('openapi-'), 'openapi.d.ts')
    // The packages' own scripts through node: no .bin shims (they differ on Windows).
    const cli = (path: string, args: string[], input?: Buffer) =>
      spawnSync(process.execPath, [join(ROOT, 'node_modules', path), ...args], { cwd: ROOT, input })
    const gen = cli('openapi-typescript/bin/cli.js', [SPEC, '-o', out])
    expect(gen.status).toBe(0)
    const fmt = cli(
      'prettier/bin/prettier.cjs',
      ['--stdin-filepath', 'src/polar/openapi.d.ts'],
      readFileSync(out)
    )
    expect(fmt.status).toBe(0)
    const committed = readFileSync(join(ROOT, 'src/polar/openapi.d.ts'), 'utf8').replace(
      /\r\n/g,
      '\n'
    )
    expect(committed === fmt.stdout.toString()).toBe(true) // else: npm run openapi-types
  }, 30_000)

  test('the pin is among the versions the vendored spec was checked against', () => {
    const record = JSON.parse(
      readFileSync(join(ROOT, 'emulator/polar/polar-openapi-files.versions.json'), 'utf8')
    ) as { cut_from: string; identical_in: string[] }
    expect([record.cut_from, ...record.identical_in]).toContain(PINNED_VERSION)
  })
})
