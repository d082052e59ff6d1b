/** Benefit swap rules (pure) and the converging loop against an in-memory Polar. */
import { describe, expect, test } from '@jest/globals'
import { converge, planSwap, swapHolds, type OwnFile } from '../../src/benefits.js'
import { LiveFiles } from '../../src/live-files.js'
import { BenefitConflictError, PolarApiError } from '../../src/errors.js'
import type { PolarClient } from '../../src/polar/client.js'
import type { BenefitDownloadables, FileRead } from '../../src/polar/types.js'
import { fileReads } from '../support/fixtures.js'

const file = fileReads(n => `f${n}`)
const benefit = (
  files: string[],
  archived: Record<string, boolean> = {}
): BenefitDownloadables => ({
  id: 'b1',
  type: 'downloadables',
  description: 'Downloads',
  organization_id: 'org',
  properties: { files, archived }
})
const ownOf = (f: FileRead): OwnFile => ({
  id: f.id,
  name: f.name,
  createdAt: f.created_at,
  version: f.version
})
const liveOf = (...files: FileRead[]) => new Map(files.map(f => [f.id, f]))

const oldLinux = file('app-linux.zip', '2026-01-01T00:00:00Z')
const oldMac = file('app-mac.zip', '2026-01-01T00:00:00Z')
const oldWin = file('app-win.zip', '2026-01-01T00:00:00Z')
const legacy = file('legacy.pdf', '2025-01-01T00:00:00Z')
const newLinux = file('app-linux.zip', '2026-02-01T00:00:00Z')
const newMac = file('app-mac.zip', '2026-02-01T00:00:00Z')
const newExtra = file('extra.zip', '2026-02-01T00:00:00Z')
const all = liveOf(oldLinux, oldMac, oldWin, legacy, newLinux, newMac, newExtra)

describe('planSwap', () => {
  test('new IDs take the old positions; others and archived kept; unmatched appended', () => {
    const change = planSwap(
      benefit([oldLinux.id, legacy.id, oldMac.id, oldWin.id], {
        [legacy.id]: true,
        [oldMac.id]: true
      }),
      [newLinux, newMac, newExtra].map(ownOf),
      all
    )
    expect(change.files).toEqual([newLinux.id, legacy.id, newMac.id, oldWin.id, newExtra.id])
    expect(change.archived).toEqual({ [legacy.id]: true })
    expect(change.changed).toBe(true)
  })
  test('several earlier versions collapse into one slot; a listed new ID is not duplicated', () => {
    const older = file('app-linux.zip', '2025-06-01T00:00:00Z')
    const change = planSwap(
      benefit([older.id, legacy.id, oldLinux.id, newLinux.id]),
      [ownOf(newLinux)],
      liveOf(older, legacy, oldLinux, newLinux)
    )
    expect(change.files).toEqual([newLinux.id, legacy.id])
  })
  test('stale (deleted) IDs are dropped so the PATCH cannot fail', () => {
    const change = planSwap(benefit(['gone', legacy.id]), [], all)
    expect(change.files).toEqual([legacy.id])
    expect(change.droppedStale).toEqual(['gone'])
  })
  test('nothing to do leaves the benefit unchanged', () => {
    const change = planSwap(benefit([legacy.id, newLinux.id]), [ownOf(newLinux)], all)
    expect(change.changed).toBe(false)
  })
  test('a backport never displaces a higher version, nor gets appended next to it', () => {
    const v110 = file('app.zip', '2026-01-01T00:00:00Z', { version: 'v1.1.0' })
    const v105 = file('app.zip', '2026-03-01T00:00:00Z', { version: 'v1.0.5' })
    const live = liveOf(v110, v105, legacy)
    const change = planSwap(benefit([v110.id, legacy.id]), [ownOf(v105)], live)
    expect(change.changed).toBe(false)
    expect(swapHolds(benefit([v110.id, legacy.id]), [ownOf(v105)], live)).toBe(true)
    // An LTS benefit listing an older 1.0.x does take the backport.
    const v104 = file('app.zip', '2025-12-01T00:00:00Z', { version: 'v1.0.4' })
    expect(planSwap(benefit([v104.id]), [ownOf(v105)], liveOf(v104, v105)).files).toEqual([v105.id])
  })
  test('a newer upload of the same name (another job) supersedes this one', () => {
    const concurrent = file('app-linux.zip', '2026-02-02T00:00:00Z')
    const live = liveOf(oldLinux, newLinux, concurrent)
    // The other job got there first: this run does not put its older file back.
    expect(planSwap(benefit([concurrent.id]), [ownOf(newLinux)], live).changed).toBe(false)
    expect(swapHolds(benefit([concurrent.id]), [ownOf(newLinux)], live)).toBe(true)
    // This run got there first: the other job's swap replaces this run's file.
    expect(planSwap(benefit([newLinux.id]), [ownOf(concurrent)], live).files).toEqual([
      concurrent.id
    ])
  })
})

describe('the newest release and a backport at once', () => {
  test('whichever lands first, the benefit ends with the higher version', () => {
    const x = file('app.zip', '2026-03-01T00:00:00Z', { version: 'v1.1.0' })
    const y = file('app.zip', '2026-03-01T00:00:01Z', { version: 'v1.0.1' }) // created after x
    const live = liveOf(x, y)
    // The backport's PATCH landed first: the newest release takes its place.
    expect(planSwap(benefit([y.id]), [ownOf(x)], live).files).toEqual([x.id])
    expect(swapHolds(benefit([y.id]), [ownOf(x)], live)).toBe(false)
    // The newest release is there: the backport leaves it alone, and its swap holds.
    expect(planSwap(benefit([x.id]), [ownOf(y)], live).changed).toBe(false)
    expect(swapHolds(benefit([x.id]), [ownOf(y)], live)).toBe(true)
  })
})

