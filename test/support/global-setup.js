// Gives each jest run a private temp folder: TMPDIR (TMP and TEMP on Windows) point into it, and
// the workers and every process a test starts inherit them. global-teardown.js then fails the
// run if a test left anything there, so leaks show up as a failure instead of piling up in /tmp.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export default function globalSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'polar-jest-'))
  process.env.POLAR_JEST_TMP = dir
  process.env.TMPDIR = dir
  process.env.TMP = dir
  process.env.TEMP = dir
  // tsx (the emulator CLI test) would otherwise keep a compile cache in the temp folder.
  process.env.TSX_DISABLE_CACHE = '1'
}
