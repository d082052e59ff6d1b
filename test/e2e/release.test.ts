/**
 * The `release` source end to end: the bundled action reads a release from the GitHub emulator
 * (another process's API under /api/v3, storage on another hostname that refuses any
 * Authorization header) and publishes its assets to the Polar emulator. Every bad case fails
 * before the first Polar write; the GitHub token never reaches the storage host or any output.
 */
import { beforeAll, describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import type { GitHubEmulator } from '../../emulator/github/index.js'
import { runAction, useEmulator, useGitHubEmulator, workspace, type FileOutput } from './harness.js'

const emu = useEmulator()
const gh = useGitHubEmulator()
const REPO = 'acme/app'
beforeAll(() => {
  gh.addRepo({ owner: 'acme', name: 'app', private: true })
})

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const polarWrites = () => emu.log().filter(e => WRITES.has(e.method))
let n = 0
/** A fresh release with these assets; returns its tag. */
async function release(
  assets: Record<string, Buffer | string>,
  extra: Record<string, Partial<Parameters<GitHubEmulator['addAsset']>[0]>> = {}
): Promise<string> {
  const tag = `v1.${++n}.0`
  gh.addRelease({ repo: REPO, tag })
  for (const [name, content] of Object.entries(assets)) {
    await gh.addAsset({ repo: REPO, tag, name, content: Buffer.from(content), ...extra[name] })
  }
  return tag
}
function inputs(tag: string, more: Record<string, string> = {}): Record<string, string> {
  return {
    token: emu.token,
    'api-url': emu.apiUrl,
    release: tag,
    'github-token': gh.token,
    retries: '2',
    ...more
  }
}
const env = () => ({ GITHUB_API_URL: gh.apiUrl, GITHUB_REPOSITORY: REPO })
const run = (i: Record<string, string>) => runAction(i, { workspace: workspace(), env: env() })

describe('mirroring a release', () => {
  test('every asset published as a local file would be; the token never leaves the API', async () => {
    const a = randomBytes(7000)
    const b = 'notes for 1.x\n'
    const c = randomBytes(3000)
    const k = n + 1 // the tag release() makes: v1.<k>.0
    const tag = await release(
      { [`app-${k}-linux.tar.gz`]: a, [`NOTES-${k}.txt`]: b, [`app-${k}.zip`]: c },
      { [`NOTES-${k}.txt`]: { digest: null }, [`app-${k}.zip`]: { serve: 'direct' } }
    )
    const r = await run(inputs(tag))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const files = r.json<FileOutput[]>('files')
    expect(files.map(f => [f.path, f.status, f.version])).toEqual([
      [`NOTES-${k}.txt`, 'created', tag],
      [`app-${k}-linux.tar.gz`, 'created', tag],
      [`app-${k}.zip`, 'created', tag]
    ])
    expect(files.map(f => f.sha256)).toEqual([hex(b), hex(a), hex(c)])
    // Downloads went through the API (with the token) and the storage host (without it).
    const storage = gh.log().filter(e => e.target === 'storage')
    expect(storage).toHaveLength(2) // the third asset was served by the API itself
    expect(storage.every(e => !e.authorization && e.status === 200)).toBe(true)
    expect(r.everything.replace(/^::add-mask::.*$/gm, '')).not.toContain(gh.token)
    expect(r.stdout).toContain(`::add-mask::${gh.token}`)
    // checksums: sorted by name, two spaces, LF, a final LF; the same text in checksums-file.
    const byName = [...files].sort((x, y) => (x.name < y.name ? -1 : 1))
    const text = byName.map(f => `${f.sha256}  ${f.name}\n`).join('')
    expect(r.outputs.checksums).toBe(text)
    expect(r.checksumsFile).toBe(text)
    // The downloads are gone from RUNNER_TEMP; only the checksums file stays for later steps.
    expect(r.leftInTemp).toEqual([expect.stringMatching(/^polar-checksums-/)])
  })

  test('patterns select assets by name; an unchanged asset is reused without downloading it', async () => {
    const zip = randomBytes(5000)
    const tag = await release({
      [`tool-${n + 1}.zip`]: zip,
      [`tool-${n + 1}.dmg`]: 'd',
      'debug.log': 'x'
    })
    emu.seedFile({ name: `tool-${n}.zip`, sha256: hex(zip), size: zip.length, version: 'v0' })
    const r = await run(inputs(tag, { files: '*.{zip,dmg}' }))
    expect(r.code).toBe(0)
    const files = r.json<FileOutput[]>('files')
    expect(files.map(f => [f.name, f.status])).toEqual([
      [`tool-${n}.dmg`, 'created'],
      [`tool-${n}.zip`, 'unchanged']
    ])
    expect(gh.log().filter(e => e.target === 'storage')).toHaveLength(1) // only the .dmg
    expect(r.stdout).toContain("GitHub's digest; not downloaded")
  })

  test('checksums-manifest publishes SHA256SUMS beside the files, under the same rules', async () => {
    const tag = await release({ [`m-${n + 1}.zip`]: 'zip bytes', [`m-${n + 1}.exe`]: 'exe bytes' })
    const ben = emu.seedBenefit({ files: [emu.seedFile({ name: `readme-${n}.pdf` }).id] })
    const r = await run(inputs(tag, { 'checksums-manifest': 'SHA256SUMS', 'benefit-ids': ben.id }))
    expect(r.code).toBe(0)
    const files = r.json<FileOutput[]>('files')
    const manifest = files.find(f => f.name === 'SHA256SUMS')!
    expect(manifest.status).toBe('created')
    expect(r.outputs.checksums).not.toContain('SHA256SUMS')
    expect(r.outputs.checksums.split('\n')).toHaveLength(3) // two lines and the final LF
    expect(emu.benefits().find(b => b.id === ben.id)!.files).toContain(manifest.id)
    expect(manifest.sha256).toBe(hex(r.outputs.checksums))
    // A re-run reuses all three.
    const again = await run(
      inputs(tag, { 'checksums-manifest': 'SHA256SUMS', 'benefit-ids': ben.id })
    )
    expect(again.json<FileOutput[]>('files').map(f => f.status)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged'
    ])
  })
})

