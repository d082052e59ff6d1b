/** The upload mode's last phase (replace): earlier versions retired, this run's swaps verified. */
import { converge, stillHolds, type OwnFile } from '../../benefits.js'
import type { Logger } from '../../log.js'
import { benefitListings, deleteFiles, readAllBenefits } from '../../polar/operations.js'
import type { BenefitDownloadables, FileRead } from '../../polar/types.js'
import {
  earlierVersions,
  FLAGGED_REASON,
  higherVersions,
  isFlagged,
  isNewer
} from '../../replace.js'
import type { RunReport } from '../../run-report.js'
import { formatBytes } from '../../units.js'
import { FLAGGED_LINE, type Outcome } from '../../upload/publish.js'
import type { Prepared, UploadDeps } from './context.js'

/** Retire rounds: delete, verify this run's swaps, re-apply what another job undid, again. */
const RETIRE_ROUNDS = 3

interface Candidate {
  file: FileRead
  own: OwnFile
}

/**
 * Delete the earlier versions of the published files that no benefit lists, then check that
 * this run's swaps still hold: another job's PATCH built from an old read can land late and
 * put an old ID back. If so, apply the swap again and retire what it freed, a few rounds.
 */
export async function retireEarlier(
  { dryRun }: { dryRun: boolean },
  deps: UploadDeps,
  prepared: Prepared,
  published: OwnFile[],
  report: RunReport,
  outcomes: Outcome[]
): Promise<void> {
  const { client, logger } = deps
  let own = published
  const targetIds = new Set(prepared.targets.map(t => t.id))
  const gone = new Set<string>()
  let listedBy = new Map<string, string[]>()
  let candidates: Candidate[] = []
  for (let round = 1; round <= RETIRE_ROUNDS; round++) {
    // Which benefits list what, read beside the file listing when the run already knows it has
    // earlier versions to retire (else only once the listing shows some).
    const early =
      !dryRun && (round > 1 || own.some(m => earlierVersions(m, prepared.existing).length))
        ? readAllBenefits(client, 'replace')
        : undefined
    early?.catch(() => undefined) // awaited below, or not needed
    // Read again: files of other jobs of this release may have appeared since the start.
    const files = dryRun ? prepared.existing : await client.listFiles()
    if (round === 1) {
      own = withoutLateFlags(files, own, outcomes, logger)
      reportHigherVersions(files, own, report, logger, dryRun)
      if (!dryRun) await checkStillPublished(files, own, deps)
    }
    candidates = own.flatMap(m =>
      earlierVersions(m, files)
        .filter(f => !gone.has(f.id))
        .map(file => ({ file, own: m }))
    )
    // A flagged earlier version is left for Polar's review, as cleanup leaves it.
    for (const c of candidates.filter(c => round === 1 && isFlagged(c.file))) {
      report.kept.push({ id: c.file.id, name: c.own.name, reason: FLAGGED_REASON })
    }
    candidates = candidates.filter(c => !isFlagged(c.file))
    if (candidates.length === 0) return
    listedBy = benefitListings(
      dryRun
        ? plannedBenefits(prepared.allBenefits, report)
        : await (early ?? readAllBenefits(client, 'replace'))
    )
    const free = candidates.filter(c => !listedBy.has(c.file.id))
    if (dryRun) {
      for (const c of free) {
        recordDeleted(report, c)
        logger.info(
          `Would delete earlier version ${c.own.name}${c.file.version ? ` ${c.file.version}` : ''} (${formatBytes(c.file.size)}, ${c.file.id})`
        )
      }
      break
    }
    const { deleted, failed } = await deleteFiles(
      client,
      free.map(c => ({ ...c, id: c.file.id })),
      deps.signal
    )
    for (const c of deleted) {
      gone.add(c.file.id)
      recordDeleted(report, c)
      logger.info(
        `Deleted earlier version ${c.own.name}${c.file.version ? ` ${c.file.version}` : ''} (${formatBytes(c.file.size)}, ${c.file.id})`
      )
    }
    // A run exits only when its own swaps hold on a fresh read after its deletes (even when
    // some of them failed): a late PATCH built from an old read may have undone them.
    const broken = await repairSwaps(targetIds, own, prepared, deps)
    if (failed.length > 0) {
      const lines = failed.map(f => `${f.item.own.name} (${f.item.id}): ${f.reason}`)
      report.failures.push(...lines.map(l => `not deleted: ${l}`))
      throw new Error(
        `Uploads succeeded, but ${lines.length} earlier version(s) could not be deleted ` +
          `(delete them in Polar, or re-run):\n  - ${lines.join('\n  - ')}`
      )
    }
    const inTargets = candidates.some(c => listedBy.get(c.file.id)?.some(b => targetIds.has(b)))
    if (broken === 0 && !inTargets) break
  }
  for (const c of candidates.filter(c => !gone.has(c.file.id) && listedBy.has(c.file.id))) {
    reportKept(c, listedBy.get(c.file.id)!, targetIds, dryRun, report, logger)
  }
}

