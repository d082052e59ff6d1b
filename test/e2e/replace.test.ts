/** Replace, benefit swap and unchanged-skip end to end against the emulator. */
import { describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { runAction, useEmulator, workspace, type FileOutput } from './harness.js'

const emu = useEmulator()

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString()
const base = () => ({ token: emu.token, 'api-url': emu.apiUrl, retries: '2' })
const alive = (id: string) => !emu.files().find(f => f.id === id)!.deletedAt
const benefit = (id: string) => emu.benefits().find(b => b.id === id)!

describe('replace', () => {
  test('earlier versions go, a newer one and unrelated files stay; DELETEs come last', async () => {
    const name = `app-${Date.now()}.zip`
    const old1 = emu.seedFile({ name, createdAt: daysAgo(30) })
    const old2 = emu.seedFile({ name, createdAt: daysAgo(3) })
    const unrelated = emu.seedFile({ name: 'other.zip', createdAt: daysAgo(30) })
    const media = emu.seedFile({ name, service: 'product_media', createdAt: daysAgo(30) })
    const newer = emu.seedFile({ name, createdAt: new Date(Date.now() + 3_600_000).toISOString() })
    const ben = emu.seedBenefit({
      files: [unrelated.id, old1.id],
      archived: { [unrelated.id]: true }
    })

    const ws = workspace({ [name]: randomBytes(2000) })
    const run = await runAction(
      { ...base(), files: name, 'benefit-ids': ben.id },
      { workspace: ws }
    )
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(f.status).toBe('created')
    expect(new Set(f.replaced_ids)).toEqual(new Set([old1.id, old2.id]))
    expect(new Set(run.json<string[]>('deleted-ids'))).toEqual(new Set([old1.id, old2.id]))
    expect(alive(old1.id) || alive(old2.id)).toBe(false)
    expect(alive(newer.id) && alive(unrelated.id) && alive(media.id)).toBe(true)

    // The new ID took old1's place; the archived flag of the other file survived.
    expect(benefit(ben.id).files).toEqual([unrelated.id, f.id])
    expect(benefit(ben.id).archived).toEqual({ [unrelated.id]: true })

    const log = emu.log()
    const uploaded = log.findIndex(e => e.path === `/v1/files/${f.id}/uploaded` && e.status === 200)
    const patch = log.findIndex(e => e.method === 'PATCH' && e.path === `/v1/benefits/${ben.id}`)
    const deletes = log.map((e, i) => [e, i] as const).filter(([e]) => e.method === 'DELETE')
    expect(deletes).toHaveLength(2)
    expect(patch).toBeGreaterThan(uploaded)
    for (const [, i] of deletes) expect(i).toBeGreaterThan(patch)
  })

  test('a benefit changed during the run keeps the change (read again before the PATCH)', async () => {
    const name = `race-${Date.now()}.zip`
    const old = emu.seedFile({ name, createdAt: daysAgo(10) })
    const manual = emu.seedFile({ name: 'manual.pdf', createdAt: daysAgo(10) })
    const ben = emu.seedBenefit({ files: [old.id, manual.id] })
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'delay', ms: 2000 })
    let other = ''
    const run = await runAction(
      { ...base(), files: name, 'benefit-ids': ben.id },
      {
        workspace: workspace({ [name]: 'new build' }),
        during: {
          // After planning read the benefit: once the first part is on its way to S3.
          when: () => emu.log().some(e => e.target === 's3'),
          run: async () => {
            // Another job (or the owner) adds a file created after this run's listing, and
            // archives the manual.
            other = emu.seedFile({ name: 'app-mac.zip' }).id
            const res = await fetch(`${emu.apiUrl}/v1/benefits/${ben.id}`, {
              method: 'PATCH',
              headers: { authorization: `Bearer ${emu.token}`, 'content-type': 'application/json' },
              body: JSON.stringify({
                type: 'downloadables',
                properties: { files: [old.id, manual.id, other], archived: { [manual.id]: true } }
              })
            })
            expect(res.status).toBe(200)
          }
        }
      }
    )
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(benefit(ben.id).files).toEqual([f.id, manual.id, other])
    expect(benefit(ben.id).archived).toEqual({ [manual.id]: true })
    expect(run.stdout).not.toMatch(/no longer has/)
  })

  test('a listed file deleted between the re-read and the PATCH: 422, read again, PATCHed', async () => {
    const name = `gone-${Date.now()}.zip`
    const old = emu.seedFile({ name, createdAt: daysAgo(10) })
    const manual = emu.seedFile({ name: 'manual-gone.pdf', createdAt: daysAgo(10) })
    const ben = emu.seedBenefit({ files: [old.id, manual.id] })
    // manual is deleted during the upload, after the start-of-run listing saw it alive: the
    // first PATCH (built from that listing) gets 422, the second checks every ID and drops it.
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'delay', ms: 800 })
    const run = await runAction(
      { ...base(), files: name, 'benefit-ids': ben.id },
      {
        workspace: workspace({ [name]: 'v2' }),
        during: {
          // The planning read of the benefits (their listing) is done, the upload under way.
          when: () =>
            emu.log().some(e => e.method === 'GET' && e.path === '/v1/benefits/') &&
            emu.log().some(e => e.target === 's3'),
          run: async () => {
            const res = await fetch(`${emu.apiUrl}/v1/files/${manual.id}`, {
              method: 'DELETE',
              headers: { authorization: `Bearer ${emu.token}` }
            })
            expect(res.status).toBe(204)
          }
        }
      }
    )
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(benefit(ben.id).files).toEqual([f.id])
    expect(alive(old.id)).toBe(false)
    const patches = emu
      .log()
      .filter(e => e.method === 'PATCH' && e.path === `/v1/benefits/${ben.id}`)
    expect(patches.map(p => p.status)).toEqual([422, 200])
  })

  test('an earlier version that another benefit lists is kept, with a warning naming it', async () => {
    const name = `kept-${Date.now()}.zip`
    const old = emu.seedFile({ name, createdAt: daysAgo(10) })
    const other = emu.seedBenefit({ files: [old.id] })
    const run = await runAction(
      { ...base(), files: name },
      { workspace: workspace({ [name]: 'v2' }) }
    )
    expect(run.code).toBe(0)
    expect(alive(old.id)).toBe(true)
    expect(run.json('deleted-ids')).toEqual([])
    expect(run.stdout).toMatch(new RegExp(`::warning::.*${old.id}.*benefit ${other.id}`))
    expect(emu.log().filter(e => e.method === 'DELETE')).toEqual([])
  })

  test('one failed upload among several: no benefit touched, nothing deleted', async () => {
    const stamp = Date.now()
    const oldA = emu.seedFile({ name: `a-${stamp}.zip`, createdAt: daysAgo(5) })
    const oldB = emu.seedFile({ name: `b-${stamp}.zip`, createdAt: daysAgo(5) })
    const ben = emu.seedBenefit({ files: [oldA.id, oldB.id] })
    const ws = workspace({ [`a-${stamp}.zip`]: 'aaa', [`b-${stamp}.zip`]: 'bbb' })
    // Every PUT of b fails (its key carries its name).
    emu.injectFault({
      target: 's3',
      method: 'PUT',
      path: new RegExp(`b-${stamp}`),
      kind: 'status',
      status: 500,
      times: 50
    })
    const run = await runAction(
      { ...base(), files: '*.zip', 'benefit-ids': ben.id, retries: '1' },
      { workspace: ws }
    )
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(/no benefit was changed and no earlier version was deleted/)
    expect(emu.log().filter(e => e.method === 'PATCH')).toEqual([])
    const deleted = emu
      .log()
      .filter(e => e.method === 'DELETE')
      .map(e => e.path)
    expect(deleted).not.toContain(`/v1/files/${oldA.id}`)
    expect(deleted).not.toContain(`/v1/files/${oldB.id}`)
    expect(alive(oldA.id) && alive(oldB.id)).toBe(true)
    expect(benefit(ben.id).files).toEqual([oldA.id, oldB.id])
    // The created-but-failed b was rolled back; a's new file stays (a re-run reuses it).
    const files = run.json<FileOutput[]>('files')
    expect(files.map(f => f.name)).toEqual([`a-${stamp}.zip`])
    expect(alive(files[0].id!)).toBe(true)
  })

  test('a wrong benefit ID fails before any upload', async () => {
    const run = await runAction(
      { ...base(), files: '*.zip', 'benefit-ids': '99999999-9999-4999-8999-999999999999' },
      { workspace: workspace({ 'x.zip': 'x' }) }
    )
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(/Input 'benefit-ids'/)
    expect(emu.log().filter(e => e.method !== 'GET')).toEqual([])
  })

  test('without benefits:read, replace fails during planning and offers the fixes', async () => {
    const name = `scoped-${Date.now()}.zip`
    emu.seedFile({ name, createdAt: daysAgo(1) })
    const token = emu.createToken({ scopes: ['files:read', 'files:write'] })
    const run = await runAction(
      { ...base(), token, files: name },
      { workspace: workspace({ [name]: 'new' }) }
    )
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(/benefits:read.*replace: false/)
    expect(emu.log().filter(e => e.method !== 'GET')).toEqual([])
  })

  test('unchanged: reused without upload, version patched, still swapped and replacing', async () => {
    const name = `same-${Date.now()}.zip`
    const content = randomBytes(500)
    const older = emu.seedFile({ name, createdAt: daysAgo(9) })
    const same = emu.seedFile({
      name,
      sha256: hex(content),
      size: 500,
      version: 'v1',
      createdAt: daysAgo(2)
    })
    const ben = emu.seedBenefit({ files: [older.id] })
    const run = await runAction(
      { ...base(), files: name, version: 'v2', 'benefit-ids': ben.id },
      { workspace: workspace({ [name]: content }) }
    )
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(f).toMatchObject({
      id: same.id,
      status: 'unchanged',
      version: 'v2',
      replaced_ids: [older.id]
    })
    expect(
      emu.log().filter(e => e.target === 's3' || (e.path === '/v1/files/' && e.method === 'POST'))
    ).toEqual([])
    expect(emu.files().find(s => s.id === same.id)!.version).toBe('v2')
    expect(benefit(ben.id).files).toEqual([same.id])
    expect(alive(older.id)).toBe(false)

    const again = await runAction(
      { ...base(), files: name, version: 'v2', 'if-unchanged': 'upload', replace: 'false' },
      { workspace: workspace({ [name]: content }) }
    )
    expect(again.json<FileOutput[]>('files')[0].status).toBe('created')
  })

  test('dry run prints the whole plan and writes nothing', async () => {
    const name = `dry-${Date.now()}.zip`
    const old = emu.seedFile({ name, createdAt: daysAgo(9) })
    const ben = emu.seedBenefit({ files: [old.id] })
    const run = await runAction(
      { ...base(), files: name, 'benefit-ids': ben.id, 'dry-run': 'true' },
      { workspace: workspace({ [name]: 'new content' }) }
    )
    expect(run.code).toBe(0)
    expect(emu.log().filter(e => e.method !== 'GET')).toEqual([])
    expect(run.json('deleted-ids')).toEqual([old.id])
    expect(run.stdout).toMatch(
      new RegExp(
        `Would update benefit .* \\(${ben.id}\\): ${name} ${old.id.slice(0, 8)} → the new upload`
      )
    )
    expect(alive(old.id)).toBe(true)
  })

  test('an organization with 1,000+ files: every page is read', async () => {
    const name = `paged-${Date.now()}.zip`
    for (let i = 0; i < 1050; i++) emu.seedFile({ name: `filler-${i}.bin`, createdAt: daysAgo(1) })
    const olds = [0, 1, 2].map(i => emu.seedFile({ name, createdAt: daysAgo(20 + i) }))
    const run = await runAction(
      { ...base(), files: name },
      { workspace: workspace({ [name]: 'x' }) }
    )
    expect(run.code).toBe(0)
    expect(new Set(run.json<string[]>('deleted-ids'))).toEqual(new Set(olds.map(o => o.id)))
    const pages = emu.log().filter(e => e.method === 'GET' && e.path === '/v1/files/')
    expect(pages.length).toBeGreaterThanOrEqual(11)
  })
})
