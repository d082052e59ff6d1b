/** What the full bench and the smoke run measure. */
import { GIB, KIB, MIB } from './util.js'

export interface BenchConfig {
  smoke: boolean
  /** e2e / limit / sequential file size. */
  big: number
  bigRuns: number
  rssSmall: number
  rssLarge: number
  rssRuns: number
  smallCount: number
  smallSize: number
  smallRuns: number
  /** small_N: the emulator's added API latency and both sides' requests-per-minute budget. */
  latencyMs: number
  ratePerMinute: number
  /** release_N: the size of the GitHub release asset, and rounds. */
  releaseSize: number
  releaseRuns: number
  /** matrix_RxF: R concurrent runs of F files, one benefit, one shared budget. */
  matrixRuns: number
  matrixFiles: number
  matrixRatePerMinute: number
  coldRuns: number
  /** rtt_* rows: runs per row, and the file count of the budget-bound row (rtt_N_sandbox). */
  rttRuns: number
  rttLarge: number
  /** Cold-start target (ms): the baseline of the cold_start ratio. */
  coldTargetMs: number
  /** Peak-RSS target (MiB): the baseline of the rss ratio. */
  rssTargetMiB: number
  /** Network rows (bench/network.ts): file sizes and runs. */
  net: NetConfig
}

/** The network-model rows: wan, multi vs single, auto. Rates in bytes per second (decimal MB). */
export interface NetConfig {
  /** One file for wan, single, auto_fat and auto vs 8 on loopback. */
  size: number
  /** The many-file release: count × size (= `size` in the full run). */
  multiCount: number
  multiSize: number
  /**
   * auto_fat's file: larger, so that what every upload pays once whatever its concurrency (the
   * first round trips, create, complete, the last parts' tail) weighs less than the control.
   */
  fatSize: number
  /** wan_N and auto_fat runs; multi/single and auto/8 pairs. */
  runs: number
  pairs: number
  /** Per S3 connection (a TCP stream's window / RTT), RTT, and the aggregate cap of auto_fat. */
  connectionBytesPerSec: number
  rttMs: number
  fatTotalBytesPerSec: number
  /** The fixed concurrency the wan ideal is computed for (the action's default). */
  wanConcurrency: number
}

const COMMON = {
  smallSize: 10 * KIB,
  latencyMs: 50,
  ratePerMinute: 1200,
  coldTargetMs: 150,
  rssTargetMiB: 128
}

const NET = {
  connectionBytesPerSec: 25e6,
  rttMs: 30,
  fatTotalBytesPerSec: 400e6,
  wanConcurrency: 8,
  multiCount: 8
}

export const FULL: BenchConfig = {
  ...COMMON,
  smoke: false,
  big: GIB,
  bigRuns: 3,
  rssSmall: 256 * MIB,
  rssLarge: 4 * GIB,
  rssRuns: 3,
  smallCount: 100,
  smallRuns: 3,
  releaseSize: GIB,
  releaseRuns: 3,
  matrixRuns: 4,
  matrixFiles: 15,
  matrixRatePerMinute: 100,
  coldRuns: 5,
  rttRuns: 3,
  rttLarge: 50,
  net: { ...NET, size: GIB, multiSize: 128 * MIB, fatSize: 2 * GIB, runs: 3, pairs: 5 }
}

/** Tiny sizes, for CI: the same code paths in well under a minute. */
export const SMOKE: BenchConfig = {
  ...COMMON,
  smoke: true,
  big: 8 * MIB,
  bigRuns: 3,
  rssSmall: 8 * MIB,
  rssLarge: 64 * MIB,
  rssRuns: 3,
  smallCount: 10,
  smallRuns: 3,
  releaseSize: 8 * MIB,
  releaseRuns: 2,
  matrixRuns: 2,
  matrixFiles: 3,
  matrixRatePerMinute: 600,
  coldRuns: 3,
  rttRuns: 1,
  rttLarge: 12,
  net: { ...NET, size: 48 * MIB, multiSize: 6 * MIB, fatSize: 64 * MIB, runs: 1, pairs: 1 }
}
