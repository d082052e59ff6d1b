/** Small helpers shared by the bench modules: sizes, medians, progress, timed commands. */
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'

export const KIB = 1024
export const MIB = 1024 * KIB
export const GIB = 1024 * MIB

const benchStart = performance.now()

/** Progress goes to stderr so stdout carries only the result table. */
export function progress(message: string): void {
  const s = Math.round((performance.now() - benchStart) / 1000)
  const stamp = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
  process.stderr.write(`[bench ${stamp}] ${message}\n`)
}

export function elapsedSeconds(): number {
  return (performance.now() - benchStart) / 1000
}

/** '1g', '256m', '10k': the size suffix of a benchmark name. */
export function sizeLabel(bytes: number): string {
  if (bytes % GIB === 0) return `${bytes / GIB}g`
  if (bytes % MIB === 0) return `${bytes / MIB}m`
  return `${Math.round(bytes / KIB)}k`
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export interface CommandResult {
  ms: number
  code: number | null
  stdout: Buffer
  stderr: string
}

/**
 * Runs a command and times it from spawn to exit. stdout is kept whole (callers read digests
 * from it); only stderr's tail is kept, for error messages.
 */
export function timeCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    let err = ''
    const started = performance.now()
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let ms = 0
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString('utf8')).slice(-8000)))
    child.once('error', reject)
    child.once('exit', () => (ms = performance.now() - started))
    child.once('close', code => resolve({ ms, code, stdout: Buffer.concat(out), stderr: err }))
  })
}

/** Like timeCommand, but a non-zero exit is an error. */
export async function timeCommandOk(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}
): Promise<CommandResult> {
  const r = await timeCommand(command, args, options)
  if (r.code !== 0) {
    throw new Error(`${command} exited with ${r.code}: ${r.stderr.trim().slice(-2000)}`)
  }
  return r
}
