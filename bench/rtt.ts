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
      const api = (await emu.log()).filter((e: LogEntry) => e.target === 'api')
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
        timeline
      }
      progress(
        `${label} run ${r + 1}: ${(ms / 1000).toFixed(2)} s, start-up ${run.startupMs} ms, ` +
          `${run.apiCalls} API calls, ${run.status429} × 429`
      )
      out.push(run)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}

/** One run's requests as text lines (ms from spawn), for BENCHMARKS.md. */
export function formatTimeline(run: RttRun): string {
  return run.timeline
    .map(
      t =>
        `${String(t.start).padStart(5)}–${String(t.end).padEnd(5)} ${t.status} ${t.method} ${t.path}`
    )
    .join('\n')
}
