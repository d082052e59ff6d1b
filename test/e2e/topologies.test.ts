/**
 * Release topologies end to end: several processes of the bundled action at once against one
 * emulator (matrix legs naming one benefit; the same names), backports and re-runs of old tags,
 * per-pattern matching and hidden files. Overlap is made certain, not lucky: the emulator holds
 * the benefit PATCHes until every leg has sent one, and jitters every API answer.
 */
import { describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { runAction, useEmulator, workspace, type ActionRun, type FileOutput } from './harness.js'

const emu = useEmulator({}, e => {
  e.clearHolds()
  e.setApiJitter(0)
})

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString()
const base = () => ({ token: emu.token, 'api-url': emu.apiUrl, retries: '3' })
const alive = (id: string) => !emu.files().find(f => f.id === id)!.deletedAt
const benefit = (id: string) => emu.benefits().find(b => b.id === id)!
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Every DELETE of a file that some benefit still listed: customers lost that download. */
const deletedWhileListed = () => emu.log().filter(e => e.method === 'DELETE' && e.listedBy)

function expectClean(runs: ActionRun[]): void {
  for (const run of runs) {
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
  }
  expect(deletedWhileListed()).toEqual([])
}

describe('matrix release: legs at once, one benefit', () => {
  test('each leg swaps its file in; every swap holds; no old file deleted while listed', async () => {
    const tag = `m${Date.now()}`
    const legs = ['linux', 'mac', 'win'].map(os => ({ os, name: `app-${tag}-${os}.zip` }))
    const old = legs.map(l => emu.seedFile({ name: l.name, createdAt: daysAgo(20) }))
    const legacy = emu.seedFile({ name: `legacy-${tag}.pdf`, createdAt: daysAgo(400) })
    const ben = emu.seedBenefit({
      files: [old[0].id, old[1].id, legacy.id, old[2].id],
      archived: { [legacy.id]: true }
    })
    emu.setApiJitter(30)
    // All three PATCHes are built from reads taken before any of them landed: the last one
    // wins, so two legs find their swap overwritten and must apply it again.
    emu.holdRequests({ method: 'PATCH', path: `/v1/benefits/${ben.id}`, count: 3 })

    const runs = await Promise.all(
      legs.map(l =>
        runAction(
          { ...base(), files: '*.zip', 'benefit-ids': ben.id, version: 'v2.0.0' },
          { workspace: workspace({ [l.name]: randomBytes(3000) }) }
        )
      )
    )
    expectClean(runs)
    const fresh = runs.map(r => r.json<FileOutput[]>('files')[0])
    expect(benefit(ben.id).files).toEqual([fresh[0].id, fresh[1].id, legacy.id, fresh[2].id])
    expect(benefit(ben.id).archived).toEqual({ [legacy.id]: true })
    for (const o of old) expect(alive(o.id)).toBe(false)
    expect(alive(legacy.id)).toBe(true)
    fresh.forEach((f, i) => expect(f.replaced_ids).toEqual([old[i].id]))

    // The overlap was certain, and the losers said they applied their swap again: on the
    // read-back after their PATCH, or (a leg reads back at once when it saw no other writer,
    // before the last PATCH landed) on the verify after its deletes.
    const held = emu.log().filter(e => e.method === 'PATCH' && e.held)
    expect(held).toHaveLength(3)
    const reapplied = runs.filter(r =>
      /(swap did not hold|undid this run's swap after it was verified).*applying it again/.test(
        r.stdout
      )
    )
    expect(reapplied.length).toBeGreaterThanOrEqual(2)
    for (const run of runs) expect(run.stdout).not.toMatch(/Add that benefit to/)
  })

  test('legs publishing the same name at once: the newest upload wins everywhere', async () => {
    const name = `same-${Date.now()}.zip`
    const old = emu.seedFile({ name, createdAt: daysAgo(20) })
    const legacy = emu.seedFile({ name: `legacy-same-${Date.now()}.pdf`, createdAt: daysAgo(400) })
    const ben = emu.seedBenefit({ files: [old.id, legacy.id] })
    emu.setApiJitter(30)
    emu.holdRequests({ method: 'PATCH', path: `/v1/benefits/${ben.id}`, count: 3 })

    const runs = await Promise.all(
      [1, 2, 3].map(i =>
        runAction(
          { ...base(), files: name, 'benefit-ids': ben.id },
          { workspace: workspace({ [name]: `build ${i} ${randomBytes(8).toString('hex')}` }) }
        )
      )
    )
    expectClean(runs)
    const ids = runs.map(r => r.json<FileOutput[]>('files')[0].id!)
    const created = emu.files().filter(f => ids.includes(f.id))
    // Polar's order of creation: created_at, then the ID when two legs were created in the same
    // millisecond (the action's tie-break; on node24 such ties happen).
    const newest = created.sort(
      (a, b) =>
        Date.parse(b.createdAt) - Date.parse(a.createdAt) ||
        (b.createdAt === a.createdAt ? (b.id < a.id ? -1 : 1) : b.createdAt < a.createdAt ? -1 : 1)
    )[0]
    const live = emu.files().filter(f => f.name === name && f.isUploaded && !f.deletedAt)
    expect(live.map(f => f.id)).toEqual([newest.id])
    expect(benefit(ben.id).files).toEqual([newest.id, legacy.id])
  })
})

describe('a PATCH built from an old read that lands late', () => {
  test('putting an old ID back after the verify: kept, swap applied again, then retired', async () => {
    const name = `late-${Date.now()}.zip`
    const old = emu.seedFile({ name, createdAt: daysAgo(20) })
    const other = emu.seedFile({ name: `other-${Date.now()}.zip`, createdAt: daysAgo(20) })
    const ben = emu.seedBenefit({ files: [old.id, other.id] })
    // The retire phase's read of every benefit is slowed so that the stale write lands first.
    emu.injectFault({ target: 'api', method: 'GET', path: '/v1/benefits/', kind: 'delay', ms: 0 })
    emu.injectFault({ target: 'api', method: 'GET', path: '/v1/benefits/', kind: 'delay', ms: 800 })
    let stale = 0
    const run = await runAction(
      { ...base(), files: name, 'benefit-ids': ben.id },
      {
        workspace: workspace({ [name]: 'new build' }),
        during: {
          when: () =>
            emu.log().filter(e => e.method === 'GET' && e.path === '/v1/benefits/').length === 2,
          run: async () => {
            const res = await fetch(`${emu.apiUrl}/v1/benefits/${ben.id}`, {
              method: 'PATCH',
              headers: { authorization: `Bearer ${emu.token}`, 'content-type': 'application/json' },
              body: JSON.stringify({
                type: 'downloadables',
                properties: { files: [old.id, other.id], archived: {} }
              })
            })
            stale = res.status
          }
        }
      }
    )
    expect(stale).toBe(200)
    expectClean([run])
    const [f] = run.json<FileOutput[]>('files')
    expect(benefit(ben.id).files).toEqual([f.id, other.id])
    expect(alive(old.id)).toBe(false)
    expect(run.stdout).toMatch(/undid this run's swap after it was verified; applying it again/)
    expect(run.json<string[]>('deleted-ids')).toEqual([old.id])
  })
})

describe('backports and re-runs of old tags', () => {
  test('a backport never deletes, displaces or relabels the newer release', async () => {
    const name = `bp-${Date.now()}.zip`
    const v110 = emu.seedFile({ name, version: 'v1.1.0', createdAt: daysAgo(2) })
    const v104 = emu.seedFile({ name, version: 'v1.0.4', createdAt: daysAgo(30) })
    const ben = emu.seedBenefit({ files: [v110.id] })
    const run = await runAction(
      { ...base(), files: name, 'benefit-ids': ben.id, version: 'v1.0.5' },
      { workspace: workspace({ [name]: 'the 1.0.5 build' }) }
    )
    expectClean([run])
    const [f] = run.json<FileOutput[]>('files')
    expect(f.status).toBe('created')
    expect(f.version).toBe('v1.0.5')
    expect(alive(v110.id)).toBe(true)
    expect(alive(v104.id)).toBe(false) // a lower version created before: an earlier version
    expect(benefit(ben.id).files).toEqual([v110.id])
    expect(emu.log().some(e => e.method === 'PATCH')).toBe(false)
    expect(run.stdout).toContain(`Kept ${name} (${v110.id}): newer version v1.1.0`)
    expect(run.summary).toContain('newer version v1.1.0')
  })

  test('the newest release and a backport at once: the benefit ends with the newest', async () => {
    const name = `pair-${Date.now()}.zip`
    const old = emu.seedFile({ name, version: 'v1.0.0', createdAt: daysAgo(30) })
    const ben = emu.seedBenefit({ files: [old.id] })
    emu.setApiJitter(30)
    emu.holdRequests({ method: 'PATCH', path: `/v1/benefits/${ben.id}`, count: 2 })
    // The backport starts a little later: its file is created after the newest release's, and
    // its PATCH arrives last, so it lands last (arrival order) and overwrites the benefit.
    const runs = await Promise.all(
      ['v1.1.0', 'v1.0.1'].map(async (version, i) => {
        await new Promise(r => setTimeout(r, i * 400))
        return runAction(
          { ...base(), files: name, 'benefit-ids': ben.id, version },
          { workspace: workspace({ [name]: `build ${version}` }) }
        )
      })
    )
    expectClean(runs)
    const [newest, backport] = runs.map(r => r.json<FileOutput[]>('files')[0])
    expect(benefit(ben.id).files).toEqual([newest.id])
    expect(alive(newest.id!)).toBe(true)
    expect(alive(old.id)).toBe(false)
    expect(backport.version).toBe('v1.0.1')
  })

  test('an unchanged reuse never lowers the label of the newer release', async () => {
    const name = `reuse-${Date.now()}.zip`
    const content = 'same bytes in 1.0.5 and 1.1.0'
    const v110 = emu.seedFile({
      name,
      version: 'v1.1.0',
      sha256: hex(content),
      size: content.length
    })
    const run = await runAction(
      { ...base(), files: name, version: 'v1.0.5' },
      { workspace: workspace({ [name]: content }) }
    )
    expectClean([run])
    const [f] = run.json<FileOutput[]>('files')
    expect(f).toMatchObject({ id: v110.id, status: 'unchanged', version: 'v1.1.0' })
    expect(emu.log().filter(e => WRITES.has(e.method))).toEqual([])
    expect(emu.files().find(x => x.id === v110.id)!.version).toBe('v1.1.0')
  })

  test('a re-run of the same tag changes nothing', async () => {
    const name = `rerun-${Date.now()}.zip`
    const ws = workspace({ [name]: 'v3 build' })
    const ben = emu.seedBenefit({ files: [emu.seedFile({ name: `x-${Date.now()}.pdf` }).id] })
    const inputs = { ...base(), files: name, 'benefit-ids': ben.id, version: 'v3.0.0' }
    const first = await runAction(inputs, { workspace: ws })
    expectClean([first])
    emu.clearLog()
    const again = await runAction(inputs, { workspace: ws })
    expectClean([again])
    expect(again.json<FileOutput[]>('files')[0]).toMatchObject({
      id: first.json<FileOutput[]>('files')[0].id,
      status: 'unchanged'
    })
    expect(emu.log().filter(e => WRITES.has(e.method))).toEqual([])
  })
})

describe('per-pattern matching and hidden files', () => {
  test('one missing platform artifact fails the run, naming the pattern, before any write', async () => {
    const ws = workspace({ 'dist/app.zip': 'z', 'dist/app.tar.gz': 't' })
    const run = await runAction(
      { ...base(), files: 'dist/*.zip\ndist/*.exe\ndist/*.tar.gz\ndist/*.dmg' },
      { workspace: ws }
    )
    expect(run.code).not.toBe(0)
    expect(run.stdout).toContain(
      "Input 'files': 2 of 4 patterns in `files` matched no file under " +
        `${ws}: 'dist/*.exe', 'dist/*.dmg'.`
    )
    expect(emu.log().filter(e => WRITES.has(e.method))).toEqual([])
  })

  test('with if-no-files-found: warn the rest is published and the gap is a warning', async () => {
    const name = `warned-${Date.now()}.zip`
    const run = await runAction(
      { ...base(), files: `${name}\n*.exe`, 'if-no-files-found': 'warn' },
      { workspace: workspace({ [name]: 'z' }) }
    )
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(
      /::warning::1 of 2 patterns in `files` matched no file under .*: '\*\.exe'\./
    )
    expect(run.json<FileOutput[]>('files').map(f => f.name)).toEqual([name])
  })

  test('hidden files are skipped unless include-hidden-files; the plan says how many', async () => {
    const stem = `h${Date.now()}`
    const ws = workspace({
      [`dist/${stem}.zip`]: 'z',
      'dist/.DS_Store': 'junk',
      'dist/.gitkeep': '',
      'dist/.cache/x.bin': 'x'
    })
    const dry = { ...base(), files: 'dist/*\ndist/**', 'dry-run': 'true' }
    const run = await runAction(dry, { workspace: ws })
    expect(run.code).toBe(0)
    expect(run.json<FileOutput[]>('files').map(f => f.path)).toEqual([`dist/${stem}.zip`])
    expect(run.stdout).toContain(
      "Skipped 3 hidden file(s) (a name or folder starting with '.'); set include-hidden-files: true to publish them."
    )
    const all = await runAction({ ...dry, 'include-hidden-files': 'true' }, { workspace: ws })
    expect(all.json<FileOutput[]>('files').map(f => f.path)).toEqual([
      'dist/.DS_Store',
      'dist/.cache/x.bin',
      'dist/.gitkeep',
      `dist/${stem}.zip`
    ])
    const only = await runAction({ ...base(), files: 'dist/.gitkeep' }, { workspace: ws })
    expect(only.code).not.toBe(0)
    expect(only.stdout).toContain(
      "'dist/.gitkeep' (only hidden files). Hidden files (a name or folder starting with `.`) " +
        'are skipped unless include-hidden-files: true.'
    )
  })

  test('braces expand, as the files input promises', async () => {
    const ws = workspace({ 'dist/a.zip': 'a', 'dist/b.exe': 'b', 'dist/c.txt': 'c' })
    const run = await runAction(
      { ...base(), files: 'dist/*.{zip,exe}', 'dry-run': 'true' },
      { workspace: ws }
    )
    expect(run.code).toBe(0)
    expect(run.json<FileOutput[]>('files').map(f => f.path)).toEqual(['dist/a.zip', 'dist/b.exe'])
  })
})