/**
 * A file flagged after the swap (the scan is asynchronous): it replaces nothing, and the run
 * fails naming it. It was swapped in already, so say where to take it out.
 */
function withoutLateFlags(
  files: FileRead[],
  own: OwnFile[],
  outcomes: Outcome[],
  logger: Logger
): OwnFile[] {
  const flagged = new Set(files.filter(isFlagged).map(f => f.id))
  for (const o of outcomes) {
    if (o.result.status !== 'created' || !flagged.has(o.result.id!)) continue
    o.result.status = 'flagged'
    logger.warning(
      `${o.result.name} (${o.result.id}): ${FLAGGED_LINE}. Polar flagged it after it was put ` +
        'into the benefits: remove it from them in Polar; no earlier version was deleted.'
    )
  }
  return own.filter(m => !flagged.has(m.id))
}

/** Re-applies this run's swap to each benefit a fresh read shows undone; how many there were. */
async function repairSwaps(
  targetIds: Set<string>,
  own: OwnFile[],
  prepared: Prepared,
  deps: UploadDeps
): Promise<number> {
  let broken = 0
  const ids = [...targetIds]
  // Every benefit read at once; a swap found undone is applied again, one benefit at a time.
  const holds = await Promise.all(
    ids.map(id => stillHolds(id, own, prepared.liveFiles, deps.client))
  )
  for (const id of ids.filter((_, i) => !holds[i])) {
    broken++
    deps.logger.warning(
      `Benefit ${id}: another job's update, made from an older read, undid this run's swap ` +
        'after it was verified; applying it again.'
    )
    await converge(id, own, prepared.liveFiles, deps)
  }
  return broken
}

function recordDeleted(report: RunReport, c: Candidate): void {
  report.deleted.push({
    id: c.file.id,
    name: c.own.name,
    created_at: c.file.created_at,
    version: c.file.version,
    size: c.file.size
  })
  report.files.find(f => f.name === c.own.name)?.replaced_ids.push(c.file.id)
}

function reportKept(
  c: Candidate,
  benefits: string[],
  targetIds: Set<string>,
  dryRun: boolean,
  report: RunReport,
  logger: Logger
): void {
  const keep = dryRun ? 'Would keep' : 'Kept'
  const targeted = benefits.filter(b => targetIds.has(b))
  const others = benefits.filter(b => !targetIds.has(b))
  if (others.length > 0) {
    report.kept.push({
      id: c.file.id,
      name: c.own.name,
      reason: `in benefit ${others.join(', ')}`
    })
    logger.warning(
      `${keep} ${c.own.name} (${c.file.id}): benefit ${others.join(', ')} lists it and is not in ` +
        '`benefit-ids`, so deleting it would take the download from its customers. Add that ' +
        'benefit to `benefit-ids` so the new file takes its place, or remove the file from it in Polar.'
    )
  } else {
    report.kept.push({
      id: c.file.id,
      name: c.own.name,
      reason: `listed again in benefit ${targeted.join(', ')}`
    })
    logger.warning(
      `${keep} ${c.own.name} (${c.file.id}): another job of this release put it back into ` +
        `benefit ${targeted.join(', ')} while this run retired it. Re-run this job, or let cleanup ` +
        'mode remove it later.'
    )
  }
}

/** Same-name files a higher version protects: kept, and said so. */
function reportHigherVersions(
  files: FileRead[],
  own: OwnFile[],
  report: RunReport,
  logger: Logger,
  dryRun: boolean
): void {
  for (const m of own) {
    for (const f of higherVersions(m, files)) {
      report.kept.push({ id: f.id, name: f.name, reason: `newer version ${f.version}` })
      logger.info(
        `${dryRun ? 'Would keep' : 'Kept'} ${f.name} (${f.id}): newer version ${f.version} than this run's ${m.version}.`
      )
    }
  }
}

/**
 * A published file that is gone by now was replaced by a newer upload of its name (another
 * job of this release): fine, said so. Gone with nothing newer is someone else's delete.
 */
async function checkStillPublished(files: FileRead[], own: OwnFile[], deps: UploadDeps) {
  const missing = own.filter(m => !files.some(f => f.id === m.id))
  if (missing.length === 0) return
  const found = new Set((await deps.client.getFiles(missing.map(m => m.id))).map(f => f.id))
  for (const m of missing.filter(m => !found.has(m.id))) {
    const newer = files.find(f => isNewer(f, m))
    if (!newer) {
      throw new Error(
        `${m.name} (${m.id}) was deleted while this run was publishing it, and no newer file ` +
          'of that name exists. Re-run the job.'
      )
    }
    deps.logger.info(
      `${m.name} (${m.id}) was replaced meanwhile by a newer upload of that name (${newer.id}).`
    )
  }
}

/** In a dry run: every benefit as it would be after this run's swaps. */
function plannedBenefits(
  all: BenefitDownloadables[],
  report: RunReport
): { id: string; files: string[] }[] {
  const after = new Map(report.patchedBenefits.map(b => [b.id, b.after]))
  return all.map(b => ({ id: b.id, files: after.get(b.id) ?? b.properties.files }))
}
