/**
 * rtt_N: a small replacing release — N files of a few KiB, each with an earlier version listed
 * in one downloadables benefit named in `benefit-ids` — against an emulator that adds a fixed
 * latency to every API answer. Such a release is bound by its API round trips and the pacer,
 * not by bandwidth. Each run is timed from spawn to exit, and the emulator's request log gives
 * its timeline and its start-up (spawn → first API request).
 */
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { runAction } from './action.js'
import type { EmulatorProcess, LogEntry } from './emulator.js'
import { writeRandomFile } from './files.js'
import type { Ctx } from './scenarios.js'
import { progress } from './util.js'

export interface RttRun {
  ms: number
  /** Spawn → the first API request's arrival at the emulator. */
  startupMs: number
  apiCalls: number
  status429: number
  /** The API requests, ms from spawn: method, path, arrival, answer. */
  timeline: { method: string; path: string; status: number; start: number; end: number }[]
  /** The part PUTs to S3 (no added latency), ms from spawn: first arrival, last answer. */
  s3: { count: number; start: number; end: number }
  /** The last API answer → the process's exit (outputs, summary, connections closed). */
  exitMs: number
}

/**
 * `runs` releases of `count` files on `emu`. Before each, every file gets an earlier version
 * listed in one benefit (a fresh one per run), so each run creates, completes, swaps and
 * deletes per file, as a real release does.
 */
export async function rttRuns(
  ctx: Ctx,
  emu: EmulatorProcess,
  label: string,
  count: number,
  ratePerMinute: number,
  runs: number
): Promise<RttRun[]> {
  const dir = join(ctx.tmp, `ws-${label}`)
  mkdirSync(dir, { recursive: true })
  const names = Array.from(
    { length: count },
    (_, i) => `${label}-${String(i).padStart(3, '0')}.bin`
  )
  const out: RttRun[] = []
  try {
    for (let r = 0; r < runs; r++) {
      for (const name of names) await writeRandomFile(join(dir, name), 8 * 1024)
      const { benefitId } = await emu.seedRelease(names, 8 * 1024)
      // The budget is the organization's: let the bucket refill between runs, as between releases.
      await emu.control('POST', 'config', { rateLimitPerMinute: ratePerMinute })
      await emu.clearLog()
      const inputs = emu.benefitInputs(benefitId, ratePerMinute)
      const spawnedAt = Date.now()
      const { ms } = await runAction(ctx.bundle, inputs, dir, ctx.tmp)
      const log = await emu.log()
      const api = log.filter((e: LogEntry) => e.target === 'api')
      const puts = log.filter((e: LogEntry) => e.target === 's3')
      const timeline = api
        .map(e => ({
          method: e.method,
          path: e.path.replace(/\?.*/, '').replace(/[0-9a-f-]{36}/g, ':id'),
          status: e.status,
          start: e.startedAt - spawnedAt,
          end: e.endedAt - spawnedAt
        }))
        .sort((a, b) => a.start - b.start)
      const run: RttRun = {
        ms,
        startupMs: timeline.length ? timeline[0].start : 0,
        apiCalls: api.length,
        status429: api.filter(e => e.status === 429).length,
        timeline,
        s3: {
          count: puts.length,
          start: puts.length ? Math.min(...puts.map(e => e.startedAt)) - spawnedAt : 0,
          end: puts.length ? Math.max(...puts.map(e => e.endedAt)) - spawnedAt : 0
        },
        exitMs: timeline.length ? Math.round(ms - Math.max(...timeline.map(t => t.end))) : 0
      }
      progress(
        `${label} run ${r + 1}: ${(ms / 1000).toFixed(2)} s, start-up ${run.startupMs} ms, ` +
          `${run.apiCalls} API calls, ${run.status429} × 429, exit ${run.exitMs} ms after the last answer`
      )
      out.push(run)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}

/** One run's requests as text lines (ms from spawn), for BENCHMARKS.md; the S3 PUTs as one. */
export function formatTimeline(run: RttRun): string {
  const lines = run.timeline.map(t => ({
    start: t.start,
    text: `${String(t.start).padStart(5)}–${String(t.end).padEnd(5)} ${t.status} ${t.method} ${t.path}`
  }))
  if (run.s3.count > 0) {
    const { start, end, count } = run.s3
    const text = `${String(start).padStart(5)}–${String(end).padEnd(5)} S3  ${count} part PUT(s)`
    lines.push({ start, text })
  }
  lines.sort((a, b) => a.start - b.start)
  return [...lines.map(l => l.text), `${String(Math.round(run.ms)).padStart(5)}       exit`].join(
    '\n'
  )
}
