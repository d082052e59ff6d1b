/**
 * Polar's contract over time, end to end: API versions rotating every quarter (the worlds of
 * January and April 2027), malware flags, request guards, and the post step that deletes what
 * a killed main step left unfinished.
 */
import { describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { PINNED_VERSION } from '../../src/polar/api-version.js'
import { DEFAULT_VERSIONS, versionsAt } from '../../emulator/polar/index.js'
import { postStepEnv, runAction, useEmulator, workspace, type FileOutput } from './harness.js'

const emu = useEmulator({}, e => {
  e.clearMalwareRules()
  e.setVersions(DEFAULT_VERSIONS)
  e.setS3Network({ s3ConnectionBytesPerSec: null, s3TotalBytesPerSec: null })
})

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString()
const base = () => ({ token: emu.token, 'api-url': emu.apiUrl, retries: '2' })
const file = (id: string) => emu.files().find(f => f.id === id)!
const alive = (id: string) => !file(id).deletedAt
const benefit = (id: string) => emu.benefits().find(b => b.id === id)!
const writes = () => emu.log().filter(e => e.target === 'api' && e.method !== 'GET')
const warnings = (stdout: string) => stdout.split('\n').filter(l => l.startsWith('::warning::'))

/** A release of two files with a benefit that lists the earlier version of one of them. */
function release(tag: string) {
  const name = `app-${tag}-${Date.now()}.zip`
  const old = emu.seedFile({ name, version: 'v1.0.0', createdAt: daysAgo(20) })
  const ben = emu.seedBenefit({ files: [old.id] })
  return { name, old, ben, ws: workspace({ [name]: randomBytes(3000) }) }
}

describe('Polar API versions', () => {
  test('January 2027 (2026-10 Deprecated): publishes with the pin, warns of its removal in April', async () => {
    emu.setVersions(versionsAt('2027-01'))
    expect(emu.versions().served).toEqual(['2026-10', '2027-01', '2027-04'])
    const r = release('jan')
    const run = await runAction(
      { ...base(), files: r.name, version: 'v1.1.0', 'benefit-ids': r.ben.id },
      { workspace: r.ws, env: { POLAR_FILES_ACTION_NOW: '2027-01-12T10:00:00Z' } }
    )
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(f.status).toBe('created')
    expect(benefit(r.ben.id).files).toEqual([f.id])
    expect(alive(r.old.id)).toBe(false)
    const api = emu.log().filter(e => e.target === 'api')
    expect(api.every(e => e.polarVersion === PINNED_VERSION && e.status !== 404)).toBe(true)
    const warned = warnings(run.stdout)
    expect(warned).toHaveLength(1)
    expect(warned[0]).toMatch(/2026-10.*deprecated.*first week of April 2027/)
    expect(warned[0]).toMatch(/update polar-files-action/)
    expect(run.summary).toMatch(/first week of April 2027/)
  })

  test('April 2027 (2026-10 removed): goes on with Polar’s current version, warns once, says so in the summary', async () => {
    emu.setVersions(versionsAt('2027-04'))
    const r = release('apr')
    const run = await runAction(
      { ...base(), files: r.name, version: 'v1.1.0', 'benefit-ids': r.ben.id },
      { workspace: r.ws, env: { POLAR_FILES_ACTION_NOW: '2027-04-12T10:00:00Z' } }
    )
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(f.status).toBe('created')
    expect(f.replaced_ids).toEqual([r.old.id])
    expect(benefit(r.ben.id).files).toEqual([f.id])
    expect(alive(r.old.id)).toBe(false)

    const warned = warnings(run.stdout)
    expect(warned).toHaveLength(1)
    expect(warned[0]).toContain('2026-10')
    expect(warned[0]).toContain('2027-04')
    expect(warned[0]).toContain('update polar-files-action')
    expect(run.summary).toContain('Polar no longer serves API version 2026-10')
    expect(run.summary).toContain('2027-04')

    // Turned away only before the fallback; every write went without the retired header.
    const api = emu.log().filter(e => e.target === 'api')
    const turnedAway = api.filter(e => e.status === 404)
    expect(turnedAway.length).toBeGreaterThan(0)
    expect(turnedAway.every(e => e.polarVersion === '2026-10' && e.method === 'GET')).toBe(true)
    expect(writes().length).toBeGreaterThan(0)
    expect(writes().every(e => e.polarVersion === undefined && e.status < 300)).toBe(true)
  })

  test('an explicit api-version Polar does not serve fails naming it, with zero writes', async () => {
    emu.setVersions(versionsAt('2027-01'))
    const r = release('strict')
    const run = await runAction(
      { ...base(), files: r.name, 'benefit-ids': r.ben.id, 'api-version': '2026-04' },
      { workspace: r.ws }
    )
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /::error::Input 'api-version': Polar does not serve API version 2026-04/
    )
    expect(writes()).toHaveLength(0)
    expect(benefit(r.ben.id).files).toEqual([r.old.id])
    // Never replaced by the server's version.
    expect(emu.log().every(e => e.target !== 'api' || e.polarVersion === '2026-04')).toBe(true)
  })

  test('strict even when the first call would be a write (no reads planned): a read checks first', async () => {
    emu.setVersions(versionsAt('2027-04'))
    const name = `lone-${Date.now()}.bin`
    const run = await runAction(
      {
        ...base(),
        files: name,
        replace: 'false',
        'if-unchanged': 'upload',
        'api-version': '2026-10'
      },
      { workspace: workspace({ [name]: 'x' }) }
    )
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/api-version.*2026-10/)
    expect(writes()).toHaveLength(0)
    expect(emu.files().some(f => f.name === name)).toBe(false)
  })

  test('an explicit served api-version is sent on every call', async () => {
    emu.setVersions(versionsAt('2027-04'))
    const name = `next-${Date.now()}.bin`
    const run = await runAction(
      { ...base(), files: name, 'api-version': '2027-07' },
      {
        workspace: workspace({ [name]: 'x' }),
        env: { POLAR_FILES_ACTION_NOW: '2027-05-01T00:00:00Z' }
      }
    )
    expect(run.code).toBe(0)
    expect(warnings(run.stdout)).toHaveLength(0)
    const api = emu.log().filter(e => e.target === 'api')
    expect(api.every(e => e.polarVersion === '2027-07')).toBe(true)
  })

  test('a malformed api-version fails before any request', async () => {
    const run = await runAction(
      { ...base(), files: 'x', 'api-version': '2026-4' },
      { workspace: workspace({ x: 'x' }) }
    )
    expect(run.code).toBe(1)
    expect(run.stdout).toContain("Input 'api-version': '2026-4' is not a Polar API version")
    expect(emu.log()).toHaveLength(0)
  })

  // Polar's guard covers POST/PUT/PATCH; a DELETE has no body (undici sends no length for it).
  test('every API write with a body (POST, PATCH) carries Content-Length', async () => {
    const r = release('length')
    const run = await runAction(
      { ...base(), files: r.name, version: 'v1.1.0', 'benefit-ids': r.ben.id },
      { workspace: r.ws }
    )
    expect(run.code).toBe(0)
    const methods = new Set(writes().map(e => e.method))
    expect(methods).toEqual(new Set(['POST', 'PATCH', 'DELETE']))
    const withBody = writes().filter(e => e.method !== 'DELETE')
    expect(withBody.every(e => e.contentLength !== undefined && e.status !== 411)).toBe(true)
  })
})

