/**
 * The network rows: the bundled action against emulators started with the S3 network model
 * (emulator/polar/network.ts), so what is measured is the action on a path like a real one —
 * each connection capped, a round trip per request — instead of loopback, where the emulator's
 * own hashing is the floor. Every emulator here trusts the signed checksums (no MD5 + SHA-256
 * of every byte on its core), except the loopback pair that compares `auto` with `8` on
 * exactly the e2e setting.
 *
 *   wan_N         N bytes, per-connection cap + RTT, concurrency 8 (the default) vs the ideal
 *                 hash + bytes ÷ (8 × cap)
 *   single_N / multi_CxS   one file vs C files of S bytes (same total) on an uncapped
 *                 trust-checksums S3: hashing the later files should hide behind the uploads
 *   auto_fat      concurrency auto, per-connection cap + RTT + an aggregate cap, a 2 GiB file:
 *                 the upload's throughput (create → complete; hashing excluded) vs that cap
 *   auto_N        concurrency auto vs 8 on the loopback e2e setting (hashing emulator)
 *   wan_N_auto    (no target) concurrency auto on the wan network vs wan_N
 *   multi_CxS_wan (no target) the C files on the wan network vs wan_N: with uploads bound by
 *                 the network rather than the cores, the later files' hashing hides
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { EmulatorProcess, LogEntry } from './emulator.js'
import { writeRandomFile } from './files.js'
import type { Result } from './report.js'
import { uploadRun, type Ctx, type Workspace } from './scenarios.js'
import { median, MIB, progress, round, sizeLabel, timeCommandOk } from './util.js'

type Start = (args: string[]) => Promise<EmulatorProcess>
type Stop = (emu: EmulatorProcess) => Promise<void>

const s = (ms: number): number => round(ms / 1000, 2)
const list = (xs: number[], digits = 2): string => xs.map(x => round(x, digits)).join(', ')

/** What the emulator saw of one run: the upload phase (create → complete) and the S3 PUTs. */
interface Phases {
  /** First create's start to the last completion's end, ms. */
  uploadMs: number
  /** First PUT's start to the last PUT's end, ms. */
  putMs: number
  bytes: number
  /** Most PUTs in flight at once. */
  peakPuts: number
}

function phases(log: LogEntry[]): Phases {
  const creates = log.filter(
    e => e.target === 'api' && e.method === 'POST' && e.path === '/v1/files/'
  )
  const completes = log.filter(e => e.target === 'api' && e.path.endsWith('/uploaded'))
  const puts = log.filter(e => e.target === 's3' && e.method === 'PUT' && e.status === 200)
  if (!creates.length || !completes.length || !puts.length) {
    throw new Error('the emulator log holds no complete upload')
  }
  const edges = puts.flatMap(p => [
    { t: p.startedAt, d: 1 },
    { t: p.endedAt, d: -1 }
  ])
  edges.sort((a, b) => a.t - b.t || a.d - b.d)
  let now = 0
  let peakPuts = 0
  for (const e of edges) peakPuts = Math.max(peakPuts, (now += e.d))
  return {
    uploadMs:
      Math.max(...completes.map(e => e.endedAt)) - Math.min(...creates.map(e => e.startedAt)),
    putMs: Math.max(...puts.map(e => e.endedAt)) - Math.min(...puts.map(e => e.startedAt)),
    bytes: puts.reduce((sum, p) => sum + (p.contentLength ?? 0), 0),
    peakPuts
  }
}

/** One action run with the emulator's log cleared before and read after. */
async function measured(
  ctx: Ctx,
  emu: EmulatorProcess,
  ws: Workspace,
  extra: Record<string, string>
): Promise<{ ms: number; maxRssKiB: number; phases: Phases }> {
  await emu.clearLog()
  const r = await uploadRun(ctx, emu, ws, extra)
  return { ...r, phases: phases(await emu.log()) }
}

async function opensslMs(path: string): Promise<number> {
  return (await timeCommandOk('openssl', ['dgst', '-sha256', '-binary', path])).ms
}

export interface NetworkDeps {
  start: Start
  stop: Stop
}

