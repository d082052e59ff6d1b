/**
 * Replace rules, pure: how same-name files are ordered for customers (by semver version when
 * both labels have one and they differ, else by creation), which of them are earlier versions
 * a run may delete (older, and created before its file), which existing file an unchanged
 * upload reuses, and what its version label becomes.
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

const sameName = (f: FileRead, own: Published) =>
  f.service === 'downloadable' && f.name === own.name && f.id !== own.id

/** `a` was created before `b` (Polar's microseconds and then the ID break ties). */
function createdBefore(a: string, aId: string, b: string | null, bId: string | null): boolean {
  if (b === null) return true // a dry run's file, not created yet
  const ms = Date.parse(a) - Date.parse(b)
  if (ms !== 0) return ms < 0
  return a !== b ? a < b : aId < (bId ?? '')
}

/**
 * `existing` comes before `own` for customers, so `own` takes its place in a benefit: a lower
 * version when both labels are semver and differ (a backport never displaces the newest
 * release, and the newest release displaces a backport published after it), else created first.
 */
export function isOlder(existing: FileRead, own: Published): boolean {
  if (!sameName(existing, own)) return false
  const order = compareVersions(existing.version, own.version)
  if (order !== null && order !== 0) return order < 0
  return createdBefore(existing.created_at, existing.id, own.createdAt, own.id)
}

/** A same-name file that comes after `own`: it keeps its place, and `own` does not join it. */
export function isNewer(existing: FileRead, own: Published): boolean {
  return sameName(existing, own) && !isOlder(existing, own)
}

/**
 * `existing` is an earlier version of `own`, which a replacing run deletes: older, and also
 * created before it, so that two runs at once never delete each other's newest file (a
 * backport published after a newer release is displaced from benefits, not deleted).
 */
export function isEarlier(existing: FileRead, own: Published): boolean {
  return (
    isOlder(existing, own) && createdBefore(existing.created_at, existing.id, own.createdAt, own.id)
  )
}

/** Same-name files that a higher version protects from `own` (reported as kept). */
export function higherVersions(own: Published, existing: FileRead[]): FileRead[] {
  return existing.filter(
    f => sameName(f, own) && (compareVersions(f.version, own.version) ?? 0) > 0
  )
}

/** Earlier versions of `own` among `existing`, oldest first. */
export function earlierVersions(own: Published, existing: FileRead[]): FileRead[] {
  return existing
    .filter(f => isEarlier(f, own))
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at))
}

/**
 * The file an unchanged upload reuses: the newest completed downloadable file with this name
 * and SHA-256 — unless a file of that name would still come after it (a revert to an older
 * build: reusing that would leave the newer, different build in place), then none.
 */
export function findUnchanged(
  name: string,
  sha256Hex: string,
  existing: FileRead[],
  version: string | null = null
): FileRead | undefined {
  const base64 = Buffer.from(sha256Hex, 'hex').toString('base64')
  // Polar stores both forms; either one is enough to recognise the same content.
  const same = (f: FileRead) =>
    f.checksum_sha256_hex
      ? f.checksum_sha256_hex.toLowerCase() === sha256Hex
      : f.checksum_sha256_base64 === base64
  const match = existing
    .filter(
      f =>
        f.service === 'downloadable' &&
        f.is_uploaded !== false &&
        !isFlagged(f) && // never reused: an upload anew is scanned again
        f.name === name &&
        same(f)
    )
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at))[0]
  if (!match) return undefined
  const reused: Published = {
    id: match.id,
    name,
    createdAt: match.created_at,
    version: relabel(match.version, version) ?? match.version
  }
  // A flagged newer file was never published: it does not make the match a revert.
  return existing.some(f => f.is_uploaded !== false && !isFlagged(f) && isNewer(f, reused))
    ? undefined
    : match
}

/** Why a flagged file is kept (by cleanup and by replace). */
export const FLAGGED_REASON = 'flagged as malicious (left for Polar’s review)'

/** Polar's malware scan flagged it: customers cannot download it; kept for review. */
export function isFlagged(f: { flagged_malicious_at?: string | null }): boolean {
  return typeof f.flagged_malicious_at === 'string' && f.flagged_malicious_at !== ''
}

/**
 * The label a reused file should carry: this run's version, unless there is none, it is the
 * same, or it would lower a higher one (a backport reusing the newest release's file).
 */
export function relabel(current: string | null, wanted: string | null): string | null {
  if (!wanted || wanted === current) return null
  return (compareVersions(current, wanted) ?? -1) > 0 ? null : wanted
}
