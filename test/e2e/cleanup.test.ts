/** Cleanup mode end to end against the emulator. */
import { describe, expect, test } from '@jest/globals'
import { runAction, useEmulator, workspace } from './harness.js'

const emu = useEmulator()

const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString()
const alive = (id: string) => !emu.files().find(f => f.id === id)!.deletedAt
const cleanup = (extra: Record<string, string>) =>
  runAction(
    { token: emu.token, 'api-url': emu.apiUrl, mode: 'cleanup', retries: '1', ...extra },
    { workspace: workspace() }
  )

/** Three versions of one name, 1, 40 and 100 days old; returned newest first. */
function versions(name: string) {
  return [1, 40, 100].map(d => emu.seedFile({ name, createdAt: daysAgo(d) }))
}

describe('cleanup', () => {
  test.each<[string, string, number[]]>([
    ['1', '0', [1, 2]],
    ['2', '0', [2]],
    ['0', '30d', [1, 2]],
    ['1', '60d', [2]],
    ['3', '0', []],
    ['0', '200d', []]
  ])('keep %s, older-than %s deletes versions %j (0 = newest)', async (keep, olderThan, gone) => {
    const name = `kv-${keep}-${olderThan}-${Date.now()}.zip`
    const files = versions(name)
    const run = await cleanup({ keep, 'older-than': olderThan, names: name })
    expect(run.code).toBe(0)
    const expected = gone.map(i => files[i].id)
    expect(new Set(run.json<string[]>('deleted-ids'))).toEqual(new Set(expected))
    files.forEach((f, i) => expect(alive(f.id)).toBe(!gone.includes(i)))
  })

  test('files a benefit lists are kept and reported', async () => {
    const name = `prot-${Date.now()}.zip`
    const files = versions(name)
    const ben = emu.seedBenefit({ files: [files[2].id] })
    const run = await cleanup({ names: name })
    expect(run.json('deleted-ids')).toEqual([files[1].id])
    expect(alive(files[2].id)).toBe(true)
    expect(run.summary).toContain(`in benefit <code title="${ben.id}">`)
    expect(run.stdout).toContain(`in benefit ${ben.id}`)
    const off = await cleanup({ names: name, 'protect-benefit-files': 'false' })
    expect(off.json('deleted-ids')).toEqual([files[2].id])
  })

  test('names with excludes', async () => {
    const stamp = Date.now()
    const app = versions(`app-${stamp}.zip`)
    const dbg = versions(`app-${stamp}-debug.zip`)
    const run = await cleanup({ names: `app-${stamp}*\n!*-debug.zip` })
    expect(new Set(run.json<string[]>('deleted-ids'))).toEqual(new Set([app[1].id, app[2].id]))
    expect(dbg.every(f => alive(f.id))).toBe(true)
  })

  test('1,000+ files across pages', async () => {
    const name = `many-${Date.now()}.zip`
    const seeded = Array.from({ length: 1100 }, (_, i) =>
      emu.seedFile({ name, createdAt: daysAgo(1 + i / 1000) })
    )
    const run = await cleanup({ names: name, keep: '5', 'rate-limit': '60000' })
    expect(run.code).toBe(0)
    expect(run.json<string[]>('deleted-ids')).toHaveLength(1095)
    expect(seeded.slice(0, 5).every(f => alive(f.id))).toBe(true)
  }, 120_000)

  test('a failing delete does not stop the others; the run fails listing it', async () => {
    const name = `fail-${Date.now()}.zip`
    const files = versions(name)
    emu.injectFault({
      target: 'api',
      method: 'DELETE',
      path: `/v1/files/${files[1].id}`,
      kind: 'status',
      status: 500,
      times: 10
    })
    const run = await cleanup({ names: name })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(new RegExp(`could not be deleted[\\s\\S]*${files[1].id}`))
    expect(alive(files[1].id)).toBe(true)
    expect(alive(files[2].id)).toBe(false)
    expect(run.json('deleted-ids')).toEqual([files[2].id])
  })

  test('dry run sends no DELETE and outputs the plan', async () => {
    const name = `dry-${Date.now()}.zip`
    const files = versions(name)
    const run = await cleanup({ names: name, 'dry-run': 'true' })
    expect(run.code).toBe(0)
    expect(emu.log().filter(e => e.method !== 'GET')).toEqual([])
    expect(new Set(run.json<string[]>('deleted-ids'))).toEqual(new Set([files[1].id, files[2].id]))
  })

  test('files (an upload input that would narrow it) is an error pointing to names, before any request', async () => {
    const name = `scoped-${Date.now()}.tar.gz`
    versions(name)
    const run = await cleanup({ files: 'dist/*.zip' })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(
      /::error::Input 'files': 'dist\/\*\.zip' is set, but cleanup .*`names`/
    )
    expect(emu.log()).toEqual([])
  })

  test('delete-everything is refused without allow-delete-all, before any request', async () => {
    const run = await cleanup({ keep: '0', 'older-than': '0' })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(/Input 'keep'.*allow-delete-all/)
    expect(emu.log()).toEqual([])
  })
})
