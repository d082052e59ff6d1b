/**
 * run(): parse inputs → dispatch the mode → outputs, summary, setFailed.
 * With outputs.ts (and post.ts, the post step's own entry), the only place that talks to
 * @actions/core.
 */
import * as core from '@actions/core'
import { tmpdir } from 'node:os'
import type { Dispatcher } from 'undici'
import { runCleanup } from './modes/cleanup.js'
import { CancelledError, errorMessage, RunFailure } from './errors.js'
import { scrubSecrets } from './log.js'
import { parseInputs, type Inputs } from './inputs.js'
import { deprecationWarning, PINNED_VERSION } from './polar/api-version.js'
import { PolarClient, retiredWarning } from './polar/client.js'
import { proxyAwareDispatcher, proxySecrets } from './proxy.js'
import { coreLogger, setOutputs, writeSummary } from './outputs.js'
import { Progress } from './progress.js'
import { emptyReport, type RunReport } from './run-report.js'
import { totalLine } from './summary.js'
import { DEFAULT_POLICY } from './retry.js'
import { POST_STATE, SavedSet } from './post-state.js'
import { runUpload } from './modes/upload/index.js'
import { connectionsFor } from './upload/pool.js'

/** GitHub sends SIGINT on cancel and SIGTERM ~7.5 s later: roll back within this, then leave. */
const CANCEL_ROLLBACK_MS = 5000

/** What the run opened and found: the outputs and the clean-up at the end read it. */
interface RunState {
  report?: RunReport
  apiNotes: string[]
  client?: PolarClient
  s3?: Dispatcher
  progress?: Progress
}

export async function run(): Promise<void> {
  const secrets = maskSecrets()
  const state: RunState = { apiNotes: [] }
  // Saved to the step state at each change: a killed step's post step deletes what is left.
  // (Only where a runner gives a state file: elsewhere there is no post step to read it.)
  const save = process.env.GITHUB_STATE ? core.saveState : () => undefined
  save(POST_STATE.isPost, 'true')
  const incomplete = new SavedSet(ids => save(POST_STATE.unfinished, JSON.stringify(ids)))
  const cancellation = new AbortController()
  const onCancel = (signal: NodeJS.Signals) => cancel(signal, cancellation, incomplete)
  process.on('SIGINT', onCancel)
  process.on('SIGTERM', onCancel)
  try {
    const inputs = parseInputs(name => core.getInput(name))
    for (const warning of inputs.warnings) core.warning(warning)
    state.report = emptyReport(inputs.mode, inputs.dryRun)
    state.report.warnings.push(...inputs.warnings)
    state.report = await runMode(inputs, state, incomplete, cancellation.signal)
    core.info(totalLine(state.report))
  } catch (error) {
    state.report = fail(error, state.report, secrets)
  } finally {
    process.off('SIGINT', onCancel)
    process.off('SIGTERM', onCancel)
    await finish(state)
  }
}

/**
 * Masks the tokens and a proxy URL's password before anything can print them or send a
 * request, even a failed parse; returns them, for scrubbing error messages.
 */
function maskSecrets(): string[] {
  const rawToken = core.getInput('token').trim()
  const githubToken = core.getInput('github-token').trim()
  const secrets = [rawToken, githubToken, ...proxySecrets()].filter(Boolean)
  for (const secret of secrets) core.setSecret(secret)
  return secrets
}

