/**
 * run(): parse inputs → dispatch the mode → outputs, summary, setFailed.
 * The only place (with report.ts) that talks to @actions/core.
 */
import * as core from '@actions/core'
import { Agent } from 'undici'
import { runCleanup } from './cleanup.js'
import { errorMessage } from './errors.js'
import { parseInputs } from './inputs.js'
import { PolarClient } from './polar/client.js'
import {
  coreLogger,
  emptyReport,
  Progress,
  setOutputs,
  totalLine,
  writeSummary,
  type RunReport
} from './report.js'
import { DEFAULT_POLICY } from './retry.js'
import { runUpload } from './upload-mode.js'

/** GitHub sends SIGINT on cancel and SIGTERM ~7.5 s later: leave time to roll back first. */
const CANCEL_ROLLBACK_MS = 5000

export async function run(): Promise<void> {
  // Mask the token before anything can print it, even a failed parse.
  const rawToken = core.getInput('token').trim()
  if (rawToken) core.setSecret(rawToken)

  let report: RunReport | undefined
  let client: PolarClient | undefined
  let s3: Agent | undefined
  let progress: Progress | undefined
  const incomplete = new Set<string>()
  const onCancel = (signal: NodeJS.Signals) => void cancel(signal, client, incomplete)
  process.once('SIGINT', onCancel)
  process.once('SIGTERM', onCancel)
  try {
    const inputs = parseInputs(name => core.getInput(name))
    report = emptyReport(inputs.mode, inputs.dryRun)
    const retry = { ...DEFAULT_POLICY, retries: inputs.retries }
    client = new PolarClient({
      apiUrl: inputs.apiUrl,
      token: inputs.token,
      organizationId: inputs.organizationId,
      retry,
      rateLimitPerMinute: inputs.rateLimit,
      logger: coreLogger
    })
    if (inputs.dryRun) {
      core.info('Dry run: reading only; nothing will be created, changed or deleted.')
    }

    if (inputs.mode === 'cleanup') {
      report = await runCleanup(inputs, { client, logger: coreLogger })
    } else {
      // S3 gets its own pool: one connection per in-flight part, never the API's credentials.
      s3 = new Agent({
        connections: inputs.concurrency,
        keepAliveTimeout: 30_000,
        connectTimeout: 15_000
      })
      progress = new Progress(coreLogger)
      report = await runUpload(inputs, {
        client,
        s3,
        logger: coreLogger,
        retry,
        progress,
        incomplete,
        group: (title, lines) => {
          core.startGroup(title)
          for (const line of lines) core.info(line)
          core.endGroup()
        }
      })
    }
    core.info(totalLine(report))
  } catch (error) {
    const partial = (error as { report?: RunReport }).report
    if (partial) report = partial
    if (report) core.info(totalLine(report))
    core.setFailed(errorMessage(error))
  } finally {
    process.off('SIGINT', onCancel)
    process.off('SIGTERM', onCancel)
    progress?.stop()
    if (report) {
      setOutputs(report)
      await writeSummary(report).catch(e =>
        core.warning(`Could not write the job summary: ${errorMessage(e)}`)
      )
    }
    await Promise.allSettled([client?.close(), s3?.close()])
  }
}

/** A cancelled job: delete the uploads this run created but did not complete, then exit. */
async function cancel(
  signal: NodeJS.Signals,
  client: PolarClient | undefined,
  incomplete: Set<string>
): Promise<void> {
  const ids = [...incomplete]
  core.error(`Cancelled (${signal}). Deleting ${ids.length} incomplete upload(s) before exiting.`)
  if (client && ids.length > 0) {
    const pending = new Set(ids)
    const deletions = Promise.allSettled(
      ids.map(id => client.deleteFile(id).then(() => pending.delete(id)))
    )
    await Promise.race([
      deletions,
      new Promise(resolve => setTimeout(resolve, CANCEL_ROLLBACK_MS).unref())
    ])
    if (pending.size > 0) {
      core.error(
        `Could not delete incomplete upload(s) ${[...pending].join(', ')}: delete them by ID.`
      )
    }
  }
  process.exit(1)
}