describe('a dry run of a release', () => {
  test('downloads nothing GitHub gives a digest for, and plans with it', async () => {
    const k = n + 1
    const tag = await release(
      { [`d-${k}.zip`]: 'with digest', [`d-${k}.txt`]: 'legacy, no digest' },
      { [`d-${k}.txt`]: { digest: null } }
    )
    const r = await run(inputs(tag, { 'dry-run': 'true' }))
    expect(r.code).toBe(0)
    expect(r.json<FileOutput[]>('files').map(f => [f.name, f.status, f.sha256])).toEqual([
      [`d-${k}.txt`, 'planned', hex('legacy, no digest')],
      [`d-${k}.zip`, 'planned', hex('with digest')]
    ])
    expect(gh.log().filter(e => e.target === 'storage')).toHaveLength(1) // the .txt only
    expect(r.checksumsFile).toBe(r.outputs.checksums)
    expect(polarWrites()).toEqual([])
  })
})

describe('bad cases fail before any Polar write', () => {
  test('an unknown tag names the release and github-token', async () => {
    const r = await run(inputs('v9.9.9'))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      "::error::Input 'release': there is no published release 'v9.9.9' in acme/app (drafts are not visible), or `github-token` cannot read it"
    )
    expect(polarWrites()).toEqual([])
  })

  test('1.0.0 for the tag v1.0.0: the tag that exists is named', async () => {
    const tag = await release({ 'y.zip': 'y' })
    const r = await run(inputs(tag.slice(1)))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      `::error::Input 'release': there is no published release '${tag.slice(1)}' in acme/app, but there is one tagged '${tag}'. Did you mean release: ${tag}?`
    )
    expect(polarWrites()).toEqual([])
  })

  test('a bad token names github-token; a token without access too', async () => {
    const tag = await release({ 'x.zip': 'x' })
    const bad = await run(inputs(tag, { 'github-token': 'ghs_not_a_real_token_0000000000' }))
    expect(bad.stdout).toMatch(
      /::error::Input 'github-token': GitHub refused it \(HTTP 401 Bad credentials\)/
    )
    const none = gh.createToken({ permission: 'none' })
    const denied = await run(inputs(tag, { 'github-token': none }))
    expect(denied.stdout).toMatch(
      /::error::Input 'github-token': cannot read the releases of acme\/app \(HTTP 403/
    )
    expect(polarWrites()).toEqual([])
  })

  test('an empty github-token reads a public repository; a private one is named', async () => {
    gh.addRepo({ owner: 'acme', name: 'open', private: false })
    gh.addRelease({ repo: 'acme/open', tag: 'v3.0.0' })
    await gh.addAsset({
      repo: 'acme/open',
      tag: 'v3.0.0',
      name: 'open.zip',
      content: Buffer.from('open')
    })
    const open = await run(inputs('acme/open@v3.0.0', { 'github-token': '' }))
    expect(open.code).toBe(0)
    expect(open.stdout).toContain('github-token is empty: reading acme/open without a token')
    expect(open.json<FileOutput[]>('files').map(f => [f.name, f.sha256])).toEqual([
      ['open.zip', hex('open')]
    ])
    expect(gh.log().every(e => !e.authorization)).toBe(true)
    const tag = await release({ 'x.zip': 'x' })
    const closed = await run(inputs(tag, { 'github-token': '' }))
    expect(closed.code).toBe(1)
    expect(closed.stdout).toContain('`github-token` cannot read it')
  })

  test('a digest mismatch names the asset; nothing is published', async () => {
    const tag = await release(
      { [`ok-${n + 1}.zip`]: 'fine', [`bad-${n + 1}.zip`]: 'these bytes' },
      { [`bad-${n + 1}.zip`]: { digest: `sha256:${hex('other bytes')}` } }
    )
    const r = await run(inputs(tag))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      `Release asset bad-${n}.zip: its SHA-256 (${hex('these bytes')}) is not the digest GitHub gives`
    )
    expect(polarWrites()).toEqual([])
  })

  test('an HTML page served with 200 instead of the asset: retried, then named', async () => {
    const tag = await release(
      { [`page-${n + 1}.zip`]: randomBytes(4000) },
      { [`page-${n + 1}.zip`]: { serve: 'html-200' } }
    )
    const r = await run(inputs(tag, { retries: '1' }))
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(
      /Release asset page-\d+\.zip: the download ended at \d+ bytes, short of the 4000 bytes GitHub lists/
    )
    expect(gh.log().filter(e => e.target === 'storage')).toHaveLength(2)
    expect(polarWrites()).toEqual([])
  })

  test('an asset still uploading: fails after release-wait, or waits for it', async () => {
    const tag = await release(
      { [`slow-${n + 1}.zip`]: 'slow' },
      { [`slow-${n + 1}.zip`]: { state: 'starter', uploadedAfterMs: 2500 } }
    )
    const early = await run(inputs(tag))
    expect(early.code).toBe(1)
    expect(early.stdout).toMatch(
      /::error::Input 'release-wait': release v1\.\d+\.0 still has asset\(s\) being uploaded: slow-\d+\.zip \(state starter\)/
    )
    expect(polarWrites()).toEqual([])
    const patient = await run(inputs(tag, { 'release-wait': '30s' }))
    expect(patient.code).toBe(0)
    expect(patient.stdout).toMatch(/Waiting for slow-\d+\.zip \(starter\) in release/)
  })

  test('a release with no assets yet fails (after release-wait), naming it', async () => {
    const tag = await release({})
    const r = await run(inputs(tag))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`Release ${tag} in acme/app has no assets.`)
    expect(polarWrites()).toEqual([])
  })

  test('a manifest name that a published file also has is refused before any write', async () => {
    const tag = await release({ SHA256SUMS: 'x  y\n', [`z-${n + 1}.zip`]: 'z' })
    const r = await run(inputs(tag, { 'checksums-manifest': 'SHA256SUMS' }))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      "Input 'checksums-manifest': 'SHA256SUMS' is also the name of a published file (SHA256SUMS)."
    )
    expect(polarWrites()).toEqual([])
  })

  test('a pattern that matched no asset names the pattern and the release', async () => {
    const tag = await release({ [`only-${n + 1}.zip`]: 'z' })
    const r = await run(inputs(tag, { files: '*.zip\n*.exe' }))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      `1 of the patterns in \`files\` matched no asset of release ${tag} in acme/app: '*.exe'.`
    )
    expect(polarWrites()).toEqual([])
  })
})

