/**
 * The `post:` step (post-if: always()). Polar never cleans an unfinished upload, and a main
 * step killed past its cancel grace cannot delete its own: it saved their IDs in the step
 * state as they were created. A main step that ended normally left none, and then this step
 * makes no API call at all. An edge module like main.ts: it talks to @actions/core.
 */
import * as core from '@actions/core'
import { errorMessage } from './errors.js'
import { parseInputs } from './inputs.js'
import { scrubSecrets } from './log.js'
import { PolarClient } from './polar/client.js'
import { removeUnfinished } from './polar/operations.js'
import { parseUnfinished, POST_STATE } from './post-state.js'
import { proxySecrets } from './proxy.js'
import { coreLogger } from './outputs.js'
import { DEFAULT_POLICY } from './retry.js'

export async function runPost(): Promise<void> {
  const ids = parseUnfinished(core.getState(POST_STATE.unfinished))
  if (ids.length === 0) return
  const token = core.getInput('token').trim()
  // The same secrets the main step masks: this step sends requests through the same proxy.
  const secrets = [token, ...proxySecrets()].filter(Boolean)
  for (const secret of secrets) core.setSecret(secret)
  core.info(`The main step left ${ids.length} unfinished upload(s): ${ids.join(', ')}.`)
  let client: PolarClient | undefined
  try {
    const inputs = parseInputs(name => core.getInput(name))
    client = new PolarClient({
      apiUrl: inputs.apiUrl,
      token: inputs.token,
      organizationId: inputs.organizationId,
      apiVersion: inputs.apiVersion,
      retry: { ...DEFAULT_POLICY, retries: inputs.retries },
      rateLimitPerMinute: inputs.rateLimit,
      logger: coreLogger
    })
    const { failed } = await removeUnfinished(client, ids, coreLogger)
    if (failed.length > 0) {
      core.setFailed(
        `Could not delete unfinished upload(s) (delete them with DELETE /v1/files/<id>):\n  - ` +
          failed.map(f => `${f.id}: ${f.reason}`).join('\n  - ')
      )
    }
  } catch (error) {
    core.setFailed(
      `Could not delete the unfinished upload(s) ${ids.join(', ')} ` +
        `(delete them with DELETE /v1/files/<id>): ${scrubSecrets(errorMessage(error), secrets)}`
    )
  } finally {
    await client?.close()
  }
}