/** The Polar client (after the API version's deprecation check), then the mode's run. */
async function runMode(
  inputs: Inputs,
  state: RunState,
  incomplete: Set<string>,
  signal: AbortSignal
): Promise<RunReport> {
  const retry = { ...DEFAULT_POLICY, retries: inputs.retries }
  const deprecated = deprecationWarning(
    inputs.apiVersion ?? PINNED_VERSION,
    inputs.apiVersion === null,
    clock()
  )
  if (deprecated) {
    core.warning(deprecated)
    state.apiNotes.push(deprecated)
  }
  const client = (state.client = new PolarClient({
    apiUrl: inputs.apiUrl,
    token: inputs.token,
    organizationId: inputs.organizationId,
    apiVersion: inputs.apiVersion,
    retry,
    rateLimitPerMinute: inputs.rateLimit,
    logger: coreLogger
  }))
  if (inputs.dryRun) {
    core.info('Dry run: reading only; nothing will be created, changed or deleted.')
  }
  if (inputs.mode === 'cleanup') return runCleanup(inputs, { client, logger: coreLogger, signal })
  // S3 gets its own pool: one connection per in-flight part, never the API's credentials.
  // Through HTTPS_PROXY / HTTP_PROXY (minus NO_PROXY) when the runner sets them.
  const s3 = (state.s3 = proxyAwareDispatcher({
    connections: connectionsFor(inputs.concurrency),
    keepAliveTimeout: 30_000,
    connectTimeout: 15_000
  }))
  const progress = (state.progress = new Progress(coreLogger))
  return runUpload(inputs, {
    client,
    s3,
    logger: coreLogger,
    retry,
    progress,
    incomplete,
    signal,
    tempRoot: process.env.RUNNER_TEMP || tmpdir(),
    group: (title, lines) => {
      core.startGroup(title)
      for (const line of lines) core.info(line)
      core.endGroup()
    }
  })
}

/** A failed run: its report (with what it did, if it carries it), and the step marked failed. */
function fail(error: unknown, known: RunReport | undefined, secrets: string[]): RunReport {
  const failure = error instanceof RunFailure ? error : undefined
  const report = failure?.report ?? known ?? fallbackReport()
  const message = scrubSecrets(errorMessage(failure ? failure.cause : error), secrets)
  const [first, ...rest] = message.split('\n')
  report.failure = first
  report.failures = report.failures.map(f => scrubSecrets(f, secrets))
  // A multi-line error (`N matched file(s) cannot be uploaded:` and its `  - ` reasons) keeps
  // its reasons in the summary too, not only in the log.
  if (report.failures.length === 0) {
    report.failures = rest.map(l => l.replace(/^\s*-\s*/, '').trim()).filter(Boolean)
  }
  if (didSomething(report)) core.info(totalLine(report))
  core.setFailed(message)
  return report
}

/** Outputs on every path (empty arrays when nothing was done), so `fromJSON()` never breaks. */
async function finish({ report = fallbackReport(), apiNotes, client, s3, progress }: RunState) {
  progress?.stop()
  const retired = client?.retired
  if (retired) apiNotes.push(retiredWarning(retired.version, retired.answered ?? 'unknown'))
  if (apiNotes.length) report.apiNotes = apiNotes
  try {
    setOutputs(report)
  } catch (e) {
    core.setFailed(`Could not write the outputs: ${errorMessage(e)}`)
  }
  await writeSummary(report).catch(e =>
    core.warning(`Could not write the job summary: ${errorMessage(e)}`)
  )
  await Promise.allSettled([client?.close(), s3?.close()])
}

/** The current time; POLAR_FILES_ACTION_NOW (ISO 8601) sets it, for tests of the schedule. */
function clock(): Date {
  const fixed = process.env.POLAR_FILES_ACTION_NOW
  const date = fixed ? new Date(fixed) : new Date()
  return Number.isNaN(date.getTime()) ? new Date() : date
}

/** The report of a run that failed before its inputs were read: mode as far as it can tell. */
function fallbackReport(): RunReport {
  const mode = core.getInput('mode').trim().toLowerCase() === 'cleanup' ? 'cleanup' : 'upload'
  return emptyReport(mode, core.getInput('dry-run').trim() === 'true')
}

function didSomething(r: RunReport): boolean {
  return r.files.length + r.deleted.length + r.kept.length + r.patchedBenefits.length > 0
}

/**
 * A cancelled job: no new write starts, uploads in progress stop and delete what they created
 * (their own rollback), and the run ends with its outputs and summary. If that takes longer
 * than the runner's grace period allows, leave anyway, naming what could not be deleted.
 */
function cancel(
  signal: NodeJS.Signals,
  cancellation: AbortController,
  incomplete: Set<string>
): void {
  if (cancellation.signal.aborted) return
  core.error(`Cancelled (${signal}): stopping, and deleting uploads that did not complete.`)
  cancellation.abort(new CancelledError())
  setTimeout(() => {
    if (incomplete.size > 0) {
      core.error(
        `Could not delete incomplete upload(s) ${[...incomplete].join(', ')} in time: ` +
          'delete them with DELETE /v1/files/<id>.'
      )
    }
    process.exit(1)
  }, CANCEL_ROLLBACK_MS).unref()
}
