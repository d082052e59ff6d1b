/**
 * The end-to-end tests run the bundle on the runtime users get: the `runs.using` of action.yml
 * (node24), whatever node runs jest. In CI (`.ci/run`, ci.yml) POLAR_E2E_NODE names that node;
 * a local `npm test` on another major skips this check rather than fail.
 */
import { describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ACTION_NODE, ROOT } from './harness.js'

const using = String(
  (parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { runs: { using: string } }).runs.using
)
const runtimeMajor = Number(/^node(\d+)$/.exec(using)?.[1])
const checked = Boolean(process.env.POLAR_E2E_NODE || process.env.CI)

describe('the runtime the e2e tests run the bundle on', () => {
  test('action.yml names a node runtime', () => {
    expect(runtimeMajor).toBeGreaterThan(0)
  })

  ;(checked ? test : test.skip)(`is ${using} (POLAR_E2E_NODE, or the node running jest)`, () => {
    const r = spawnSync(ACTION_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(`${ACTION_NODE}: v${r.stdout.trim()}`).toMatch(
      new RegExp(`: v${runtimeMajor}\\.\\d+\\.\\d+$`)
    )
  })
})