describe('malware flags', () => {
  /** Two files of a release: the Windows one is flagged by Polar's scan. */
  function twoFiles(tag: string) {
    const win = `app-win-${tag}-${Date.now()}.exe`
    const mac = `app-mac-${tag}-${Date.now()}.zip`
    const oldWin = emu.seedFile({ name: win, version: 'v1.0.0', createdAt: daysAgo(20) })
    const oldMac = emu.seedFile({ name: mac, version: 'v1.0.0', createdAt: daysAgo(20) })
    const ben = emu.seedBenefit({ files: [oldWin.id, oldMac.id] })
    const ws = workspace({ [win]: randomBytes(2000), [mac]: randomBytes(2000) })
    return { win, mac, oldWin, oldMac, ben, ws }
  }

  for (const when of ['upload', 'later'] as const) {
    test(`flagged ${when === 'upload' ? 'in the /uploaded answer' : 'in a read after it'}: not swapped, replaces nothing, left for review, the run fails naming it`, async () => {
      const t = twoFiles(when)
      emu.flagMalicious({ name: 'app-win-*', when })
      const run = await runAction(
        {
          ...base(),
          files: `${t.win}\n${t.mac}`,
          version: 'v1.1.0',
          'benefit-ids': t.ben.id
        },
        { workspace: t.ws }
      )
      expect(run.code).toBe(1)
      expect(run.stdout).toContain(`::error::Polar flagged ${t.win} (`)
      expect(run.stdout).toMatch(/as malicious/)
      const files = run.json<FileOutput[]>('files')
      const win = files.find(f => f.name === t.win)!
      const mac = files.find(f => f.name === t.mac)!
      expect(win.status).toBe('flagged')
      expect(win.replaced_ids).toEqual([])
      expect(mac.status).toBe('created')
      // The flagged upload stays in Polar; the earlier Windows build stays, listed.
      expect(alive(win.id!)).toBe(true)
      expect(file(win.id!).flaggedMaliciousAt).toBeTruthy()
      expect(alive(t.oldWin.id)).toBe(true)
      expect(benefit(t.ben.id).files).toEqual([t.oldWin.id, mac.id])
      expect(alive(t.oldMac.id)).toBe(false)
      expect(run.outputs.checksums).not.toContain(t.win)
      expect(run.summary).toContain('flagged as malicious')
      expect(run.summary).toContain(`Polar flagged ${t.win}`)
    })
  }

  test('if-unchanged: skip never reuses a flagged file: it is uploaded anew', async () => {
    const name = `same-${Date.now()}.exe`
    const content = randomBytes(1000)
    const flagged = emu.seedFile({
      name,
      sha256: hex(content),
      size: content.length,
      createdAt: daysAgo(2),
      flaggedMaliciousAt: daysAgo(1)
    })
    const run = await runAction(
      { ...base(), files: name, 'if-unchanged': 'skip' },
      { workspace: workspace({ [name]: content }) }
    )
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(f.status).toBe('created')
    expect(f.id).not.toBe(flagged.id)
    // Replace never deletes a flagged file either: it is Polar's to review.
    expect(alive(flagged.id)).toBe(true)
    expect(f.replaced_ids).toEqual([])
  })

  test('cleanup: a flagged file is not among keep and is never deleted; keep: 1 keeps the newest clean one', async () => {
    const name = `clean-${Date.now()}.zip`
    const oldest = emu.seedFile({ name, createdAt: daysAgo(30) })
    const clean = emu.seedFile({ name, createdAt: daysAgo(20) })
    const flagged = emu.seedFile({ name, createdAt: daysAgo(10), flaggedMaliciousAt: daysAgo(9) })
    const run = await runAction(
      { ...base(), mode: 'cleanup', names: name, keep: '1' },
      { workspace: workspace() }
    )
    expect(run.code).toBe(0)
    expect(run.json<string[]>('deleted-ids')).toEqual([oldest.id])
    expect(alive(clean.id) && alive(flagged.id)).toBe(true)
    expect(alive(oldest.id)).toBe(false)
    expect(run.summary).toContain('flagged as malicious')
  })
})

