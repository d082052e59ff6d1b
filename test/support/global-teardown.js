// Fails the run if tests left files in the run's temp folder (see global-setup.js); removes it.
import { readdirSync, rmSync } from 'node:fs'

export default function globalTeardown() {
  const dir = process.env.POLAR_JEST_TMP
  if (!dir) return
  const left = readdirSync(dir)
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
  if (left.length > 0) {
    throw new Error(
      `tests left ${left.length} item(s) in the temp folder: ${left.slice(0, 10).join(', ')}. ` +
        'Use tempDir() from test/support/temp.ts, or remove what the test creates.'
    )
  }
}