/** Every network row; files are written here and removed before returning. */
export async function networkResults(
  ctx: Ctx,
  deps: NetworkDeps,
  notes: string[]
): Promise<Result[]> {
  const { net } = ctx.cfg
  const dir = join(ctx.tmp, 'ws-net')
  const one: Workspace = { dir: join(dir, 'one'), file: `net-${sizeLabel(net.size)}.bin` }
  const many: Workspace = { dir: join(dir, 'many'), file: 'part-*.bin' }
  progress(
    `writing ${one.file} (${(net.size / MIB).toFixed(0)} MiB) and ${net.multiCount} × ${sizeLabel(net.multiSize)}`
  )
  await writeRandomFile(join(one.dir, one.file), net.size)
  for (let i = 0; i < net.multiCount; i++) {
    await writeRandomFile(join(many.dir, `part-${i}.bin`), net.multiSize)
  }
  try {
    const rows = [
      ...(await wanRows(ctx, deps, one, many, notes)),
      ...(await multiRows(ctx, deps, one, many, notes))
    ]
    rmSync(many.dir, { recursive: true, force: true })
    const fat: Workspace = { dir: join(dir, 'fat'), file: `fat-${sizeLabel(net.fatSize)}.bin` }
    progress(`writing ${fat.file} (${(net.fatSize / MIB).toFixed(0)} MiB)`)
    await writeRandomFile(join(fat.dir, fat.file), net.fatSize)
    rows.push(...(await fatRows(ctx, deps, fat, notes)))
    rmSync(fat.dir, { recursive: true, force: true })
    rows.push(...(await autoLoopbackRows(ctx, deps, one, notes)))
    return rows
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function wanFlags(ctx: Ctx): string[] {
  const { net } = ctx.cfg
  return [
    ...['--s3-bandwidth', String(net.connectionBytesPerSec), '--s3-rtt', String(net.rttMs)],
    '--s3-trust-checksums'
  ]
}

/** wan_N at the default concurrency against its ideal; wan_N_auto alongside (no target). */
async function wanRows(
  ctx: Ctx,
  deps: NetworkDeps,
  ws: Workspace,
  many: Workspace,
  notes: string[]
): Promise<Result[]> {
  const { net } = ctx.cfg
  const label = `wan_${sizeLabel(net.size)}`
  const multiLabel = `multi_${net.multiCount}x${sizeLabel(net.multiSize)}_wan`
  const emu = await deps.start(wanFlags(ctx))
  const hash: number[] = []
  const fixed: { ms: number; phases: Phases }[] = []
  const auto: { ms: number; phases: Phases }[] = []
  const multi: number[] = []
  try {
    for (let i = 0; i < net.runs; i++) {
      hash.push(await opensslMs(join(ws.dir, ws.file)))
      const a = await measured(ctx, emu, ws, { concurrency: String(net.wanConcurrency) })
      fixed.push(a)
      progress(
        `${label} run ${i + 1}: ${s(a.ms)} s (PUTs ${s(a.phases.putMs)} s, openssl ${s(hash[i])} s)`
      )
      const b = await measured(ctx, emu, ws, { concurrency: 'auto' })
      auto.push(b)
      progress(`${label}_auto run ${i + 1}: ${s(b.ms)} s (peak ${b.phases.peakPuts} PUTs)`)
      const c = await uploadRun(ctx, emu, many, { concurrency: String(net.wanConcurrency) })
      multi.push(c.ms)
      progress(`${multiLabel} run ${i + 1}: ${s(c.ms)} s`)
    }
  } finally {
    await deps.stop(emu)
  }
  const hashS = median(hash) / 1000
  // Parts of the default 16 MiB: fewer than the concurrency (the smoke run) cannot use all of it.
  const streams = Math.min(net.wanConcurrency, Math.ceil(net.size / (16 * MIB)))
  const idealS = hashS + net.size / (streams * net.connectionBytesPerSec)
  const value = s(median(fixed.map(r => r.ms)))
  const autoS = s(median(auto.map(r => r.ms)))
  notes.push(
    `${label}: ${sizeLabel(net.size)}, ${net.connectionBytesPerSec / 1e6} MB/s per connection, ` +
      `${net.rttMs} ms RTT (a new connection's first request: 2 RTT), trust-checksums S3, ` +
      `concurrency ${net.wanConcurrency}. Runs ${list(fixed.map(r => r.ms / 1000))} s; ` +
      `PUT phase ${list(fixed.map(r => r.phases.putMs / 1000))} s. Ideal = openssl sha256 ` +
      `(${list(hash.map(h => h / 1000))} s, median ${round(hashS, 2)}) + ` +
      `${round(net.size / 1e6, 1)} MB ÷ (${streams} × ${net.connectionBytesPerSec / 1e6} MB/s) = ${round(idealS, 2)} s`,
    `${label}_auto: the same network with concurrency auto: runs ${list(auto.map(r => r.ms / 1000))} s; ` +
      `peak PUTs in flight ${auto.map(r => r.phases.peakPuts).join(', ')}`,
    `${multiLabel}: the ${net.multiCount} files of ${sizeLabel(net.multiSize)} on the same network, ` +
      `concurrency ${net.wanConcurrency}: runs ${list(multi.map(ms => ms / 1000))} s`
  )
  return [
    {
      name: label,
      value,
      unit: 's',
      baseline: round(idealS, 2),
      ratio: round(value / idealS, 2),
      target: 'ratio ≤ 1.10',
      met: value / idealS <= 1.1
    },
    {
      name: `${label}_auto`,
      value: autoS,
      unit: 's',
      baseline: value,
      ratio: round(autoS / value, 2)
    },
    {
      name: multiLabel,
      value: s(median(multi)),
      unit: 's',
      baseline: value,
      ratio: round(median(multi) / 1000 / value, 2)
    }
  ]
}

/** single_N and multi_CxS, interleaved pair by pair, on an uncapped trust-checksums S3. */
async function multiRows(
  ctx: Ctx,
  deps: NetworkDeps,
  one: Workspace,
  many: Workspace,
  notes: string[]
): Promise<Result[]> {
  const { net } = ctx.cfg
  const single = `single_${sizeLabel(net.size)}`
  const multi = `multi_${net.multiCount}x${sizeLabel(net.multiSize)}`
  const emu = await deps.start(['--s3-trust-checksums'])
  const a: number[] = []
  const b: number[] = []
  try {
    for (let i = 0; i < net.pairs; i++) {
      a.push((await uploadRun(ctx, emu, one)).ms)
      b.push((await uploadRun(ctx, emu, many)).ms)
      progress(`${single} / ${multi} pair ${i + 1}: ${s(a[i])} s / ${s(b[i])} s`)
    }
  } finally {
    await deps.stop(emu)
  }
  const singleS = s(median(a))
  const multiS = s(median(b))
  const pairRatios = a.map((x, i) => b[i] / x)
  notes.push(
    `${single} / ${multi} (trust-checksums S3, no caps, default inputs): ${list(a.map(x => x / 1000))} s / ` +
      `${list(b.map(x => x / 1000))} s; ratio per pair ${list(pairRatios)}`
  )
  return [
    { name: single, value: singleS, unit: 's', baseline: null, ratio: null },
    {
      name: multi,
      value: multiS,
      unit: 's',
      baseline: singleS,
      ratio: round(multiS / singleS, 2),
      target: 'ratio ≤ 0.95',
      met: multiS / singleS <= 0.95
    }
  ]
}

/** auto_fat: concurrency auto under a per-connection and an aggregate cap. */
async function fatRows(
  ctx: Ctx,
  deps: NetworkDeps,
  ws: Workspace,
  notes: string[]
): Promise<Result[]> {
  const { net } = ctx.cfg
  const capMBs = net.fatTotalBytesPerSec / 1e6
  const fatEmu = await deps.start([
    ...wanFlags(ctx),
    ...['--s3-total-bandwidth', String(net.fatTotalBytesPerSec)]
  ])
  const fat: Phases[] = []
  try {
    for (let i = 0; i < net.runs; i++) {
      const r = await measured(ctx, fatEmu, ws, { concurrency: 'auto' })
      fat.push(r.phases)
      progress(
        `auto_fat run ${i + 1}: ${round(r.phases.bytes / r.phases.uploadMs / 1000, 1)} MB/s ` +
          `(upload ${s(r.phases.uploadMs)} s, peak ${r.phases.peakPuts} PUTs, wall ${s(r.ms)} s)`
      )
    }
  } finally {
    await deps.stop(fatEmu)
  }
  const rates = fat.map(p => p.bytes / p.uploadMs / 1000)
  const fatMBs = round(median(rates), 1)
  notes.push(
    `auto_fat: ${sizeLabel(net.fatSize)}, concurrency auto, ${net.connectionBytesPerSec / 1e6} MB/s per connection, ` +
      `${capMBs} MB/s in all, ${net.rttMs} ms RTT, trust-checksums S3. Throughput = bytes ÷ (first create → ` +
      `last completion), by the emulator's log: ${list(rates, 1)} MB/s; peak PUTs in flight ` +
      `${fat.map(p => p.peakPuts).join(', ')}`
  )
  return [
    {
      name: 'auto_fat',
      value: fatMBs,
      unit: 'MB/s',
      baseline: capMBs,
      ratio: round(fatMBs / capMBs, 2),
      target: 'ratio ≥ 0.90',
      met: fatMBs / capMBs >= 0.9
    }
  ]
}

/** auto_N: concurrency auto vs 8 on the loopback e2e setting (hashing emulator). */
async function autoLoopbackRows(
  ctx: Ctx,
  deps: NetworkDeps,
  ws: Workspace,
  notes: string[]
): Promise<Result[]> {
  const { net } = ctx.cfg
  const label = `auto_${sizeLabel(net.size)}`
  const emu = await deps.start([])
  const auto: number[] = []
  const fixed: number[] = []
  const peaks: number[] = []
  try {
    for (let i = 0; i < net.pairs; i++) {
      const r = await measured(ctx, emu, ws, { concurrency: 'auto' })
      auto.push(r.ms)
      peaks.push(r.phases.peakPuts)
      fixed.push((await uploadRun(ctx, emu, ws, { concurrency: '8' })).ms)
      progress(`${label} / concurrency 8 pair ${i + 1}: ${s(auto[i])} s / ${s(fixed[i])} s`)
    }
  } finally {
    await deps.stop(emu)
  }
  const autoS = s(median(auto))
  const fixedS = s(median(fixed))
  notes.push(
    `${label}: concurrency auto vs 8 on the e2e setting (hashing emulator, loopback), pair by pair: ` +
      `${list(auto.map(x => x / 1000))} s vs ${list(fixed.map(x => x / 1000))} s; auto's peak PUTs ` +
      `${peaks.join(', ')}`
  )
  return [
    {
      name: label,
      value: autoS,
      unit: 's',
      baseline: fixedS,
      ratio: round(autoS / fixedS, 2),
      target: 'ratio ≤ 1.05',
      met: autoS / fixedS <= 1.05
    }
  ]
}