describe('post step', () => {
  test('deletes what a SIGKILLed main step left unfinished, never a complete file', async () => {
    const name = `killed-${Date.now()}.bin`
    const done = `done-${Date.now()}.bin`
    // Slow S3: the kill lands while parts are on their way.
    emu.setS3Network({ s3ConnectionBytesPerSec: 2_000_000 })
    const big = randomBytes(12 * 1024 * 1024)
    const main = await runAction(
      { ...base(), files: `${done}\n${name}`, 'part-size': '5MiB', concurrency: '1' },
      {
        workspace: workspace({ [name]: big, [done]: 'small and complete' }),
        signal: {
          name: 'SIGKILL',
          when: () =>
            emu.files().some(f => f.name === done && f.isUploaded) &&
            emu.files().some(f => f.name === name && !f.isUploaded && f.parts.length > 0)
        },
        timeoutMs: 60_000
      }
    )
    expect(main.code).not.toBe(0)
    const unfinished = emu.files().filter(f => f.name === name && !f.deletedAt)
    expect(unfinished).toHaveLength(1)
    expect(unfinished[0].isUploaded).toBe(false)
    const complete = emu.files().find(f => f.name === done)!
    expect(JSON.parse(main.state.unfinishedFileIds)).toEqual([unfinished[0].id])

    emu.setS3Network({ s3ConnectionBytesPerSec: null })
    emu.clearLog()
    // Also handed a complete file's ID (as if saved just before completion): it stays.
    const state = {
      ...main.state,
      unfinishedFileIds: JSON.stringify([unfinished[0].id, complete.id])
    }
    const post = await runAction(
      { ...base(), files: `${done}\n${name}` },
      { workspace: workspace(), env: postStepEnv(state) }
    )
    expect(post.code).toBe(0)
    expect(post.stdout).toContain(`Deleted the unfinished upload ${unfinished[0].id}`)
    expect(alive(unfinished[0].id)).toBe(false)
    expect(alive(complete.id)).toBe(true)
    expect(emu.files().filter(f => !f.isUploaded && !f.deletedAt)).toHaveLength(0)
    const calls = emu.log().filter(e => e.target === 'api')
    expect(calls.filter(e => e.method === 'DELETE').map(e => e.path)).toEqual([
      `/v1/files/${unfinished[0].id}`
    ])
    expect(calls[0].method).toBe('GET')
    expect(calls[0].query).toContain(`ids=${unfinished[0].id}`)
  }, 90_000)

  test('after a main step that ended normally: no API call at all', async () => {
    const name = `normal-${Date.now()}.bin`
    const main = await runAction(
      { ...base(), files: name },
      { workspace: workspace({ [name]: 'fine' }) }
    )
    expect(main.code).toBe(0)
    expect(main.state.isPost).toBe('true')
    expect(JSON.parse(main.state.unfinishedFileIds)).toEqual([])
    emu.clearLog()
    const post = await runAction(
      { ...base(), files: name },
      { workspace: workspace(), env: postStepEnv(main.state) }
    )
    expect(post.code).toBe(0)
    expect(emu.log()).toHaveLength(0)
    expect(post.stdout.trim()).toBe('')
  })
})