describe('transient trouble is retried', () => {
  test('a secondary rate limit (403 + retry-after) and a cut storage download', async () => {
    const tag = await release({ [`flaky-${n + 1}.zip`]: randomBytes(20_000) })
    gh.injectFault({
      target: 'api',
      path: /\/assets$/,
      kind: 'secondary-rate-limit',
      retryAfter: 1
    })
    gh.injectFault({ target: 'storage', kind: 'reset', afterBytes: 5000 })
    const r = await run(inputs(tag))
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /GitHub GET \/repos\/\{owner\}\/\{repo\}\/releases\/\{id\}\/assets: HTTP 403; retry 1\/2 in 1\.0 s/
    )
    expect(r.stdout).toMatch(/flaky-\d+\.zip: download failed .*; retry 1\/2/)
    expect(r.json<FileOutput[]>('files')[0].status).toBe('created')
  })
})

/**
 * Peak RSS of the bundle publishing a release asset, measured on node24 (the runtime) and node20.
 * Memory must not grow with the asset's size: the 1 GiB peak may exceed a 256 MiB asset's peak by
 * at most GROWTH_MIB. The download's socket chunks are garbage the moment they are written, and
 * V8 frees them in batches (up to ~60 MiB of dead ArrayBuffers on node24, ~30 on node20), so the
 * peak moves by run; measured 1 GiB − 256 MiB differences: node24 +4 to +11 MiB, node20 −9 to +7.
 * Keeping the bytes (a queue without back-pressure, retained chunks) would add up to the 768 MiB
 * between the two sizes; the bound catches keeping 4 % of them (under CI's load node24's
 * difference read up to 18.8 MiB, where 3.9–11.1 idle). The ceiling: node24's 1 GiB peaks measured 144–166 MiB
 * (node20: 107–121), plus ~6 %.
 */
