/**
 * `npm run local-action [-- <env file>]`: runs src/main.ts with @github/local-action and the
 * inputs in .env (or the file given), and exits non-zero when the action failed.
 *
 * local-action 7 replaces @actions/core with a stub whose setFailed() records the failure but
 * leaves the exit code alone, so a failed run exits 0. A run counts as failed here when
 * local-action itself exits non-zero, or when the action printed an `::error::` line: this
 * action prints one only on its way to failing (setFailed, or a cancellation).
 *
 * Like a runner, it gives the action a RUNNER_TEMP (removed afterwards, also after a failed
 * run: the `checksums-file` output lives there) and a job summary file, which it names.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ENV_FILE = process.argv[2] || '.env'
/** Where the job summary goes unless the env file sets GITHUB_STEP_SUMMARY (git-ignored). */
const SUMMARY_FILE = 'local-action-summary.html'

if (!existsSync(ENV_FILE)) {
  console.error(
    `No ${ENV_FILE}: copy .env.example to ${ENV_FILE}, then set INPUT_API-URL and INPUT_TOKEN ` +
      'to the POLAR_API_URL and POLAR_TOKEN that `npm run emulator` prints.'
  )
  process.exit(2)
}

// local-action loads the env file over this environment, so a value set there wins.
const fromEnvFile = /^GITHUB_STEP_SUMMARY=(.*)$/m.exec(readFileSync(ENV_FILE, 'utf8'))?.[1]
const summaryFile = resolve(fromEnvFile?.trim().replace(/^"|"$/g, '') || SUMMARY_FILE)
writeFileSync(summaryFile, '') // one step's summary, as on GitHub: not appended to the last
const runnerTemp = mkdtempSync(join(tmpdir(), 'polar-local-action-'))
// local-action runs the tsx CLI, which leaves an (empty) tsx-<uid> folder for its IPC sockets.
// Removed if this run made it and it is empty (another tsx may be using it). Not pointing the
// child's TMPDIR into runnerTemp instead: a long socket path there gets cut short by the OS.
const tsxDir = join(tmpdir(), `tsx-${process.getuid?.() ?? ''}`)
const tsxDirWasThere = existsSync(tsxDir)
const cleanUp = () => {
  rmSync(runnerTemp, { recursive: true, force: true })
  if (tsxDirWasThere) return
  try {
    rmdirSync(tsxDir)
  } catch {
    // not there, or in use by another tsx process: theirs to keep
  }
}

const child = spawn(
  'npx',
  ['--yes', '@github/local-action@7', 'run', '.', 'src/main.ts', ENV_FILE],
  {
    stdio: ['inherit', 'pipe', 'inherit'],
    shell: process.platform === 'win32',
    env: { ...process.env, RUNNER_TEMP: runnerTemp, GITHUB_STEP_SUMMARY: summaryFile }
  }
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => child.kill(signal))
}

let failed = false
let partial = ''
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  const lines = (partial + chunk.toString('utf8')).split('\n')
  partial = lines.pop() ?? ''
  if (lines.some(line => line.startsWith('::error::'))) failed = true
})

child.on('close', (code, signal) => {
  cleanUp()
  if (partial.startsWith('::error::')) failed = true
  const written = existsSync(summaryFile) && readFileSync(summaryFile, 'utf8').trim() !== ''
  console.log(
    written
      ? `\nJob summary (HTML, as GitHub shows it under the run): ${summaryFile}`
      : `\nNo job summary was written (${summaryFile} is empty).`
  )
  if (code !== 0 || signal) {
    process.exit(code || 1)
  }
  if (failed) {
    console.error('local-action: the action failed (see the ::error:: lines above).')
    process.exit(1)
  }
})
