/**
 * Replace planning, pure: which earlier versions each new file replaces, how each benefit's
 * file list changes, and which earlier versions may be deleted (none that a benefit lists).
 */
import type { BenefitDownloadables, FileRead } from './polar/types.js'

export interface NewFile {
  /** The uploaded or reused file's ID (null in a dry run for a file not uploaded yet). */
  id: string | null
  name: string
  /** The uploaded or reused file's created_at; null in a dry run (not created yet: newer than all). */
  createdAt: string | null
}

/**
 * Earlier versions of `file`: completed downloadable files of the same name, older than it,
 * except itself. A newer one (a concurrent run's) is never an earlier version.
 */
export function earlierVersions(file: NewFile, existing: FileRead[]): FileRead[] {
  return existing
    .filter(
      f =>
        f.service === 'downloadable' &&
        f.name === file.name &&
        f.id !== file.id &&
        (file.createdAt === null || Date.parse(f.created_at) < Date.parse(file.createdAt))
    )
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

export interface Swap {
  /** New ID → the IDs it replaces. */
  newId: string
  replacedIds: string[]
}

export interface BenefitChange {
  benefitId: string
  before: string[]
  files: string[]
  archived: Record<string, boolean>
  /** IDs dropped because Polar no longer has the file (a PATCH that kept them would fail). */
  droppedStale: string[]
  changed: boolean
}

/**
 * Each replaced ID takes its new ID at the same position (the first one it meets); new IDs that
 * replace nothing are appended; duplicates removed; `archived` kept, minus removed IDs.
 */
export function swapBenefitFiles(
  benefit: BenefitDownloadables,
  swaps: Swap[],
  liveIds: Set<string>
): BenefitChange {
  const before = benefit.properties.files
  const replacedBy = new Map<string, string>()
  const newIds = new Set(swaps.map(s => s.newId))
  for (const s of swaps) for (const old of s.replacedIds) replacedBy.set(old, s.newId)

  const droppedStale: string[] = []
  const out: string[] = []
  for (const id of before) {
    const next = replacedBy.get(id) ?? id
    if (!liveIds.has(next) && !newIds.has(next)) {
      droppedStale.push(id)
      continue
    }
    if (!out.includes(next)) out.push(next)
  }
  for (const s of swaps) if (!out.includes(s.newId)) out.push(s.newId)

  const kept = new Set(out)
  const archived: Record<string, boolean> = {}
  for (const [id, value] of Object.entries(benefit.properties.archived ?? {})) {
    if (kept.has(id)) archived[id] = value
  }
  const changed =
    out.length !== before.length ||
    out.some((id, i) => id !== before[i]) ||
    Object.keys(archived).length !== Object.keys(benefit.properties.archived ?? {}).length
  return { benefitId: benefit.id, before, files: out, archived, droppedStale, changed }
}

/** Benefits (by ID) whose file list still holds `id`. */
export function benefitsListing(id: string, benefits: { id: string; files: string[] }[]): string[] {
  return benefits.filter(b => b.files.includes(id)).map(b => b.id)
}
