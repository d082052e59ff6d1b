/**
 * `npm run bench` (full, ~7 min on 2 cores) and `npm run bench:smoke` (tiny sizes, < 60 s):
 * the bundled action against the emulator in its own process, each figure next to the bound
 * that limits it. Prints a markdown table on stdout, progress on stderr, and writes the results
 * as JSON (bench/results.json; the smoke run writes to a temp file unless --out is given).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FULL, SMOKE } from './config.js'
import { EmulatorProcess } from './emulator.js'
import { ensureFreeSpace, writeRandomFile } from './files.js'
import { matrixRun } from './matrix.js'
import { releaseRounds } from './release.js'
import { formatTimeline, rttRuns, type RttRun } from './rtt.js'
import { networkResults } from './network.js'
import { markdownTable, writeResults, type Result } from './report.js'
import {
  coldStartRuns,
  limitRun,
  smallRuns,
  uploadRun,
  type Ctx,
  type LimitRun,
  type SmallRun,
  type Workspace
} from './scenarios.js'
import { elapsedSeconds, median, MIB, progress, round, sizeLabel } from './util.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BUNDLE = join(ROOT, 'dist', 'index.js')

/**
 * Sequential API round trips a replacing upload cannot avoid: create → (S3 PUT) → complete →
 * delete. Listing files and reading benefits can overlap with them, so they are not counted.
 */
const UNAVOIDABLE_ROUND_TRIPS = 3
/** API calls per file of a replacing release: create, complete, delete. */
const CALLS_PER_FILE = 3

