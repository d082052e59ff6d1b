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
  /** Cold-start target (ms): the baseline of the cold_start ratio. */
  coldTargetMs: number
  /** Peak-RSS target (MiB): the baseline of the rss ratio. */
  rssTargetMiB: number
}

const COMMON = {
  smallSize: 10 * KIB,
  latencyMs: 50,
  ratePerMinute: 1200,
  coldTargetMs: 150,
  rssTargetMiB: 128
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
  coldRuns: 5
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
  coldRuns: 3
}
