/**
 * The upload mode's swap phase: the malware-flag read, the files this run publishes, and the
 * swap of their IDs into each benefit of `benefit-ids` (until a fresh read shows it holding).
 */
import { converge, planSwap, readForSwap, type OwnFile, type SwapRead } from '../../benefits.js'
import { errorMessage } from '../../errors.js'
import type { LiveFiles } from '../../live-files.js'
import type { BenefitDownloadables, FileRead } from '../../polar/types.js'
import { isFlagged } from '../../replace.js'
import type { RunReport } from '../../run-report.js'
import { FLAGGED_LINE, type Outcome } from '../../upload/publish.js'
import type { Prepared, UploadDeps } from './context.js'

/** What the swap reads of the inputs. */
export interface SwapOptions {
  dryRun: boolean
  replace: boolean
}

/**
 * Polar scans an upload after it completes, with no documented delay: before a new file goes
 * into a benefit or replaces anything, read it once more. (The benefit swap reads these same
 * files through LiveFiles, so with benefits this read costs nothing extra.)
 */
export async function lookForFlags(
  { dryRun, replace }: SwapOptions,
  deps: UploadDeps,
  prepared: Prepared,
  outcomes: Outcome[]
): Promise<void> {
  if (dryRun || (prepared.targets.length === 0 && !replace)) return
  const created = outcomes.filter(o => o.result.status === 'created' && o.result.id)
  if (created.length === 0) return
  const live = await prepared.liveFiles.live(created.map(o => o.result.id!))
  for (const o of created) {
    const file = live.get(o.result.id!)
    if (file && isFlagged(file)) {
      o.result.status = 'flagged'
      deps.logger.warning(`${o.result.name} (${o.result.id}): ${FLAGGED_LINE}.`)
    }
  }
}

/** The files this run publishes, as the swap and replace rules see them. */
export function publishedFiles(outcomes: Outcome[], liveFiles: LiveFiles): OwnFile[] {
  return outcomes.map(({ result, createdAt, file }) => {
    if (file) liveFiles.add(file) // its completion's answer: no lookup before the swap
    const own: OwnFile = {
      id: result.id ?? `(new ${result.name})`,
      name: result.name,
      createdAt,
      version: result.version
    }
    if (result.id === null) {
      // A dry run's file that does not exist yet: known to the swap rules, never looked up.
      liveFiles.add({
        id: own.id,
        name: own.name,
        service: 'downloadable',
        version: own.version,
        created_at: new Date(8.64e15).toISOString(),
        is_uploaded: true
      } as FileRead)
    }
    return own
  })
}

/** Swap the new IDs into each benefit of `benefit-ids`, until a fresh read shows it holding. */
export async function swapIntoBenefits(
  { dryRun, replace }: SwapOptions,
  deps: UploadDeps,
  { targets, liveFiles, existing }: Prepared,
  own: OwnFile[],
  report: RunReport,
  first?: Promise<SwapRead>
): Promise<void> {
  for (const [i, target] of targets.entries()) {
    try {
      if (dryRun) {
        const live = await liveFiles.live([...target.properties.files, ...own.map(m => m.id)])
        const change = planSwap(target, own, live)
        if (change.changed) {
          report.patchedBenefits.push({
            id: target.id,
            description: target.description,
            before: change.before,
            after: change.files
          })
          deps.logger.info(
            `Would update benefit ${benefitName(target)}: ${swapText(change.before, change.files, existing, own)}`
          )
        }
        continue
      }
      const outcome = await converge(
        target.id,
        own,
        liveFiles,
        deps,
        target.properties.files,
        i === 0 ? first : undefined
      )
      if (outcome.patched) {
        report.patchedBenefits.push({
          id: target.id,
          description: target.description,
          before: outcome.before,
          after: outcome.after
        })
        deps.logger.info(
          `Updated benefit ${benefitName(target)}: ${swapText(outcome.before, outcome.after, existing, own)}`
        )
      }
    } catch (error) {
      report.failures.push(`benefit ${target.id}: ${errorMessage(error)}`)
      throw new Error(
        (replace
          ? 'Updating benefits failed, so no earlier version was deleted:'
          : 'Updating benefits failed:') + `\n  - ${report.failures.join('\n  - ')}`,
        { cause: error }
      )
    }
  }
}

/** The first benefit's read for its swap, started now (one at a time: later ones would age). */
export function firstSwapRead(
  deps: UploadDeps,
  { targets }: Pick<Prepared, 'targets'>
): Promise<SwapRead> | undefined {
  if (targets.length === 0) return undefined
  const read = readForSwap(deps.client, targets[0].id)
  read.catch(() => undefined) // awaited by the swap; a failed flag check must not leave it unhandled
  return read
}

function benefitName(b: BenefitDownloadables): string {
  return `${b.description} (${b.id})`
}

/** A benefit's change by file name (`app.zip: 946b8b1a → c4cb184b`), not a list of UUIDs. */
function swapText(before: string[], after: string[], existing: FileRead[], own: OwnFile[]): string {
  const name = (id: string) =>
    own.find(m => m.id === id)?.name ?? existing.find(f => f.id === id)?.name ?? 'a file'
  const short = (id: string) => (id.startsWith('(new ') ? 'the new upload' : id.slice(0, 8))
  const added = after.filter(id => !before.includes(id))
  const removed = before.filter(id => !after.includes(id))
  const parts: string[] = []
  for (const old of removed) {
    const i = added.findIndex(a => name(a) === name(old))
    if (i >= 0) parts.push(`${name(old)} ${short(old)} → ${short(added.splice(i, 1)[0])}`)
    else parts.push(`${name(old)} ${short(old)} removed`)
  }
  for (const a of added) parts.push(`${name(a)} ${short(a)} added`)
  return `${parts.join(', ') || 'reordered'} (${after.length === 1 ? '1 file' : `${after.length} files`})`
}