const emulators: EmulatorProcess[] = []
let tmp: string | undefined

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
      // While working on one thing: e.g. --only matrix (groups: big, rss, release, small, matrix,
      // cold, rtt, and net for the network rows; core = every group but net). Such a partial run
      // writes to a temp file unless --out is given. --rows rtt_10,rtt_1: only those rtt rows.
      only: { type: 'string' },
      rows: { type: 'string' },
      // Prints each rtt row's median run as a request timeline (ms from spawn) on stderr.
      timeline: { type: 'boolean', default: false }
    },
    strict: true
  })
  const only = values.only ? new Set(values.only.split(',')) : null
  const core = ['big', 'rss', 'release', 'small', 'matrix', 'cold', 'rtt']
  const want = (group: string) =>
    !only || only.has(group) || (only.has('core') && core.includes(group))
  const cfg = values.smoke ? SMOKE : FULL
  const out =
    values.out ??
    (cfg.smoke || only
      ? join(tmpdir(), `polar-files-bench-partial-${process.pid}.json`)
      : join(ROOT, 'bench', 'results.json'))
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing. Build it first: npm run bundle`)

  tmp = mkdtempSync(join(tmpdir(), 'polar-files-bench-'))
  ensureFreeSpace(
    tmp,
    Math.max(
      cfg.big + cfg.rssLarge,
      cfg.net.size + Math.max(cfg.net.multiCount * cfg.net.multiSize, cfg.net.fatSize)
    ) +
      cfg.smallCount * cfg.smallSize
  )
  const ctx: Ctx = { root: ROOT, bundle: BUNDLE, cfg, tmp }
  progress(
    `${cfg.smoke ? 'smoke' : 'full'} bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}, temp ${tmp}`
  )

  const notes: string[] = []
  const results: Result[] = []
  // The machine's load while the bench ran: other processes competing for the cores show here.
  const load: number[] = [loadavg()[0]]
  const sampler = setInterval(() => load.push(loadavg()[0]), 5000)
  sampler.unref()
  if (want('big') || want('rss')) {
    const emu = await start(ROOT, [])
    if (want('big')) results.push(...(await bigFileResults(ctx, emu, notes)))
    if (want('rss')) results.push(...(await rssResults(ctx, emu, notes)))
    await stop(emu)
  }
  if (want('release')) results.push(await releaseResults(ctx, notes))
  if (want('small')) results.push(await smallResults(ctx, notes))
  if (want('matrix')) results.push(await matrixResults(ctx, notes))
  if (want('cold')) results.push(await coldResults(ctx, notes))
  if (want('rtt')) {
    const rows = values.rows ? new Set(values.rows.split(',')) : null
    results.push(...(await rttResults(ctx, notes, rows, values.timeline)))
  }
  if (want('net')) {
    results.push(...(await networkResults(ctx, { start: a => start(ROOT, a), stop }, notes)))
  }

  clearInterval(sampler)
  notes.push(
    `machine load (1-minute average, every 5 s) during the run: mean ${round(
      load.reduce((a, b) => a + b, 0) / load.length,
      1
    )}, max ${round(Math.max(...load), 1)}, on ${cpus().length} CPUs (the bench itself adds ~1–2)`
  )
  writeResults(out, results)
  process.stdout.write(`${markdownTable(results)}\n\n${notes.map(n => `- ${n}`).join('\n')}\n`)
  progress(`done in ${elapsedSeconds().toFixed(0)} s; results written to ${out}`)
}

async function start(root: string, args: string[]): Promise<EmulatorProcess> {
  const emu = await EmulatorProcess.start(root, args)
  emulators.push(emu)
  progress(
    `emulator up: API ${emu.apiUrl}, S3 ${emu.s3Url}${args.length ? ` (${args.join(' ')})` : ''}`
  )
  return emu
}

async function stop(emu: EmulatorProcess): Promise<void> {
  await emu.stop()
  emulators.splice(emulators.indexOf(emu), 1)
}

/** A fresh folder with one random file of `size` bytes. */
async function workspace(ctx: Ctx, size: number): Promise<Workspace> {
  const file = `bench-${sizeLabel(size)}.bin`
  const dir = join(ctx.tmp, `ws-${sizeLabel(size)}`)
  progress(`writing ${file} (${(size / MIB).toFixed(0)} MiB)`)
  await writeRandomFile(join(dir, file), size)
  return { dir, file }
}

const s = (ms: number): number => round(ms / 1000, 2)
const samples = (xs: number[], unit: string, digits = 2): string =>
  xs.map(x => round(x, digits)).join(', ') + ` ${unit}`

/** e2e, limit and sequential, interleaved round by round so drift hits all three alike. */
async function bigFileResults(ctx: Ctx, emu: EmulatorProcess, notes: string[]): Promise<Result[]> {
  const { big, bigRuns } = ctx.cfg
  const label = sizeLabel(big)
  const ws = await workspace(ctx, big)
  const e2e: number[] = []
  const seq: number[] = []
  const e2eRss: number[] = []
  const limits: LimitRun[] = []
  for (let i = 0; i < bigRuns; i++) {
    const a = await uploadRun(ctx, emu, ws)
    e2e.push(a.ms)
    e2eRss.push(a.maxRssKiB / 1024)
    progress(`e2e_${label} run ${i + 1}: ${(a.ms / 1000).toFixed(2)} s`)
    const l = await limitRun(emu, ws, big)
    limits.push(l)
    progress(
      `limit_${label} run ${i + 1}: openssl sha256 ${(l.opensslMs / 1000).toFixed(2)} s + PUT ${(l.putMs / 1000).toFixed(2)} s (sha256sum ${(l.sha256sumMs / 1000).toFixed(2)} s)`
    )
    const q = await uploadRun(ctx, emu, ws, { concurrency: '1' })
    seq.push(q.ms)
    progress(`sequential_${label} run ${i + 1}: ${(q.ms / 1000).toFixed(2)} s`)
  }
  rmSync(ws.dir, { recursive: true, force: true })

  const e2eS = s(median(e2e))
  const limitS = s(median(limits.map(l => l.opensslMs + l.putMs)))
  const sumS = s(median(limits.map(l => l.sha256sumMs + l.putMs)))
  const seqS = s(median(seq))
  notes.push(
    `e2e_${label} runs: ${samples(
      e2e.map(x => x / 1000),
      's'
    )}; peak RSS ${samples(e2eRss, 'MiB', 0)}`,
    `limit_${label} = openssl dgst -sha256 (${samples(
      limits.map(l => l.opensslMs / 1000),
      's'
    )}) + ` +
      `one curl PUT (${samples(
        limits.map(l => l.putMs / 1000),
        's'
      )}). With coreutils sha256sum ` +
      `(${samples(
        limits.map(l => l.sha256sumMs / 1000),
        's'
      )}) instead, it would be ${sumS} s ` +
      `(e2e ratio ${round(e2eS / sumS, 2)})`,
    `sequential_${label} runs: ${samples(
      seq.map(x => x / 1000),
      's'
    )}`
  )
  return [
    {
      name: `e2e_${label}`,
      value: e2eS,
      unit: 's',
      baseline: limitS,
      ratio: round(e2eS / limitS, 2),
      target: 'ratio ≤ 1.15',
      met: e2eS / limitS <= 1.15
    },
    { name: `limit_${label}`, value: limitS, unit: 's', baseline: null, ratio: null },
    {
      name: `sequential_${label}`,
      value: seqS,
      unit: 's',
      baseline: e2eS,
      ratio: round(seqS / e2eS, 2)
    }
  ]
}

/** Peak RSS for a small and a large file (the large one exists only while it is measured). */
async function rssResults(ctx: Ctx, emu: EmulatorProcess, notes: string[]): Promise<Result[]> {
  const peak = async (size: number): Promise<number[]> => {
    const ws = await workspace(ctx, size)
    const mib: number[] = []
    for (let i = 0; i < ctx.cfg.rssRuns; i++) {
      const r = await uploadRun(ctx, emu, ws)
      mib.push(r.maxRssKiB / 1024)
      progress(
        `rss_${sizeLabel(size)} run ${i + 1}: ${(r.maxRssKiB / 1024).toFixed(0)} MiB in ${(r.ms / 1000).toFixed(2)} s`
      )
    }
    rmSync(ws.dir, { recursive: true, force: true })
    return mib
  }
  const { rssSmall, rssLarge, rssTargetMiB } = ctx.cfg
  const smallMiB = await peak(rssSmall)
  const largeMiB = await peak(rssLarge)
  const a = round(median(smallMiB), 1)
  const b = round(median(largeMiB), 1)
  notes.push(
    `rss_${sizeLabel(rssSmall)} runs: ${samples(smallMiB, 'MiB', 1)}; rss_${sizeLabel(rssLarge)} runs: ${samples(largeMiB, 'MiB', 1)}`
  )
  return [
    {
      name: `rss_${sizeLabel(rssSmall)}`,
      value: a,
      unit: 'MiB',
      baseline: rssTargetMiB,
      ratio: round(a / rssTargetMiB, 2),
      target: `≤ ${rssTargetMiB} MiB`,
      met: a <= rssTargetMiB
    },
    {
      name: `rss_${sizeLabel(rssLarge)}`,
      value: b,
      unit: 'MiB',
      baseline: a,
      ratio: round(b / a, 2),
      target: `≤ ${rssTargetMiB} MiB and ratio ≤ 1.2`,
      met: b <= rssTargetMiB && b / a <= 1.2
    }
  ]
}

/** small_N on its own emulator, started with the latency and rate-limit flags. */
async function smallResults(ctx: Ctx, notes: string[]): Promise<Result> {
  const { smallCount, smallSize, latencyMs, ratePerMinute } = ctx.cfg
  const emu = await start(ctx.root, [
    ...['--rate-limit', String(ratePerMinute), '--latency', String(latencyMs)]
  ])
  const dir = join(ctx.tmp, 'ws-small')
  const names = Array.from(
    { length: smallCount },
    (_, i) => `small-${String(i).padStart(3, '0')}.bin`
  )
  progress(`writing ${smallCount} files of ${smallSize} bytes`)
  for (const name of names) await writeRandomFile(join(dir, name), smallSize)
  let runs: SmallRun[]
  try {
    runs = await smallRuns(ctx, emu, dir, names)
  } finally {
    await stop(emu)
  }
  const rateBoundMs = ((CALLS_PER_FILE * smallCount) / ratePerMinute) * 60_000
  const latencyBoundMs = UNAVOIDABLE_ROUND_TRIPS * latencyMs
  const boundS = s(Math.max(rateBoundMs, latencyBoundMs))
  const value = s(median(runs.map(r => r.ms)))
  const worst429 = Math.max(...runs.map(r => r.status429))
  notes.push(
    `small_${smallCount} runs: ${samples(
      runs.map(r => r.ms / 1000),
      's'
    )}; API calls per run ` +
      `${runs.map(r => r.apiCalls).join(', ')}; 429s per run ${runs.map(r => r.status429).join(', ')}. ` +
      `Bound = max(${CALLS_PER_FILE * smallCount} calls / ${ratePerMinute / 60} per s = ${s(rateBoundMs)} s, ` +
      `${UNAVOIDABLE_ROUND_TRIPS} round trips × ${latencyMs} ms = ${s(latencyBoundMs)} s)`
  )
  return {
    name: `small_${smallCount}`,
    value,
    unit: 's',
    baseline: boundS,
    ratio: round(value / boundS, 2),
    target: 'ratio ≤ 1.15, ≤ 3 429s',
    met: value / boundS <= 1.15 && worst429 <= 3
  }
}

/**
 * release_N on an emulator started with the GitHub one beside it: the action publishing a
 * release asset, against the download alone plus the local upload alone, in the same rounds.
 */
async function releaseResults(ctx: Ctx, notes: string[]): Promise<Result> {
  const { releaseSize, releaseRuns, rssTargetMiB } = ctx.cfg
  const label = sizeLabel(releaseSize)
  const emu = await start(ctx.root, ['--github'])
  const ws = await workspace(ctx, releaseSize)
  let rounds
  try {
    rounds = await releaseRounds(ctx, emu, ws, releaseRuns)
  } finally {
    await stop(emu)
    rmSync(ws.dir, { recursive: true, force: true })
  }
  const value = s(median(rounds.map(r => r.releaseMs)))
  const baseline = s(median(rounds.map(r => r.downloadMs)) + median(rounds.map(r => r.uploadMs)))
  const rss = round(median(rounds.map(r => r.releaseRssKiB / 1024)), 1)
  notes.push(
    `release_${label}: runs ${samples(
      rounds.map(r => r.releaseMs / 1000),
      's'
    )}, peak RSS ${samples(
      rounds.map(r => r.releaseRssKiB / 1024),
      'MiB',
      0
    )}; baseline = curl download alone (${samples(
      rounds.map(r => r.downloadMs / 1000),
      's'
    )}) + the action's local upload alone (${samples(
      rounds.map(r => r.uploadMs / 1000),
      's'
    )})`
  )
  return {
    name: `release_${label}`,
    value,
    unit: 's',
    baseline,
    ratio: round(value / baseline, 2),
    target: `ratio ≤ 1.2, peak RSS ≤ ${rssTargetMiB} MiB (${rss} MiB)`,
    met: value / baseline <= 1.2 && rss <= rssTargetMiB
  }
}

/**
 * matrix_RxF on its own emulator (rate limit, latency): R runs at once naming one benefit. The
 * bound is the time the organization's budget needs for every API call the runs made.
 */
async function matrixResults(ctx: Ctx, notes: string[]): Promise<Result> {
  const { matrixRuns: runs, matrixFiles: files, matrixRatePerMinute: rate, latencyMs } = ctx.cfg
  const emu = await start(ctx.root, ['--rate-limit', String(rate), '--latency', String(latencyMs)])
  let run
  try {
    run = await matrixRun(ctx, emu, runs, files, 1)
  } finally {
    await stop(emu)
  }
  const name = `matrix_${runs}x${files}`
  const boundS = s((run.apiCalls / rate) * 60_000)
  const value = s(run.ms)
  const all = runs * files
  notes.push(
    `${name}: ${runs} runs × ${files} files at once, one benefit, budget ${rate}/min, ${latencyMs} ms ` +
      `latency: ${value} s, ${run.apiCalls} API calls (bound ${run.apiCalls} / ${rate} per min = ${boundS} s), ` +
      `${run.status429} × 429 (${run.status429PerRun.join(', ')} per run); the benefit lists ${run.newListed} of ${all} new IDs and ` +
      `${run.oldListed} old ones; ${run.deletedWhileListed} file(s) deleted while listed`
  )
  return {
    name,
    value,
    unit: 's',
    baseline: boundS,
    ratio: round(value / boundS, 2),
    target: `ratio ≤ 1.0, ≤ 5 429s per run, all ${all} new IDs listed`,
    met:
      value / boundS <= 1.0 &&
      Math.max(...run.status429PerRun) <= 5 &&
      run.newListed === all &&
      run.oldListed === 0 &&
      run.deletedWhileListed === 0
  }
}

/**
 * Round trips a small replacing release with one benefit cannot avoid, one after another (the
 * part PUTs to S3 carry no added latency): the planning reads (file listing and benefit listing,
 * together) → the creates (together) → the completions → a fresh read of the benefit → its
 * PATCH → the read-back that verifies it → the delete check (which benefits list the earlier
 * versions now, and the file listing) → the deletes (together) → the verify after them.
 */
const RELEASE_ROUND_TRIPS = 9

interface RttRow {
  name: string
  files: number
  latencyMs: number
  perMinute: number
  /** The budget, not the round trips, bounds it: requests ÷ per-minute budget. */
  budgetBound?: boolean
}

/**
 * rtt_* rows: small releases whose time is set by round trips and pacing. Each row on its own
 * emulator (latency, budget); the bound is computed from the same runs: the round trips the
 * release cannot avoid × the latency + the start-up measured (spawn → first API request), or
 * for a release larger than the burst, its requests ÷ the per-minute budget.
 */
async function rttResults(
  ctx: Ctx,
  notes: string[],
  only: Set<string> | null,
  showTimeline: boolean
): Promise<Result[]> {
  const { rttRuns: runs, rttLarge } = ctx.cfg
  const rows: RttRow[] = [
    { name: 'rtt_1', files: 1, latencyMs: 150, perMinute: 500 },
    { name: 'rtt_10', files: 10, latencyMs: 150, perMinute: 500 },
    { name: 'rtt_10_30ms', files: 10, latencyMs: 30, perMinute: 500 },
    { name: 'rtt_10_sandbox', files: 10, latencyMs: 150, perMinute: 100 },
    {
      name: `rtt_${rttLarge}_sandbox`,
      files: rttLarge,
      latencyMs: 150,
      perMinute: 100,
      budgetBound: true
    }
  ]
  const results: Result[] = []
  for (const row of rows.filter(r => !only || only.has(r.name))) {
    const emu = await start(ctx.root, [
      ...['--rate-limit', String(row.perMinute), '--latency', String(row.latencyMs)]
    ])
    let done: RttRun[]
    try {
      done = await rttRuns(ctx, emu, row.name, row.files, row.perMinute, runs)
    } finally {
      await stop(emu)
    }
    const value = median(done.map(r => r.ms))
    const startup = median(done.map(r => r.startupMs))
    const calls = median(done.map(r => r.apiCalls))
    const bound = row.budgetBound
      ? (calls / row.perMinute) * 60_000
      : startup + RELEASE_ROUND_TRIPS * row.latencyMs
    const limit = row.budgetBound ? 1.1 : 1.3
    const worst429 = Math.max(...done.map(r => r.status429))
    const how = row.budgetBound
      ? `${calls} requests ÷ ${row.perMinute}/min`
      : `start-up ${round(startup, 0)} ms + ${RELEASE_ROUND_TRIPS} round trips × ${row.latencyMs} ms`
    notes.push(
      `${row.name}: ${row.files} file(s) replacing earlier versions listed in one benefit, ` +
        `${row.latencyMs} ms API latency, budget ${row.perMinute}/min: runs ${samples(
          done.map(r => r.ms / 1000),
          's'
        )}; start-up ${samples(
          done.map(r => r.startupMs),
          'ms',
          0
        )}; API requests ` +
        `${done.map(r => r.apiCalls).join(', ')}; 429s ${done.map(r => r.status429).join(', ')}; ` +
        `last answer → exit ${samples(
          done.map(r => r.exitMs),
          'ms',
          0
        )}. ` +
        `Bound = ${how} = ${s(bound)} s`
    )
    if (showTimeline) {
      const mid = [...done].sort((a, b) => a.ms - b.ms)[Math.floor(done.length / 2)]
      progress(
        `${row.name} timeline (ms from spawn; exit at ${round(mid.ms, 0)}):\n${formatTimeline(mid)}`
      )
    }
    results.push({
      name: row.name,
      value: s(value),
      unit: 's',
      baseline: s(bound),
      ratio: round(value / bound, 2),
      target: `ratio ≤ ${limit}, no 429`,
      met: value / bound <= limit && worst429 === 0
    })
  }
  return results
}

async function coldResults(ctx: Ctx, notes: string[]): Promise<Result> {
  const dir = join(ctx.tmp, 'ws-cold')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'small.txt'), 'cold start\n')
  const ms = await coldStartRuns(ctx, dir, 'small.txt')
  const value = round(median(ms), 1)
  notes.push(`cold_start runs: ${samples(ms, 'ms', 1)}`)
  return {
    name: 'cold_start',
    value,
    unit: 'ms',
    baseline: ctx.cfg.coldTargetMs,
    ratio: round(value / ctx.cfg.coldTargetMs, 2),
    target: `≤ ${ctx.cfg.coldTargetMs} ms`,
    met: value <= ctx.cfg.coldTargetMs
  }
}

async function cleanup(): Promise<void> {
  await Promise.allSettled(emulators.map(e => e.stop()))
  if (tmp) rmSync(tmp, { recursive: true, force: true })
}

process.once('SIGINT', () => {
  progress('interrupted; cleaning up')
  void cleanup().finally(() => process.exit(130))
})

main().then(
  () => cleanup(),
  async (error: unknown) => {
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    await cleanup()
    process.exitCode = 1
  }
)
