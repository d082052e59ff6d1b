/**
 * Temp folders for tests, removed when the test file ends: the first call makes one root folder
 * for the file, and the `afterAll` registered on import removes it, whatever the tests did.
 * (The whole run also has a private temp folder that must end empty: see global-setup.js.)
 */
import { afterAll } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let root: string | undefined

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true, maxRetries: 5 })
  root = undefined
})

/** A new empty folder, removed after the current test file. */
export function tempDir(prefix = 'tmp-'): string {
  root ??= mkdtempSync(join(tmpdir(), 'polar-test-'))
  return mkdtempSync(join(root, prefix))
}
