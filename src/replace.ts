/**
 * Replace rules, pure: which same-name files are earlier versions of the file a run publishes
 * (created before it, and not a higher version), which are newer, which existing file an
 * unchanged upload reuses, and what its version label becomes.
 */
// The two functions only: the whole package would add ranges, coercion and the rest to start-up.
import compare from 'semver/functions/compare.js'
import parse from 'semver/functions/parse.js'
import type { FileRead } from './polar/types.js'

/** The file a run publishes under a name: uploaded, reused, or (dry run) not created yet. */
export interface Published {
  id: string | null
  name: string
  /** null in a dry run for a file not uploaded yet: newer than everything that exists. */
  createdAt: string | null
  version: string | null
}

/**
 * Compares two version labels as semver (an optional leading `v`): negative, 0 or positive;
 * null when either is missing or not semver (then only created-at order can tell).
 */
export function compareVersions(a: string | null, b: string | null): number | null {
  const pa = a ? parse(a.replace(/^v/i, '')) : null
  const pb = b ? parse(b.replace(/^v/i, '')) : null
  return pa && pb ? compare(pa, pb) : null
}

/**
 * `existing` is an earlier version of `mine`: the same downloadable name, created before it,
 * and not a higher version (a backport or a re-run of an old tag must not take the newest
 * download away). Everything else with that name is newer and left alone.
 */
export function isEarlier(existing: FileRead, mine: Published): boolean {
  if (existing.service !== 'downloadable' || existing.name !== mine.name) return false
  if (existing.id === mine.id) return false
  const order = compareVersions(existing.version, mine.version)
  if (order !== null && order > 0) return false
  return mine.createdAt === null || Date.parse(existing.created_at) < Date.parse(mine.createdAt)
}

/** Same-name files that a higher version protects from `mine` (reported as kept). */
export function higherVersions(mine: Published, existing: FileRead[]): FileRead[] {
  return existing.filter(
    f =>
      f.service === 'downloadable' &&
      f.name === mine.name &&
      f.id !== mine.id &&
      (compareVersions(f.version, mine.version) ?? 0) > 0
  )
}

/** Earlier versions of `mine` among `existing`, oldest first. */
export function earlierVersions(mine: Published, existing: FileRead[]): FileRead[] {
  return existing
    .filter(f => isEarlier(f, mine))
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at))
}

/** The newest completed downloadable file with this name and SHA-256, if any. */
export function findUnchanged(
  name: string,
  sha256Hex: string,
  existing: FileRead[]
): FileRead | undefined {
  const base64 = Buffer.from(sha256Hex, 'hex').toString('base64')
  // Polar stores both forms; either one is enough to recognise the same content.
  const same = (f: FileRead) =>
    f.checksum_sha256_hex
      ? f.checksum_sha256_hex.toLowerCase() === sha256Hex
      : f.checksum_sha256_base64 === base64
  return existing
    .filter(
      f => f.service === 'downloadable' && f.is_uploaded !== false && f.name === name && same(f)
    )
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at))[0]
}

/**
 * The label a reused file should carry: this run's version, unless there is none, it is the
 * same, or it would lower a higher one (a backport reusing the newest release's file).
 */
export function relabel(current: string | null, wanted: string | null): string | null {
  if (!wanted || wanted === current) return null
  return (compareVersions(current, wanted) ?? -1) > 0 ? null : wanted
}
