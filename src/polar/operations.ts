/** Multi-call operations both modes share, over PolarClient. */
import { errorMessage, InputError, PlanError, PolarApiError, throwIfCancelled } from '../errors.js'
import { mapSettled } from '../limiter.js'
import type { Logger } from '../log.js'
import type { PolarClient } from './client.js'
import type { BenefitDownloadables } from './types.js'

// As many as the pacer lets go: the client's connections are the other bound.
const DELETE_CONCURRENCY = 16

/**
 * Every downloadables benefit of the organization. Protecting customers depends on it, so a
 * token without benefits:read fails here, during planning, with the ways out.
 */
export async function readAllBenefits(
  client: PolarClient,
  why: keyof typeof NO_BENEFITS_READ,
  signal?: AbortSignal
): Promise<BenefitDownloadables[]> {
  try {
    return await client.listDownloadablesBenefits(signal)
  } catch (error) {
    if (error instanceof PolarApiError && error.status === 403) {
      throw new PlanError(NO_BENEFITS_READ[why])
    }
    throw error
  }
}

/** Whole sentences, so a user who searches the README for the message finds it. */
const NO_BENEFITS_READ = {
  replace:
    'replace needs to read your downloadables benefits (so no customer loses a file), but the ' +
    'token lacks the benefits:read scope. Give the token benefits:read, or set replace: false.',
  'protect-benefit-files':
    'protect-benefit-files needs to read your downloadables benefits (so no customer loses a ' +
    'file), but the token lacks the benefits:read scope. Give the token benefits:read, or set ' +
    'protect-benefit-files: false.'
}

/** File ID → the benefits listing it (deleting such a file takes it from their customers). */
export function benefitListings(
  benefits: (BenefitDownloadables | { id: string; files: string[] })[]
): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const b of benefits) {
    const files = 'properties' in b ? b.properties.files : b.files
    for (const id of files) out.set(id, [...(out.get(id) ?? []), b.id])
  }
  return out
}

/** Deletes in a bounded pool with the client's retries; one failure does not stop the others. */
export async function deleteFiles<T extends { id: string }>(
  client: PolarClient,
  items: T[],
  signal?: AbortSignal
): Promise<{ deleted: T[]; failed: { item: T; reason: string }[] }> {
  const results = await mapSettled(items, DELETE_CONCURRENCY, item => {
    throwIfCancelled(signal)
    return client.deleteFile(item.id)
  })
  const deleted: T[] = []
  const failed: { item: T; reason: string }[] = []
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') deleted.push(items[i])
    else failed.push({ item: items[i], reason: errorMessage(r.reason) })
  })
  return { deleted, failed }
}

/**
 * Deletes the files among `ids` that are unfinished. Polar lists only completed files (also
 * with `ids=`): an ID it lists is complete and is never deleted here; one it does not list is
 * unfinished (hidden, yet deletable by ID) or gone already.
 */
export async function removeUnfinished(
  client: PolarClient,
  ids: string[],
  logger: Logger
): Promise<{ deleted: string[]; complete: string[]; failed: { id: string; reason: string }[] }> {
  const listed = new Set((await client.getFiles(ids)).map(f => f.id))
  const complete = ids.filter(id => listed.has(id))
  for (const id of complete) logger.info(`${id} completed: kept.`)
  const deleted: string[] = []
  const failed: { id: string; reason: string }[] = []
  const results = await mapSettled(
    ids.filter(id => !listed.has(id)),
    DELETE_CONCURRENCY,
    async id => ({ id, result: await client.deleteFile(id) })
  )
  results.forEach(r => {
    if (r.status === 'rejected') return
    deleted.push(r.value.id)
    logger.info(
      r.value.result === 'deleted'
        ? `Deleted the unfinished upload ${r.value.id}.`
        : `${r.value.id} was already gone.`
    )
  })
  const pending = ids.filter(id => !listed.has(id))
  results.forEach((r, i) => {
    if (r.status === 'rejected') failed.push({ id: pending[i], reason: errorMessage(r.reason) })
  })
  return { deleted, complete, failed }
}

/**
 * Planning check of `benefit-ids`: each exists in this organization and holds files. Those in
 * `listed` (the listing of every downloadables benefit, when it was read) are not read again.
 */
export async function readTargetBenefits(
  client: PolarClient,
  ids: string[],
  listed: BenefitDownloadables[] = []
): Promise<BenefitDownloadables[]> {
  return Promise.all(ids.map(id => listed.find(b => b.id === id) ?? readTargetBenefit(client, id)))
}

async function readTargetBenefit(client: PolarClient, id: string): Promise<BenefitDownloadables> {
  let benefit: BenefitDownloadables
  try {
    benefit = await client.getBenefit(id)
  } catch (error) {
    if (error instanceof PolarApiError && error.status === 404) {
      throw new InputError(
        'benefit-ids',
        `benefit ${id} does not exist in this organization. Copy the ID of a downloadables benefit from Polar.`
      )
    }
    throw error
  }
  if (benefit.type !== 'downloadables') {
    throw new InputError(
      'benefit-ids',
      `benefit ${id} is a '${benefit.type}' benefit; only downloadables benefits hold files.`
    )
  }
  return benefit
}
