/**
 * What the upload mode's phases share: their dependencies, the prepared run they work from, and
 * how a failure carries the report. Below every phase (none imports index.ts).
 */
import type { LiveFiles } from '../../live-files.js'
import { RunFailure } from '../../errors.js'
import type { BenefitDownloadables, FileRead } from '../../polar/types.js'
import type { RunReport } from '../../run-report.js'
import type { Plan } from '../../upload/plan.js'
import type { PublishDeps } from '../../upload/publish.js'

export interface UploadDeps extends PublishDeps {
  /** RUNNER_TEMP: a scratch folder of this run goes there (downloads, the manifest). */
  tempRoot: string
}

/** What every phase after `prepare` works from. */
export interface Prepared {
  plan: Plan
  /** Every file of the organization at the start of the run. */
  existing: FileRead[]
  /** The benefits in `benefit-ids`, as first read. */
  targets: BenefitDownloadables[]
  /** Every downloadables benefit (read when replacing: proves benefits:read before writes). */
  allBenefits: BenefitDownloadables[]
  liveFiles: LiveFiles
}

/** What the planning reads found (the file listing, the benefits). */
export type Reads = Omit<Prepared, 'plan'>

/** Failed runs still carry what they did, for the outputs and the summary. */
export function rethrowWithReport(error: unknown, report: RunReport): never {
  throw new RunFailure(error, report)
}
