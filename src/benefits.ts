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
import type { BenefitDownloadables, FileRead } from './polar/types.js'
import { isNewer, isOlder, type Published } from './replace.js'
import { delay } from './retry.js'

/** A published file as the swap sees it: always with an ID (a placeholder in a dry run). */
export interface Mine extends Published {
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

type Live = Map<string, FileRead>

/** The benefit's list with this run's files swapped in. `live` must describe every listed ID. */
export function planSwap(benefit: BenefitDownloadables, mine: Mine[], live: Live): BenefitChange {
  const before = benefit.properties.files
  const found = benefit.properties.archived ?? {}
  const own = new Set(mine.map(m => m.id))
  const active = mine.filter(m => live.has(m.id))
  const out: string[] = []
  const droppedStale: string[] = []
  const push = (id: string) => void (out.includes(id) || out.push(id))

  for (const id of before) {
    const file = live.get(id)
    if (!file) droppedStale.push(id)
    else if (own.has(id)) push(id)
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
export function swapHolds(benefit: BenefitDownloadables, mine: Mine[], live: Live): boolean {
  const listed = benefit.properties.files.map(id => live.get(id)).filter(f => f !== undefined)
  return mine
    .filter(m => live.has(m.id))
    .every(
      m =>
        !listed.some(f => isOlder(f, m)) &&
        (benefit.properties.files.includes(m.id) || listed.some(f => isNewer(f, m)))
    )
}

/** Which files are alive, by ID: the run's listing, then Polar for IDs it has not seen. */
export class Catalog {
  private readonly known = new Map<string, FileRead | null>()

  constructor(
    private readonly client: PolarClient,
    files: FileRead[]
  ) {
    for (const f of files) this.known.set(f.id, f)
  }

  add(file: FileRead): void {
    this.known.set(file.id, file)
  }

  /** Looked up again on the next `live()` (a 422 said one of them is gone). */
  forget(ids: string[]): void {
    for (const id of ids) this.known.delete(id)
  }

  async live(ids: string[]): Promise<Live> {
    const unknown = [...new Set(ids.filter(id => !this.known.has(id)))]
    if (unknown.length > 0) {
      const found = new Map((await this.client.getFiles(unknown)).map(f => [f.id, f]))
      for (const id of unknown) this.known.set(id, found.get(id) ?? null)
    }
    const out: Live = new Map()
    for (const id of ids) {
      const f = this.known.get(id)
      if (f) out.set(id, f)
    }
    return out
  }
}

export interface SwapDeps {
  client: PolarClient
  logger: Logger
  cancel?: AbortSignal
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
  mine: Mine[],
  catalog: Catalog,
  deps: SwapDeps,
  planned?: string[],
  first?: Promise<SwapRead>
): Promise<SwapOutcome> {
  const { client, logger } = deps
  const sleep = deps.sleep ?? delay
  const random = deps.random ?? Math.random
  const now = deps.now ?? Date.now
  const ids = mine.map(m => m.id)
  const backoff = (attempt: number) =>
    Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)) * (0.5 + random())
  let before: string[] | undefined
  let patched = false
  let why = 'the benefit kept changing'
  let contended = planned === undefined
  for (let attempt = 1, fresh = 0; attempt <= MAX_TRIES;) {
    throwIfCancelled(deps.cancel)
    const { benefit, readAt } = await (first ?? readForSwap(client, benefitId, now))
    first = undefined
    before ??= benefit.properties.files
    if (!sameList(benefit.properties.files, planned)) contended = true
    const live = await catalog.live([...benefit.properties.files, ...ids])
    if (now() - readAt > STALE_MS && fresh++ < MAX_FRESH_READS) continue // looking up IDs took a while
    const change = planSwap(benefit, mine, live)
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
      throwIfCancelled(deps.cancel)
      // Never re-sent by the client: a retry would carry this read, stale by then.
      await client.patchBenefitFiles(benefitId, change.files, change.archived, { prepaid: true })
      patched = true
    } catch (error) {
      if (fileNotFound(error)) {
        // A file listed there (or one of this run's) was deleted after our read, often by
        // another job of this release: a signal to look again, never to give up.
        logger.info(`Benefit ${benefitId}: a listed file was deleted meanwhile; reading it again.`)
        catalog.forget([...benefit.properties.files, ...ids])
        contended = true
        why = 'files it listed kept being deleted'
        attempt++
        continue
      }
      if (!(
        error instanceof PolarApiError &&
        (error.status === 0 || error.status === 429 || error.status >= 500)
      )) {
        throw error
      }
      // It may or may not have been applied: the next read tells.
      patched = true
      contended = true
      const failure = error.status === 0 ? 'no response' : `HTTP ${error.status}`
      why = `its update kept failing (${failure})`
      logger.info(`Benefit ${benefitId}: the update failed (${failure}); reading it again.`)
      await sleep(backoff(attempt++))
      continue
    }
    if (contended) await sleep(SETTLE_MS[0] + random() * (SETTLE_MS[1] - SETTLE_MS[0]))
    const check = await client.getBenefit(benefitId)
    const checked = await catalog.live([...check.properties.files, ...ids])
    if (swapHolds(check, mine, checked)) {
      return { id: benefitId, before, after: check.properties.files, patched }
    }
    why = describeMissing(check, mine, checked) || why
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
  mine: Mine[],
  catalog: Catalog,
  client: PolarClient
): Promise<boolean> {
  const benefit = await client.getBenefit(benefitId)
  const live = await catalog.live([...benefit.properties.files, ...mine.map(m => m.id)])
  return swapHolds(benefit, mine, live)
}

function sameList(a: string[], b: string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((id, i) => id === b[i])
}

function describeMissing(benefit: BenefitDownloadables, mine: Mine[], live: Live): string {
  const listed = benefit.properties.files
  const absent = mine.filter(m => live.has(m.id) && !listed.includes(m.id)).map(m => m.id)
  const back = listed.filter(id => {
    const f = live.get(id)
    return f !== undefined && mine.some(m => isOlder(f, m))
  })
  return [
    absent.length ? `missing ${absent.join(', ')}` : '',
    back.length ? `listing earlier ${back.join(', ')} again` : ''
  ]
    .filter(Boolean)
    .join('; ')
}
