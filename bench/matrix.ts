/**
 * matrix_RxF: R runs of the bundled action at once (a release matrix), F small files each, all
 * naming one downloadables benefit, sharing one organization budget on an emulator with API
 * latency. Every file has an earlier version listed in the benefit, so each run creates,
 * completes and deletes per file and swaps its IDs into the contended benefit.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runAction } from './action.js'
import type { EmulatorProcess } from './emulator.js'
import { writeRandomFile } from './files.js'
import type { Ctx } from './scenarios.js'
import { progress } from './util.js'

export interface MatrixRun {
  ms: number
  /** API requests that reached the emulator (429s included), and the 429s among them. */
  apiCalls: number
  status429: number
  /** 429s each run was answered (from its log: each one is retried, and says so). */
  status429PerRun: number[]
  /** New files the benefit lists, of runs × files; and old ones it still lists. */
  newListed: number
  oldListed: number
  /** Old files deleted while a benefit listed them (customers lost a download). */
  deletedWhileListed: number
  /** When the 429s came, s from the start: `count@second`, one entry per second that had some. */
  waves: string[]
  /** When each window of the organization's budget opened (s from the start), and its requests. */
  windows: string[]
}

interface Benefit {
  id: string
  files: string[]
}
interface StoredFile {
  id: string
  name: string
  isUploaded: boolean
  deletedAt: string | null
}
interface LogEntry {
  target: string
  method: string
  status: number
  listedBy?: string[]
  startedAt: number
}

export async function matrixRun(
  ctx: Ctx,
  emu: EmulatorProcess,
  runs: number,
  filesPerRun: number,
  round: number
): Promise<MatrixRun> {
  const legs = Array.from({ length: runs }, (_, r) => `leg${r}`)
  const names = (leg: string) =>
    Array.from(
      { length: filesPerRun },
      (_, i) => `matrix${round}-${leg}-${String(i).padStart(2, '0')}.bin`
    )
  const { old, benefitId } = await emu.seedRelease(legs.flatMap(names), ctx.cfg.smallSize)
  const dirs = legs.map(leg => join(ctx.tmp, `ws-matrix${round}-${leg}`))
  for (const [i, leg] of legs.entries()) {
    mkdirSync(dirs[i], { recursive: true })
    for (const name of names(leg)) await writeRandomFile(join(dirs[i], name), ctx.cfg.smallSize)
  }
  await emu.clearLog()

  const inputs = emu.benefitInputs(benefitId, ctx.cfg.matrixRatePerMinute)
  const started = performance.now()
  const startedAt = Date.now()
  const done = await Promise.all(dirs.map(dir => runAction(ctx.bundle, inputs, dir, ctx.tmp)))
  const ms = performance.now() - started

  const log = (await emu.control<LogEntry[]>('GET', 'log')).filter(e => e.target === 'api')
  const after = (await emu.control<Benefit[]>('GET', 'benefits')).find(b => b.id === benefitId)!
  const files = await emu.control<StoredFile[]>('GET', 'files')
  const wanted = new Set(legs.flatMap(names))
  const fresh = files.filter(
    f => wanted.has(f.name) && f.isUploaded && !f.deletedAt && !old.includes(f.id)
  )
  const run: MatrixRun = {
    ms,
    apiCalls: log.length,
    status429: log.filter(e => e.status === 429).length,
    status429PerRun: done.map(d => d.stdout.match(/\bHTTP 429\b/g)?.length ?? 0),
    newListed: fresh.filter(f => after.files.includes(f.id)).length,
    oldListed: old.filter(id => after.files.includes(id)).length,
    deletedWhileListed: log.filter(e => e.method === 'DELETE' && e.listedBy).length,
    waves: waves(log, startedAt),
    windows: windows(log, startedAt)
  }
  progress(
    `matrix_${runs}x${filesPerRun} run ${round}: ${(ms / 1000).toFixed(2)} s, ${run.apiCalls} API calls, ` +
      `${run.status429} × 429 (${run.status429PerRun.join(', ')} per run), benefit lists ${run.newListed}/${runs * filesPerRun} new and ${run.oldListed} old; ` +
      `429s at (count@s) ${run.waves.join(' ') || '—'}; windows (opened@s: accepted) ${run.windows.join(', ')}`
  )
  return run
}

/** 429s by the second they arrived in (`3@0.9`: three in the second starting 0.9 s after the start). */
function waves(log: LogEntry[], startedAt: number): string[] {
  const by = new Map<number, number>()
  for (const e of log.filter(e => e.status === 429)) {
    const at = Math.floor((e.startedAt - startedAt) / 1000)
    by.set(at, (by.get(at) ?? 0) + 1)
  }
  return [...by].sort((a, b) => a[0] - b[0]).map(([at, n]) => `${n}@${at}`)
}

/**
 * The organization's windows as Polar's fixed-window limiter opens them: the first request
 * after one expired (60 s) opens the next. Each with the requests it accepted.
 */
function windows(log: LogEntry[], startedAt: number): string[] {
  const out: string[] = []
  let opened = -Infinity
  let accepted = 0
  for (const e of [...log].sort((a, b) => a.startedAt - b.startedAt)) {
    if (e.startedAt >= opened + 60_000) {
      if (accepted) out.push(`${((opened - startedAt) / 1000).toFixed(1)}: ${accepted}`)
      opened = e.startedAt
      accepted = 0
    }
    if (e.status !== 429) accepted++
  }
  if (accepted) out.push(`${((opened - startedAt) / 1000).toFixed(1)}: ${accepted}`)
  return out
}
