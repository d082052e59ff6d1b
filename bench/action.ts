/**
 * Runs the bundled action the way the runner does — `node dist/index.js` with inputs as
 * INPUT_<NAME> env vars (hyphens kept) and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files — under
 * GNU time, which reports the process's peak RSS (%M, KiB) without touching its behaviour.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { timeCommand } from './util.js'

export const GNU_TIME = '/usr/bin/time'

export interface ActionRun {
  /** Spawn to exit, in ms. */
  ms: number
  /** Peak resident set size, in KiB. */
  maxRssKiB: number
  /** The action's log (stdout). */
  stdout: string
}

/** The runner's environment for `inputs`: nothing from an outer workflow leaks in. */
export function actionEnv(
  inputs: Record<string, string>,
  workspace: string,
  scratch: string,
  extra: Record<string, string> = {}
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    // NODE_EXTRA_CA_CERTS is set on this sandbox (not on GitHub's runners): Node then parses a
    // 200 KiB CA bundle at start-up, ~60 ms that are the machine's, not the action's.
    if (!/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_|NODE_EXTRA_CA_CERTS$)/.test(k)) env[k] = v
  }
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  const output = join(scratch, 'github_output')
  const summary = join(scratch, 'step_summary')
  writeFileSync(output, '')
  writeFileSync(summary, '')
  return {
    ...env,
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    RUNNER_TEMP: scratch,
    ...extra
  }
}

/** One run of the action in `workspace`; throws (with the log's tail) unless it exits 0. */
export async function runAction(
  bundle: string,
  inputs: Record<string, string>,
  workspace: string,
  scratch: string,
  extraEnv: Record<string, string> = {}
): Promise<ActionRun> {
  const dir = mkdtempSync(join(scratch, 'run-'))
  try {
    const timeFile = join(dir, 'time')
    const env = actionEnv(inputs, workspace, dir, extraEnv)
    const r = await timeCommand(GNU_TIME, ['-f', '%M', '-o', timeFile, process.execPath, bundle], {
      cwd: workspace,
      env
    })
    if (r.code !== 0) {
      const log = `${r.stdout.toString('utf8')}\n${r.stderr}`.trim().slice(-3000)
      throw new Error(`the action exited with ${r.code}:\n${log}`)
    }
    // GNU time may print a "Command exited…" line first; the figure is on the last line.
    const lines = readFileSync(timeFile, 'utf8').trim().split('\n')
    return {
      ms: r.ms,
      maxRssKiB: Number(lines[lines.length - 1]),
      stdout: r.stdout.toString('utf8')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Spawns the action without waiting (cold start: the caller times its first request). */
export function spawnAction(
  bundle: string,
  inputs: Record<string, string>,
  workspace: string,
  scratch: string
): { child: ChildProcess; spawnedAt: number } {
  const env = actionEnv(inputs, workspace, scratch)
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, [bundle], { cwd: workspace, env, stdio: 'ignore' })
  return { child, spawnedAt }
}
