/**
 * Runs the real bundled action (dist/index.js) as GitHub would: inputs as INPUT_* variables,
 * outputs and the job summary through GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files; and gives each
 * test file its emulators (`useEmulator`, `useGitHubEmulator`).
 */
import { afterAll, beforeAll, beforeEach } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  startGitHubEmulator,
  type GitHubEmulator,
  type GitHubEmulatorOptions
} from '../../emulator/github/index.js'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/polar/index.js'
import { tempDir } from '../support/temp.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const BUNDLE = join(ROOT, 'dist/index.js')
/**
 * The node that runs the bundle: POLAR_E2E_NODE when set (.ci/run points it at a node24, the
 * runtime action.yml names, whatever node runs jest), else the node running the tests.
 */
export const ACTION_NODE = process.env.POLAR_E2E_NODE || process.execPath
const GNU_TIME = '/usr/bin/time'

export interface ActionRun {
  code: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  /** What the step saved in its step state (GITHUB_STATE), as the post step gets it. */
  state: Record<string, string>
  summary: string
  /** The content of the `checksums-file` output (RUNNER_TEMP is removed after the run). */
  checksumsFile?: string
  /** What the run left in RUNNER_TEMP (besides the output and summary files). */
  leftInTemp: string[]
  /** With `peakRss` and GNU time: the process's peak resident set size. */
  peakRssMiB?: number
  /** Everything a person or a log scraper could see. */
  everything: string
  json<T = unknown>(output: string): T
}

/** A folder holding `files`; removed after the test file (test/support/temp.ts). */
export function workspace(files: Record<string, string | Buffer> = {}): string {
  const dir = tempDir('ws-')
  for (const [rel, content] of Object.entries(files)) {
    const file = join(dir, rel)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, content)
  }
  return dir
}

export async function runAction(
  inputs: Record<string, string>,
  options: {
    workspace: string
    env?: Record<string, string>
    timeoutMs?: number
    /** Send this signal once `when()` holds, as GitHub does when a job is cancelled. */
    signal?: { when: () => boolean; name: NodeJS.Signals }
    /** Run this once `when()` holds, while the action runs. */
    during?: { when: () => boolean; run: () => Promise<void> }
    /** Measure the run's peak RSS with GNU time (where it exists; see ActionRun.peakRssMiB). */
    peakRss?: boolean
  }
): Promise<ActionRun> {
  const state = tempDir('run-') // RUNNER_TEMP and the output files: removed once read
  const outputFile = join(state, 'output')
  const summaryFile = join(state, 'summary')
  const stateFile = join(state, 'state')
  writeFileSync(stateFile, '')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
    RUNNER_TEMP: state,
    ...options.env
  }
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  const timeFile = join(state, 'time')
  const timed = options.peakRss && existsSync(GNU_TIME)
  const child = timed
    ? spawn(GNU_TIME, ['-f', '%M', '-o', timeFile, ACTION_NODE, BUNDLE], {
        cwd: options.workspace,
        env
      })
    : spawn(ACTION_NODE, [BUNDLE], { cwd: options.workspace, env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => (stdout += d))
  child.stderr.on('data', d => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  let exited = false
  const closed = new Promise<number>(res =>
    child.on('close', c => {
      exited = true
      res(c ?? -1)
    })
  )
  // Poll the emulator's state so triggers fire at a point in the run, not after a fixed time.
  const waitFor = async (when: () => boolean) => {
    while (!exited && !when()) await new Promise(res => setTimeout(res, 10))
    return !exited
  }
  const triggers: Promise<void>[] = []
  if (options.signal) {
    const { when, name } = options.signal
    triggers.push(waitFor(when).then(alive => void (alive && child.kill(name))))
  }
  if (options.during) {
    const { when, run } = options.during
    triggers.push(waitFor(when).then(alive => (alive ? run() : undefined)))
  }
  const code = await closed
  await Promise.all(triggers)
  clearTimeout(timer)
  const outputs = parseOutputs(readFileSync(outputFile, 'utf8'))
  const summary = readFileSync(summaryFile, 'utf8')
  const saved = parseOutputs(readFileSync(stateFile, 'utf8'))
  const checksumsFile = outputs['checksums-file']?.startsWith(state)
    ? readFileSync(outputs['checksums-file'], 'utf8')
    : undefined
  const peakRssMiB = timed
    ? Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) / 1024
    : undefined
  const leftInTemp = readdirSync(state).filter(
    f => !['output', 'summary', 'time', 'state'].includes(f)
  )
  rmSync(state, { recursive: true, force: true, maxRetries: 5 })
  return {
    code,
    stdout,
    stderr,
    outputs,
    state: saved,
    summary,
    checksumsFile,
    leftInTemp,
    peakRssMiB,
    everything: [stdout, stderr, summary, ...Object.values(outputs)].join('\n'),
    json<T>(name: string) {
      if (!(name in outputs)) throw new Error(`no output ${name}; stdout:\n${stdout}`)
      return JSON.parse(outputs[name]) as T
    }
  }
}

/** The environment GitHub gives the `post:` step: the main step's saved state as STATE_*. */
export function postStepEnv(saved: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(saved).map(([k, v]) => [`STATE_${k}`, v]))
}

/** GITHUB_OUTPUT holds `name<<DELIM\nvalue\nDELIM` blocks (GITHUB_STATE too; the last wins). */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const re = /^(.+?)<<(\S+)\n([\s\S]*?)\n\2$/gm
  for (const m of text.matchAll(re)) out[m[1]] = m[3]
  return out
}

/** One entry of the `files` output: the action's own type. */
export type { FileResult as FileOutput } from '../../src/run-report.js'

interface Resettable {
  clearFaults(): void
  clearLog(): void
  close(): Promise<void>
}

/**
 * One server for the whole test file: started before its tests, closed after them, its faults
 * and log cleared before each test, then `reset` (the file's own settings). The handle reads
 * through to the running server, so a test uses it as it would the server itself.
 */
function useServer<T extends Resettable>(start: () => Promise<T>, reset?: (server: T) => void): T {
  let running: T | undefined
  const current = (): T => {
    if (!running) throw new Error('the emulator is used outside the tests (it is not started)')
    return running
  }
  beforeAll(async () => {
    running = await start()
  })
  afterAll(async () => {
    await running?.close()
  })
  beforeEach(() => {
    const server = current()
    server.clearFaults()
    server.clearLog()
    reset?.(server)
  })
  return new Proxy({} as T, {
    get: (_, key) => {
      const server = current()
      const value = (server as Record<PropertyKey, unknown>)[key]
      return typeof value === 'function' ? value.bind(server) : value
    }
  })
}

/** The Polar emulator for this test file (see useServer). */
export function useEmulator(
  options: EmulatorOptions = {},
  reset?: (emu: Emulator) => void
): Emulator {
  return useServer(() => startEmulator(options), reset)
}

/** The GitHub emulator for this test file (see useServer). */
export function useGitHubEmulator(
  options: GitHubEmulatorOptions = {},
  reset?: (gh: GitHubEmulator) => void
): GitHubEmulator {
  return useServer(() => startGitHubEmulator(options), reset)
}
