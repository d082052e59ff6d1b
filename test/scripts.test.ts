/**
 * The getting-started scripts a newcomer runs first (`npm run demo`, `npm run local-action`)
 * leave the system temp folder as they found it, also after a failed run: outside a runner no
 * one wipes RUNNER_TEMP, so the scripts must give the action one and remove it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmulator, type Emulator } from '../emulator/polar/index.js'
import { tempDir } from './support/temp.js'

const made: string[] = []
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** `npm run <script>` with a private, empty TMPDIR; its output and what it left there. */
async function npmRun(script: string, args: string[] = []) {
  // Directly in the temp root, with a short name: tsx puts a Unix socket in it, and a socket's
  // path may not exceed ~107 bytes (CI's own temp folder is already deep).
  const tmp = mkdtempSync(join(tmpdir(), 'st-'))
  made.push(tmp)
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_)/.test(k)) env[k] = v
  }
  Object.assign(env, { TMPDIR: tmp, TMP: tmp, TEMP: tmp, TSX_DISABLE_CACHE: '1' })
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: ROOT,
    env,
    shell: process.platform === 'win32'
  })
  let out = ''
  child.stdout.on('data', d => (out += d))
  child.stderr.on('data', d => (out += d))
  const code = await new Promise<number>(res => child.on('close', c => res(c ?? -1)))
  return { code, out, left: readdirSync(tmp) }
}

describe('npm run demo', () => {
  test('passes and leaves no polar-checksums-* (or any other) folder in the temp folder', async () => {
    const run = await npmRun('demo')
    expect([run.code, run.out.slice(-300)]).toEqual([0, expect.stringContaining('Demo finished')])
    expect(run.out).toMatch(/checksums-file = \S+runner_temp/)
    expect(run.left).toEqual([])
  }, 120_000)
})

describe('npm run local-action', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator()
  })
  afterAll(async () => {
    await emu.close()
  })

  const envFile = (inputs: Record<string, string>) => {
    const dir = tempDir('la-')
    const summary = join(dir, 'summary.html')
    const lines = Object.entries(inputs).map(([k, v]) => `INPUT_${k.toUpperCase()}=${v}`)
    const file = join(dir, 'env')
    writeFileSync(file, [...lines, `GITHUB_STEP_SUMMARY=${summary}`, ''].join('\n'))
    return { file, summary }
  }

  test('a run that succeeds: summary written and named; the temp folder as it was', async () => {
    const env = envFile({ 'api-url': emu.apiUrl, token: emu.token, files: 'LICENSE' })
    const run = await npmRun('local-action', [env.file])
    expect([run.code, run.out.slice(-400)]).toEqual([0, expect.stringContaining('Job summary')])
    expect(run.out).toContain(
      `Job summary (HTML, as GitHub shows it under the run): ${env.summary}`
    )
    expect(readFileSync(env.summary, 'utf8')).toContain('Polar files: upload')
    expect(run.left).toEqual([])
  }, 180_000)

  test('a run that fails on a bad input: the same, and a non-zero exit', async () => {
    const env = envFile({ 'api-url': emu.apiUrl, token: emu.token, files: 'no-such-file.zip' })
    const run = await npmRun('local-action', [env.file])
    expect(run.code).not.toBe(0)
    expect(run.out).toContain("::error::Input 'files'")
    expect(readFileSync(env.summary, 'utf8')).toContain('<strong>Failed:</strong>')
    expect(run.left).toEqual([])
  }, 180_000)
})
