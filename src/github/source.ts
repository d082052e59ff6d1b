/**
 * The `release` source: a GitHub release's assets as planned files. Waits (up to release-wait)
 * for the release, for every pattern to match and for assets still uploading; reuses an
 * asset whose digest equals a same-name Polar file's SHA-256 without downloading it; downloads
 * and verifies the rest. All of it happens before the first Polar write. Loaded only when
 * `release` is set, so a plain upload never loads Octokit.
 */
import { mkdtemp } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage, InputError, PlanError, throwIfCancelled } from '../errors.js'
import type { Inputs, ReleaseRef } from '../inputs.js'
import { mapSettled } from '../limiter.js'
import type { Logger } from '../log.js'
import type { FileRead } from '../polar/types.js'
import { findUnchanged } from '../replace.js'
import { delay, type RetryPolicy } from '../retry.js'
import { formatBytes } from '../units.js'
import { claimName, renderName } from '../upload/names.js'
import { effectivePartSize, layoutParts } from '../upload/parts.js'
import { mimeTypeOf, type Plan, type PlannedFile } from '../upload/plan.js'
import { GitHubReleases } from './client.js'
import { downloadAsset } from './download.js'
import { digestHex, selectAssets, type Asset, type Selection } from './select.js'

/**
 * Between two looks at a release that is not complete yet: growing, so a long release-wait
 * costs tens of API calls, not hundreds (GITHUB_TOKEN has 1,000 an hour per repository).
 */
const POLL_MS = 5000
const POLL_MAX_MS = 30_000
const DOWNLOAD_CONCURRENCY = 4

export interface ReleaseSourceDeps {
  logger: Logger
  retry: RetryPolicy
  signal?: AbortSignal
  /** The Polar files of the organization (for reuse without download). */
  existing: () => Promise<FileRead[]>
  /** Where the downloads go (the caller removes it). */
  tempRoot: string
}

/** What the release source reads of the inputs. */
export type ReleaseOptions = Pick<
  Inputs,
  | 'release'
  | 'githubToken'
  | 'patterns'
  | 'ifNoFilesFound'
  | 'ifUnchanged'
  | 'dryRun'
  | 'version'
  | 'partSize'
  | 'releaseWaitMs'
  | 'nameTemplate'
>

export async function planRelease(inputs: ReleaseOptions, deps: ReleaseSourceDeps): Promise<Plan> {
  const ref = inputs.release!
  const github = new GitHubReleases(ref, {
    token: inputs.githubToken,
    retry: deps.retry,
    logger: deps.logger,
    signal: deps.signal
  })
  if (!inputs.githubToken) {
    deps.logger.info(
      `github-token is empty: reading ${ref.owner}/${ref.repo} without a token (public ` +
        'repositories only, 60 requests an hour).'
    )
  }
  try {
    const selection = await waitForRelease(github, ref, inputs, deps)
    const unmatchedMessage = !selection.unmatched.length
      ? null
      : inputs.patterns.length
        ? `${selection.unmatched.length} of the patterns in \`files\` matched no asset of release ` +
          `${ref.tag} in ${ref.owner}/${ref.repo}: ${selection.unmatched.map(p => `'${p}'`).join(', ')}.`
        : `Release ${ref.tag} in ${ref.owner}/${ref.repo} has no assets.`
    if (unmatchedMessage && inputs.ifNoFilesFound === 'error') {
      throw new InputError(
        'files',
        `${unmatchedMessage} Check the asset names (GitHub renames spaces and special characters ` +
          'to dots), raise release-wait if they are still being attached, or set if-no-files-found: warn.'
      )
    }
    const files = await planAssets(selection.chosen, inputs)
    const existing = await deps.existing()
    const reuse = inputs.ifUnchanged === 'skip'
    // Not downloaded: what is reused, and in a dry run anything whose digest GitHub gives.
    const needed = files.filter(
      f =>
        !(
          f.sha256 &&
          (inputs.dryRun || (reuse && findUnchanged(f.name, f.sha256, existing, inputs.version)))
        )
    )
    if (needed.length) await download(github, needed, selection.chosen, inputs.partSize, deps)
    return {
      files,
      unmatched: selection.unmatched,
      hiddenSkipped: 0,
      unmatchedMessage,
      warnings: []
    }
  } finally {
    await github.close()
  }
}