describe('response checks', () => {
  test('a create answer without a part URL fails naming endpoint and field; the file is deleted, nothing else written', async () => {
    const name = `shape-${Date.now()}.bin`
    emu.injectFault({
      target: 'api',
      method: 'POST',
      path: '/v1/files/',
      kind: 'field',
      field: 'upload.parts.0.url'
    })
    const run = await runAction(
      { ...base(), files: name },
      { workspace: workspace({ [name]: 'abc' }) }
    )
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('POST /v1/files/ answered without a valid `upload.parts[0].url`')
    const created = emu.files().filter(f => f.name === name)
    expect(created).toHaveLength(1)
    expect(created[0].deletedAt).not.toBeNull()
    expect(writes().map(e => e.method)).toEqual(['POST', 'DELETE'])
    expect(emu.log().some(e => e.target === 's3')).toBe(false)
  })

  test('an /uploaded answer without is_uploaded fails naming it; the upload is rolled back', async () => {
    const name = `shape2-${Date.now()}.bin`
    emu.injectFault({
      target: 'api',
      method: 'POST',
      path: /\/uploaded$/,
      kind: 'field',
      field: 'is_uploaded'
    })
    const run = await runAction(
      { ...base(), files: name },
      { workspace: workspace({ [name]: 'abc' }) }
    )
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /POST \/v1\/files\/[0-9a-f-]+\/uploaded answered without a valid `is_uploaded`/
    )
    expect(emu.files().filter(f => f.name === name && !f.deletedAt)).toHaveLength(0)
  })

  test('a benefit without properties.files fails while planning, before any write', async () => {
    const r = release('shape3')
    emu.injectFault({
      target: 'api',
      method: 'GET',
      // The benefit comes from the listing of downloadables benefits (each is read once).
      path: '/v1/benefits/',
      kind: 'field',
      field: 'items.0.properties.files'
    })
    const run = await runAction(
      { ...base(), files: r.name, 'benefit-ids': r.ben.id },
      { workspace: r.ws }
    )
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      'GET /v1/benefits/ answered without a valid `items[0].properties.files`'
    )
    expect(writes()).toHaveLength(0)
  })

  test('a list page without pagination fails naming it', async () => {
    const r = release('shape4')
    emu.injectFault({
      target: 'api',
      method: 'GET',
      path: '/v1/files/',
      kind: 'field',
      field: 'pagination'
    })
    const run = await runAction({ ...base(), files: r.name }, { workspace: r.ws })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('GET /v1/files/ answered without a valid `pagination`')
    expect(writes()).toHaveLength(0)
  })
})