describe('swapHolds', () => {
  const own = [newLinux, newMac].map(ownOf)
  test('holds when every new ID is listed and no earlier version is', () => {
    expect(swapHolds(benefit([newLinux.id, legacy.id, newMac.id]), own, all)).toBe(true)
  })
  test('does not hold when another writer put an old ID back or dropped a new one', () => {
    expect(swapHolds(benefit([oldLinux.id, legacy.id, newMac.id]), own, all)).toBe(false)
    expect(swapHolds(benefit([legacy.id, newMac.id]), own, all)).toBe(false)
    expect(swapHolds(benefit([newLinux.id, oldLinux.id, newMac.id]), own, all)).toBe(false)
  })
  test('a published file Polar no longer has (replaced by a newer run) has nothing to hold', () => {
    expect(swapHolds(benefit([legacy.id, newMac.id]), own, liveOf(legacy, newMac))).toBe(true)
  })
})

/** An in-memory Polar holding one benefit; `onPatch` plays the other writers. */
function fakePolar(initial: string[], files: FileRead[], onPatch?: (n: number) => void) {
  const state = { files: [...initial], archived: {} as Record<string, boolean>, patches: 0 }
  const live = new Map(files.map(f => [f.id, f]))
  const client = {
    reserve: async () => undefined,
    getBenefit: async () => benefit([...state.files], { ...state.archived }),
    getFiles: async (ids: string[]) => ids.flatMap(id => (live.has(id) ? [live.get(id)!] : [])),
    patchBenefitFiles: async (_id: string, list: string[], archived: Record<string, boolean>) => {
      const gone = list.find(id => !live.has(id))
      if (gone) {
        throw new PolarApiError(422, 'PATCH', '/v1/benefits/b1', 'x', 'File not found.')
      }
      state.files = [...list]
      state.archived = { ...archived }
      state.patches++
      onPatch?.(state.patches)
      return benefit(state.files)
    }
  } as unknown as PolarClient
  return { state, client, live }
}

const quiet = { debug: () => undefined, info: () => undefined, warning: () => undefined }

describe('converge', () => {
  test('re-applies a swap that another writer overwrote, then returns once it holds', async () => {
    const warnings: string[] = []
    const fake = fakePolar([oldLinux.id, legacy.id, oldMac.id], [...all.values()], n => {
      // Right after this run's first PATCH, another job's PATCH from an older read lands.
      if (n === 1) fake.state.files = [oldLinux.id, legacy.id, newMac.id]
    })
    const out = await converge(
      'b1',
      [ownOf(newLinux)],
      new LiveFiles(fake.client, [...all.values()]),
      {
        client: fake.client,
        logger: { ...quiet, warning: m => warnings.push(m) },
        sleep: async () => undefined
      }
    )
    expect(fake.state.files).toEqual([newLinux.id, legacy.id, newMac.id])
    expect(out.after).toEqual(fake.state.files)
    expect(out.patched).toBe(true)
    expect(fake.state.patches).toBe(2)
    expect(warnings.join('\n')).toMatch(/did not hold .*missing f\d+.*listing earlier.*try 2 of 8/)
  })
  test('a 422 for a file deleted meanwhile is a signal to read again, not to fail', async () => {
    const fake = fakePolar([oldLinux.id, legacy.id], [...all.values()])
    const liveFiles = new LiveFiles(fake.client, [...all.values()])
    fake.live.delete(legacy.id) // deleted after the run's listing saw it
    await converge('b1', [ownOf(newLinux)], liveFiles, {
      client: fake.client,
      logger: quiet,
      sleep: async () => undefined
    })
    expect(fake.state.files).toEqual([newLinux.id])
  })
  test('a failed PATCH (5xx, no retry by the client) is followed by a fresh read, not a resend', async () => {
    const fake = fakePolar([oldLinux.id, legacy.id], [...all.values()])
    const patch = fake.client.patchBenefitFiles.bind(fake.client)
    let failures = 0
    fake.client.patchBenefitFiles = (async (...args: Parameters<typeof patch>) => {
      if (failures++ === 0) {
        fake.state.files = [oldLinux.id, legacy.id, newMac.id] // another job wrote meanwhile
        throw new PolarApiError(503, 'PATCH', '/v1/benefits/b1', undefined, 'unavailable')
      }
      return patch(...args)
    }) as typeof patch
    await converge('b1', [ownOf(newLinux)], new LiveFiles(fake.client, [...all.values()]), {
      client: fake.client,
      logger: quiet,
      sleep: async () => undefined
    })
    expect(fake.state.files).toEqual([newLinux.id, legacy.id, newMac.id])
  })
  test('gives up after 8 tries naming the benefit', async () => {
    const fake = fakePolar([oldLinux.id], [...all.values()], () => {
      fake.state.files = [oldLinux.id] // someone keeps writing the old list back
    })
    const slept: number[] = []
    await expect(
      converge('b1', [ownOf(newLinux)], new LiveFiles(fake.client, [...all.values()]), {
        client: fake.client,
        logger: quiet,
        sleep: async ms => void slept.push(ms),
        random: () => 0.5
      })
    ).rejects.toThrow(BenefitConflictError)
    expect(fake.state.patches).toBe(8)
    // A settle pause after each PATCH and a growing backoff between tries.
    const backoffs = slept.filter((_, i) => i % 2 === 1)
    expect(backoffs).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000])
  })
})
