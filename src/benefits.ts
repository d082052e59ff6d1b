/**
 * Benefit swaps that converge under concurrent writers. Polar has no ETags and a benefit PATCH
 * replaces the whole list, so the jobs of one release (a matrix per OS) that name the same
 * benefit race: the last writer wins. Each run therefore reads, swaps, PATCHes, pauses, reads
 * again and checks that its own swap holds; if another writer overwrote it, it applies it
 * again to the fresh copy, with jittered exponential backoff, a bounded number of times.
 *
 * The rules (pure): a listed file that is an earlier version of a file this run publishes
 * gives its place to it; a published file that replaces nothing there is appended, unless the
 * benefit lists a newer file of that name (a backport never displaces the newest release);
 * every other entry and its `archived` flag stay as found.
 */
import { BenefitConflictError, PolarApiError, throwIfCancelled } from './errors.js'
import type { Logger } from './log.js'
import type { PolarClient } from './polar/client.js'
import type { BenefitDownloadables } from './polar/types.js'
import { isNewer, isOlder, type Published } from './replace.js'
import { delay } from './retry.js'
import type { Live, LiveFiles } from './live-files.js'

/** A published file as the swap sees it: always with an ID (a placeholder in a dry run). */
export interface OwnFile extends Published {
  id: string
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

/** The benefit's list with this run's files swapped in. `live` must describe every listed ID. */
export function planSwap(benefit: BenefitDownloadables, own: OwnFile[], live: Live): BenefitChange {
  const before = benefit.properties.files
  const found = benefit.properties.archived ?? {}
  const ownIds = new Set(own.map(m => m.id))
  const active = own.filter(m => live.has(m.id))
  const out: string[] = []
  const droppedStale: string[] = []
  const push = (id: string) => void (out.includes(id) || out.push(id))

  for (const id of before) {
    const file = live.get(id)
    if (!file) droppedStale.push(id)
    else if (ownIds.has(id)) push(id)
    else {
      const taker = active.find(m => isOlder(file, m))
      push(taker ? taker.id : id)
    }
  }
  for (const m of active) {
    const superseded = out.some(id => isNewer(live.get(id)!, m))
    if (!superseded) push(m.id)
  }

  const archived: Record<string, boolean> = {}
  for (const [id, value] of Object.entries(found)) if (out.includes(id)) archived[id] = value
  const changed =
    out.length !== before.length ||
    out.some((id, i) => id !== before[i]) ||
    Object.keys(archived).length !== Object.keys(found).length
  return { benefitId: benefit.id, before, files: out, archived, droppedStale, changed }
}

/**
 * This run's swap holds in `benefit`: no earlier version of a published file is listed, and
 * each published file is listed or superseded there by a newer one of its name. A published
 * file Polar no longer has (replaced meanwhile by a newer run) has nothing left to hold.
 */
export function swapHolds(benefit: BenefitDownloadables, own: OwnFile[], live: Live): boolean {
  const listed = benefit.properties.files.map(id => live.get(id)).filter(f => f !== undefined)
  return own
    .filter(m => live.has(m.id))
    .every(
      m =>
        !listed.some(f => isOlder(f, m)) &&
        (benefit.properties.files.includes(m.id) || listed.some(f => isNewer(f, m)))
    )
}

export interface SwapDeps {
  client: PolarClient
  logger: Logger
  signal?: AbortSignal
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  now?: () => number
}

export interface SwapOutcome {
  id: string
  /** The list as this run first read it, and as it last read it (holding this run's swap). */
  before: string[]
  after: string[]
  /** This run PATCHed it (at least once). */
  patched: boolean
}

/** Tries to make a swap hold, and the pauses between (design: ~8 tries / ~60 s). */
const MAX_TRIES = 8
/**
 * After a PATCH, before reading it back, once another writer was seen: lets PATCHes already in
 * flight from other jobs land. With no writer seen the read-back goes at once (the verify
 * after the deletes still catches a late one).
 */
const SETTLE_MS = [300, 900] as const
const BACKOFF_BASE_MS = 500
const BACKOFF_MAX_MS = 8000
/** A read older than this (IDs had to be looked up first) is read again before a PATCH... */
const STALE_MS = 300
/** ...a few times at most per swap. */
const MAX_FRESH_READS = 3

const fileNotFound = (error: unknown) =>
  error instanceof PolarApiError && error.status === 422 && /File not found/i.test(error.message)

/**
 * Applies this run's swap to one benefit until a fresh read shows it holding. Throws
 * BenefitConflictError (naming the benefit) if other writers keep overwriting it. `planned`
 * is the benefit's list as the run first read it: if the read before the PATCH still shows
 * it, no other writer was seen and nothing waits on a timer; without it, one was. `first`:
 * the first read, already started (see `readForSwap`).
 */
export async function converge(
  benefitId: string,
  own: OwnFile[],
  liveFiles: LiveFiles,
  deps: SwapDeps,
  planned?: string[],
  first?: Promise<SwapRead>
): Promise<SwapOutcome> {
  const { client, logger } = deps
  const sleep = deps.sleep ?? delay
  const random = deps.random ?? Math.random
  const now = deps.now ?? Date.now
  const ids = own.map(m => m.id)
  const backoff = (attempt: number) =>
    Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)) * (0.5 + random())
  let before: string[] | undefined
  let patched = false
  let why = 'the benefit kept changing'
  let contended = planned === undefined
  for (let attempt = 1, fresh = 0; attempt <= MAX_TRIES;) {
    throwIfCancelled(deps.signal)
    const { benefit, readAt } = await (first ?? readForSwap(client, benefitId, now))
    first = undefined
    before ??= benefit.properties.files
    if (!sameList(benefit.properties.files, planned)) contended = true
    const live = await liveFiles.live([...benefit.properties.files, ...ids])
    if (now() - readAt > STALE_MS && fresh++ < MAX_FRESH_READS) continue // looking up IDs took a while
    const change = planSwap(benefit, own, live)
    if (change.droppedStale.length) {
      logger.warning(
        `Benefit ${benefitId} lists file(s) Polar no longer has (${change.droppedStale.join(', ')}); ` +
          'they are dropped from it.'
      )
    }
    if (!change.changed || change.files.length === 0) {
      return { id: benefitId, before, after: benefit.properties.files, patched }
    }
    try {
      throwIfCancelled(deps.signal)
      // Never re-sent by the client: a retry would carry this read, stale by then.
      await client.patchBenefitFiles(benefitId, change.files, change.archived, { prepaid: true })
      patched = true
    } catch (error) {
      const failed = afterFailedPatch(error, benefitId, logger)
      contended = true
      why = failed.why
      if (failed.mayHaveApplied) {
        patched = true // the next read tells
        await sleep(backoff(attempt++))
      } else {
        liveFiles.forget([...benefit.properties.files, ...ids])
        attempt++
      }
      continue
    }
    if (contended) await sleep(SETTLE_MS[0] + random() * (SETTLE_MS[1] - SETTLE_MS[0]))
    const check = await client.getBenefit(benefitId)
    const checked = await liveFiles.live([...check.properties.files, ...ids])
    if (swapHolds(check, own, checked)) {
      return { id: benefitId, before, after: check.properties.files, patched }
    }
    why = describeMissing(check, own, checked) || why
    contended = true
    if (attempt === MAX_TRIES) break
    const wait = backoff(attempt++)
    logger.warning(
      `Benefit ${benefitId}: another writer changed it at the same time, and this run's swap ` +
        `did not hold (${why}); applying it again in ${(wait / 1000).toFixed(1)} s ` +
        `(try ${attempt} of ${MAX_TRIES}).`
    )
    await sleep(wait)
  }
  throw new BenefitConflictError(
    benefitId,
    `this run's swap did not hold after ${MAX_TRIES} tries (${why}): other writers kept ` +
      'overwriting it'
  )
}

