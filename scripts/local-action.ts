/**
 * `npm run local-action`: runs src/main.ts with @github/local-action and the inputs in .env, and
 * exits non-zero when the action failed.
 *
 * local-action 7 replaces @actions/core with a stub whose setFailed() records the failure but
 * leaves the exit code alone, so a failed run exits 0. A run counts as failed here when
 * local-action itself exits non-zero, or when the action printed an `::error::` line: this
 * action prints one only on its way to failing (setFailed, or a cancellation).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

const ENV_FILE = '.env'

if (!existsSync(ENV_FILE)) {
  console.error(
    `No ${ENV_FILE}: copy .env.example to ${ENV_FILE}, then set INPUT_API-URL and INPUT_TOKEN ` +
      'to the POLAR_API_URL and POLAR_TOKEN that `npm run emulator` prints.'
  )
  process.exit(2)
}

const child = spawn(
  'npx',
  ['--yes', '@github/local-action@7', 'run', '.', 'src/main.ts', ENV_FILE],
  { stdio: ['inherit', 'pipe', 'inherit'], shell: process.platform === 'win32' }
)

let failed = false
let partial = ''
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  const lines = (partial + chunk.toString('utf8')).split('\n')
  partial = lines.pop() ?? ''
  if (lines.some(line => line.startsWith('::error::'))) failed = true
})

child.on('close', (code, signal) => {
  if (partial.startsWith('::error::')) failed = true
  if (code !== 0 || signal) {
    process.exit(code || 1)
  }
  if (failed) {
    console.error('local-action: the action failed (see the ::error:: lines above).')
    process.exit(1)
  }
})