const GROWTH_MIB = 32
const CEILING_MIB = 176

describe('a 1 GiB asset', () => {
  /** Publishes a sparse release asset of `size` bytes; returns the run's peak RSS (MiB). */
  async function release(size: number): Promise<number | undefined> {
    const dir = workspace()
    const path = `${dir}/big.bin`
    const { openSync, ftruncateSync, closeSync } = await import('node:fs')
    const fd = openSync(path, 'w')
    ftruncateSync(fd, size) // sparse: no GiB of disk or memory to build it
    closeSync(fd)
    const tag = `v1.${++n}.0`
    gh.addRelease({ repo: REPO, tag })
    await gh.addAsset({ repo: REPO, tag, name: `big-${n}.bin`, content: { path } })
    const r = await runAction(inputs(tag, { 'if-unchanged': 'upload' }), {
      workspace: dir,
      env: env(),
      peakRss: true,
      timeoutMs: 240_000
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const [f] = r.json<FileOutput[]>('files')
    expect([f.size, f.status]).toEqual([size, 'created'])
    expect(emu.files().find(s => s.id === f.id)!.isUploaded).toBe(true)
    expect(r.leftInTemp).toEqual([expect.stringMatching(/^polar-checksums-/)])
    return r.peakRssMiB
  }

  test('streams through RUNNER_TEMP with flat memory, verified against its digest', async () => {
    const small = await release(256 * 1024 ** 2)
    const big = await release(1024 ** 3)
    if (small === undefined || big === undefined) return // no GNU time here: nothing to measure
    // Both peaks in the output, so a failure (or a drift towards the bounds) shows the numbers.
    console.log(
      `peak RSS: 256 MiB asset ${small.toFixed(1)} MiB, 1 GiB asset ${big.toFixed(1)} MiB`
    )
    expect(big - small).toBeLessThanOrEqual(GROWTH_MIB)
    expect(big).toBeLessThanOrEqual(CEILING_MIB)
  }, 480_000)
})