/**
 * A PATCH failure the next read settles: a listed file (or one of this run's) deleted after
 * the read, often by another job of this release, is a signal to look again at once, never to
 * give up; no answer, 429 or 5xx may or may not have been applied (read again after a
 * backoff). Anything else is thrown.
 */
function afterFailedPatch(
  error: unknown,
  benefitId: string,
  logger: Logger
): { why: string; mayHaveApplied: boolean } {
  if (fileNotFound(error)) {
    logger.info(`Benefit ${benefitId}: a listed file was deleted meanwhile; reading it again.`)
    return { why: 'files it listed kept being deleted', mayHaveApplied: false }
  }
  if (!(
    error instanceof PolarApiError &&
    (error.status === 0 || error.status === 429 || error.status >= 500)
  )) {
    throw error
  }
  const failure = error.status === 0 ? 'no response' : `HTTP ${error.status}`
  logger.info(`Benefit ${benefitId}: the update failed (${failure}); reading it again.`)
  return { why: `its update kept failing (${failure})`, mayHaveApplied: true }
}

/** A benefit as read for a swap, and when (a PATCH built from an old read undoes others'). */
export interface SwapRead {
  benefit: BenefitDownloadables
  readAt: number
}

/**
 * The read a swap starts from. It and the PATCH built from it go out back to back (their turns
 * are taken together): a PATCH built from an old read is what undoes other jobs' swaps. Started
 * early by a caller that has other reads to make first, it goes out beside them.
 */
export async function readForSwap(
  client: PolarClient,
  benefitId: string,
  now: () => number = Date.now
): Promise<SwapRead> {
  await client.reserve(2)
  const benefit = await client.getBenefit(benefitId, { prepaid: true })
  return { benefit, readAt: now() }
}

/** Reads the benefit once: does this run's swap still hold? */
export async function stillHolds(
  benefitId: string,
  own: OwnFile[],
  liveFiles: LiveFiles,
  client: PolarClient
): Promise<boolean> {
  const benefit = await client.getBenefit(benefitId)
  const live = await liveFiles.live([...benefit.properties.files, ...own.map(m => m.id)])
  return swapHolds(benefit, own, live)
}

function sameList(a: string[], b: string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((id, i) => id === b[i])
}

function describeMissing(benefit: BenefitDownloadables, own: OwnFile[], live: Live): string {
  const listed = benefit.properties.files
  const absent = own.filter(m => live.has(m.id) && !listed.includes(m.id)).map(m => m.id)
  const back = listed.filter(id => {
    const f = live.get(id)
    return f !== undefined && own.some(m => isOlder(f, m))
  })
  return [
    absent.length ? `missing ${absent.join(', ')}` : '',
    back.length ? `listing earlier ${back.join(', ')} again` : ''
  ]
    .filter(Boolean)
    .join('; ')
}