/** Looks until the release exists, every pattern matches and every chosen asset is uploaded. */
async function waitForRelease(
  github: GitHubReleases,
  ref: ReleaseRef,
  inputs: ReleaseOptions,
  deps: ReleaseSourceDeps
): Promise<Selection> {
  const deadline = Date.now() + inputs.releaseWaitMs
  let pause = POLL_MS
  const wait = async (left: number) => {
    await delay(Math.min(pause, left), deps.signal)
    pause = Math.min(POLL_MAX_MS, pause * 1.5)
  }
  let release: { id: number } | undefined
  for (;;) {
    throwIfCancelled(deps.signal)
    const left = deadline - Date.now()
    try {
      release ??= await github.release() // found once, its ID stays
    } catch (error) {
      // `release: published` can fire before a release is visible by tag everywhere.
      if (!(error instanceof InputError && error.input === 'release') || left <= 0) throw error
      deps.logger.info(
        `Release ${ref.tag} is not visible yet; looking again (${seconds(left)} left).`
      )
      await wait(left)
      continue
    }
    const assets = await github.assets(release.id)
    const selection = selectAssets(assets, inputs.patterns)
    const waitingFor = [
      ...selection.unmatched.map(p => `a match for '${p}'`),
      ...selection.pending.map(a => `${a.name} (${a.state})`)
    ]
    if (waitingFor.length === 0) return selection
    if (left <= 0) {
      if (selection.pending.length) {
        throw new InputError(
          'release-wait',
          `release ${ref.tag} still has asset(s) being uploaded: ` +
            `${selection.pending.map(a => `${a.name} (state ${a.state})`).join(', ')}. ` +
            `${inputs.releaseWaitMs ? `Waited ${seconds(inputs.releaseWaitMs)}; raise it` : 'Set it (e.g. 10m)'} ` +
            "so the run waits for the release's uploads to finish."
        )
      }
      return selection
    }
    deps.logger.info(
      `Waiting for ${waitingFor.join(', ')} in release ${ref.tag} (${seconds(left)} left).`
    )
    await wait(left)
  }
}

/** Names from the `name` template over asset names; checked like local files. */
async function planAssets(assets: Asset[], inputs: ReleaseOptions): Promise<PlannedFile[]> {
  const problems: string[] = []
  const byName = new Map<string, string>()
  const files: PlannedFile[] = []
  for (const asset of assets) {
    const name = renderName(inputs.nameTemplate, asset.name, inputs.version)
    const clash = claimName(
      name,
      asset.name,
      byName,
      'Use a `name` template that tells them apart.'
    )
    if (clash) problems.push(clash)
    else {
      files.push({
        path: '',
        relativePath: asset.name,
        name,
        size: asset.size,
        mimeType: await mimeTypeOf(name, asset.name),
        sha256: digestHex(asset.digest) ?? undefined
      })
    }
  }
  if (problems.length) {
    throw new PlanError(
      `${problems.length} release asset(s) cannot be published:\n  - ${problems.join('\n  - ')}`
    )
  }
  return files
}

/** Downloads `needed` (a bounded pool), each verified; every failure is reported together. */
async function download(
  github: GitHubReleases,
  needed: PlannedFile[],
  assets: Asset[],
  partSize: number,
  deps: ReleaseSourceDeps
): Promise<void> {
  const dir = await mkdtemp(join(deps.tempRoot, 'polar-release-'))
  const total = needed.reduce((sum, f) => sum + f.size, 0)
  deps.logger.info(`Downloading ${needed.length} release asset(s), ${formatBytes(total)}.`)
  const byName = new Map(assets.map(a => [a.name, a]))
  const results = await mapSettled(needed, DOWNLOAD_CONCURRENCY, async file => {
    const parts = layoutParts(file.size, effectivePartSize(file.size, partSize))
    const got = await downloadAsset(byName.get(file.relativePath)!, dir, parts, {
      ...deps,
      github
    })
    file.path = got.path
    file.sha256 = got.hashes.sha256Hex
    file.hashes = got.hashes
  })
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${needed[i].relativePath}: ${errorMessage(r.reason)}`] : []
  )
  if (failed.length) {
    throw new PlanError(
      `${failed.length} release asset(s) could not be downloaded; nothing was published:\n  - ${failed.join('\n  - ')}`
    )
  }
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.ceil(ms / 1000)} s`
}
