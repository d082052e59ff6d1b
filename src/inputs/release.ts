/** The release source (`release`) and the version a run defaults to. */
import { readFileSync } from 'node:fs'
import { InputError } from '../errors.js'
import { parseDuration } from '../units.js'
import { type Get, orDefault } from './fields.js'

/** A GitHub release to publish the assets of (`release` input). */
export interface ReleaseRef {
  owner: string
  repo: string
  tag: string
}

/** `v1.2.3` (this repository, from GITHUB_REPOSITORY) or `owner/repo@v1.2.3`; '' = none. */
function parseRelease(text: string, env: NodeJS.ProcessEnv): ReleaseRef | null {
  if (!text) return null
  if (text.startsWith('refs/tags/')) {
    const tag = text.slice('refs/tags/'.length)
    throw new InputError(
      'release',
      `'${text}' is a ref, not a tag (github.ref instead of github.ref_name). Use the tag: ` +
        `release: ${tag}, e.g. release: \${{ github.ref_name }}`
    )
  }
  const full = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)@(\S+)$/.exec(text)
  if (full) return { owner: full[1], repo: full[2], tag: full[3] }
  // Anything else is a tag of this repository (`pkg@1.2.3` and `@scope/pkg@1.2.3` too).
  if (/\s/.test(text)) {
    throw new InputError(
      'release',
      `'${text}' is not a tag or owner/repo@tag. Example: release: \${{ github.event.release.tag_name }}`
    )
  }
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/')
  if (!owner || !repo) {
    throw new InputError(
      'release',
      `is the tag '${text}', but GITHUB_REPOSITORY is not set to tell whose. Use owner/repo@${text}.`
    )
  }
  return { owner, repo, tag: text }
}

/** The tag of a tag push or a release event (any run on a tag ref); otherwise no version. */
export function defaultVersion(env: NodeJS.ProcessEnv): string | null {
  if (env.GITHUB_EVENT_NAME === 'release' && env.GITHUB_EVENT_PATH) {
    try {
      const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as {
        release?: { tag_name?: unknown }
      }
      if (typeof event.release?.tag_name === 'string' && event.release.tag_name) {
        return event.release.tag_name
      }
    } catch {
      // Fall back to the ref below.
    }
  }
  // A tag push, or any run started on a tag (a release, a dispatch on the tag): its tag.
  const ref = env.GITHUB_REF ?? ''
  if (ref.startsWith('refs/tags/')) return ref.slice('refs/tags/'.length) || null
  if (env.GITHUB_REF_TYPE === 'tag' && env.GITHUB_REF_NAME) return env.GITHUB_REF_NAME
  return null
}

export interface ReleaseSourceInputs {
  /** Publish this release's assets instead of local files (`files` then selects by name). */
  release: ReleaseRef | null
  githubToken: string
  releaseWaitMs: number
}

export function parseReleaseSource(get: Get, env: NodeJS.ProcessEnv): ReleaseSourceInputs {
  const release = parseRelease(get('release'), env)
  // Empty: the release is read without a token (public repositories only, as GitHub allows).
  const githubToken = get('github-token')
  const releaseWaitText = orDefault(get, 'release-wait')
  const releaseWaitMs = parseDuration(releaseWaitText)
  if (releaseWaitMs === null) {
    throw new InputError(
      'release-wait',
      `'${releaseWaitText}' is not a duration. Use a number and a unit: 10m, 90s, or 0.`
    )
  }
  return { release, githubToken, releaseWaitMs }
}
