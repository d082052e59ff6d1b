/**
 * Upload mode end to end: the bundled action against the local Polar + S3 emulator over HTTP.
 */
import { describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { startConnectProxy } from '../support/connect-proxy.js'
import { startEmulator } from '../../emulator/polar/index.js'
import { runAction, useEmulator, workspace, type FileOutput } from './harness.js'
import { PINNED_VERSION } from '../../src/polar/api-version.js'

const MIB = 1024 * 1024
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const emu = useEmulator({ keepBodies: true }, e => {
  e.setApiLatency(0)
  e.setUrlExpiry(3600)
  e.setRateLimit(null)
})

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const base = () => ({ token: emu.token, 'api-url': emu.apiUrl, retries: '3' })
const writes = () => emu.log().filter(e => WRITE_METHODS.has(e.method))
const liveFiles = () => emu.files().filter(f => f.isUploaded && !f.deletedAt)

describe('upload', () => {
  test('several files, one multipart, awkward names: uploaded, verified, in sorted order', async () => {
    const big = randomBytes(11 * MIB + 123)
    const ws = workspace({
      'out/My App 1.0+beta é.zip': big,
      'out/notes.txt': 'release notes\n',
      'out/a-first.tar.gz': randomBytes(1000),
      'out/skip.log': 'no'
    })
    const run = await runAction(
      { ...base(), files: 'out/**\n!out/*.log', 'part-size': '5MiB', version: 'v1.0.0' },
      { workspace: ws }
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const files = run.json<FileOutput[]>('files')
    expect(files.map(f => f.name)).toEqual(['My App 1.0+beta é.zip', 'a-first.tar.gz', 'notes.txt'])
    expect(files.map(f => f.path)).toEqual([
      'out/My App 1.0+beta é.zip',
      'out/a-first.tar.gz',
      'out/notes.txt'
    ])
    expect(run.json<string[]>('file-ids')).toEqual(files.map(f => f.id))
    expect(run.outputs['file-id']).toBe(files[0].id)
    expect(files.every(f => f.status === 'created' && f.version === 'v1.0.0')).toBe(true)
    expect(files[0].sha256).toBe(sha256(big))
    expect(files[0].mime_type).toBe('application/zip')
    expect(files[2].mime_type).toMatch(/^text\/plain/)

    const stored = emu.files().find(f => f.id === files[0].id)!
    expect(stored.isUploaded).toBe(true)
    expect(stored.parts.map(p => p.size)).toEqual([5 * MIB, 5 * MIB, MIB + 123])
    expect(emu.fileContent(files[0].id!)!.equals(big)).toBe(true)
    expect(stored.checksumSha256Base64).toBe(Buffer.from(sha256(big), 'hex').toString('base64'))

    const log = emu.log()
    const api = log.filter(e => e.target === 'api')
    expect(
      api.every(
        e => e.polarVersion === PINNED_VERSION && /polar-files-action/.test(e.userAgent ?? '')
      )
    ).toBe(true)
    const s3 = log.filter(e => e.target === 's3')
    expect(s3).toHaveLength(5)
    expect(s3.every(e => !e.authorization)).toBe(true)
    expect(run.summary).toContain('My App 1.0+beta é.zip')
    expect(run.stdout).toMatch(/Uploaded 3 files \(11\.0 MiB\)/)
  })

  test('concurrency: auto uploads every part intact, backs off on S3 throttling, leaks no URL', async () => {
    const content: Record<string, Buffer> = {
      'a.bin': randomBytes(23 * MIB + 7),
      'b.bin': randomBytes(11 * MIB),
      'c.txt': Buffer.from('small\n')
    }
    // Throttled at first: the parts are retried, and auto halves its limit.
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'status', status: 503, times: 2 })
    const run = await runAction(
      {
        ...base(),
        files: '*',
        concurrency: 'auto',
        'part-size': '5MiB',
        'if-unchanged': 'upload',
        replace: 'false'
      },
      { workspace: workspace(content), env: { RUNNER_DEBUG: '1' } }
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const files = run.json<FileOutput[]>('files')
    expect(files.map(f => f.name)).toEqual(['a.bin', 'b.bin', 'c.txt'])
    for (const f of files) {
      expect(emu.fileContent(f.id!)!.equals(content[f.name])).toBe(true)
      expect(f.sha256).toBe(sha256(content[f.name]))
    }
    const puts = emu.log().filter(e => e.target === 's3')
    expect(puts.filter(e => e.status === 503)).toHaveLength(2)
    expect(puts.filter(e => e.status === 200)).toHaveLength(5 + 3 + 1)
    expect(run.stdout).toMatch(/retry 1\/3/)
    expect(run.stdout).toMatch(/::debug::a\.bin: auto concurrency \d+ \(.*retry→12/)
    expect(run.everything).not.toMatch(/X-Amz-(Signature|Credential)/i)
  })

  test('a zero-byte file uploads as one empty part', async () => {
    const ws = workspace({ 'empty.bin': '' })
    const run = await runAction({ ...base(), files: 'empty.bin' }, { workspace: ws })
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(f.size).toBe(0)
    expect(f.sha256).toBe(sha256(''))
    const stored = emu.files().find(s => s.id === f.id)!
    expect(stored.isUploaded).toBe(true)
    expect(stored.parts).toHaveLength(1)
  })

  test('dry run reads and plans but sends no write', async () => {
    const ws = workspace({ 'app.zip': randomBytes(100) })
    const run = await runAction({ ...base(), files: '*.zip', 'dry-run': 'true' }, { workspace: ws })
    expect(run.code).toBe(0)
    expect(writes()).toEqual([])
    expect(emu.log().some(e => e.method === 'GET')).toBe(true)
    const [f] = run.json<FileOutput[]>('files')
    expect(f.status).toBe('planned')
    expect(run.json('file-ids')).toEqual([])
  })

  test('progress on a slow link: bytes counted as they are sent, at the rate of the link', async () => {
    // One 14 MiB part over a 2 MiB/s link: ~7 s, one progress line at 5 s. Counted per
    // completed part, it would read 0 B (0%), 0 B/s.
    emu.setS3Network({ s3TotalBytesPerSec: 2 * MIB })
    try {
      const ws = workspace({ 'slow.bin': randomBytes(14 * MIB) })
      const run = await runAction({ ...base(), files: 'slow.bin' }, { workspace: ws })
      expect(run.code).toBe(0)
      const line = /slow\.bin: ([\d.]+) MiB \/ 14\.0 MiB \((\d+)%\), ([\d.]+) (KiB|MiB)\/s/.exec(
        run.stdout
      )
      expect(line).not.toBeNull()
      const [, sent, pct, rate, unit] = line!
      expect(Number(sent)).toBeGreaterThanOrEqual(6)
      expect(Number(pct)).toBeGreaterThanOrEqual(40)
      // The link's rate, not under-reported (socket buffers may put it a little above).
      expect(unit).toBe('MiB')
      expect(Number(rate)).toBeGreaterThanOrEqual(1.6)
    } finally {
      emu.setS3Network({ s3TotalBytesPerSec: null })
    }
  }, 30_000)

  test('a planning read that fails while a big file hashes: its error, the hash stopped, no write', async () => {
    const ws = workspace()
    const { closeSync, ftruncateSync, openSync } = await import('node:fs')
    const fd = openSync(`${ws}/big.bin`, 'w')
    ftruncateSync(fd, 1024 * MIB) // sparse; hashing it takes far longer than a 401 does
    closeSync(fd)
    // The listing answers its 401 only once the hash is under way.
    emu.injectFault({ target: 'api', method: 'GET', path: '/v1/files/', kind: 'delay', ms: 150 })
    const run = await runAction(
      { ...base(), token: 'polar_oat_not_a_real_token', files: '*.bin' },
      { workspace: ws }
    )
    expect(run.code).toBe(1)
    expect(writes()).toEqual([])
    // The run fails as the read failed (not as a file failure), and says so once: no file
    // group repeats it as its own failure.
    const error = run.stdout.indexOf('::error::')
    expect(run.stdout.slice(error)).toMatch(/401/)
    expect(run.stdout.slice(error)).not.toMatch(/file\(s\) failed to upload/)
    expect(run.stdout.match(/HTTP 401/g)).toHaveLength(1)
    expect(run.stdout).not.toContain('::group::big.bin')
    expect(run.stdout).not.toMatch(/failed: not published|planning read failed/)
    // Polar's detail says "expired, revoked"; the hint does not say it again.
    expect(run.stdout.match(/revoked/g)?.length ?? 0).toBeLessThanOrEqual(1)
  })

  test('part uploads go through HTTPS_PROXY (even written without a scheme); loopback never does', async () => {
    // Part URLs name a host only the proxy can reach (as S3's public name is, behind a proxy).
    const remote = await startEmulator({ s3PublicHost: 's3.proxied.test' })
    const proxy = await startConnectProxy(['s3.proxied.test'])
    try {
      const data = randomBytes(6 * MIB)
      const address = proxy.url.replace('http://', '') // as some runners set it: host:port
      const run = await runAction(
        {
          token: remote.token,
          'api-url': remote.apiUrl,
          retries: '0',
          files: '*.bin',
          'part-size': '5MiB'
        },
        {
          workspace: workspace({ 'p.bin': data }),
          env: { HTTPS_PROXY: address, HTTP_PROXY: address, NO_PROXY: '' }
        }
      )
      expect(run.code).toBe(0)
      const s3 = new URL(remote.s3Url).host
      expect(proxy.tunnels.length).toBeGreaterThan(0)
      expect(new Set(proxy.tunnels)).toEqual(new Set([s3]))
      // The API is on loopback over plain http: the token never passes the proxy.
      expect(proxy.tunnels).not.toContain(new URL(remote.apiUrl).host)
      expect(run.json<FileOutput[]>('files')[0].sha256).toBe(sha256(data))
    } finally {
      await Promise.all([proxy.close(), remote.close()])
    }
  })

  test('if-no-files-found: warn exits 0 with empty outputs; error fails', async () => {
    const ws = workspace({ 'a.txt': 'x' })
    const warn = await runAction(
      { ...base(), files: '*.zip', 'if-no-files-found': 'warn' },
      { workspace: ws }
    )
    expect(warn.code).toBe(0)
    expect(warn.json('file-ids')).toEqual([])
    expect(warn.stdout).toMatch(/::warning::No file matched/)
    const error = await runAction({ ...base(), files: '*.zip' }, { workspace: ws })
    expect(error.code).not.toBe(0)
    expect(error.stdout).toMatch(/No file matched/)
    expect(writes()).toEqual([])
  })
})

describe('faults', () => {
  const one = () => workspace({ 'app.zip': randomBytes(6 * MIB) })
  const inputs = () => ({ ...base(), files: 'app.zip', 'part-size': '5MiB' })

  async function expectUploaded(run: Awaited<ReturnType<typeof runAction>>) {
    expect(run.code).toBe(0)
    const [f] = run.json<FileOutput[]>('files')
    expect(liveFiles().some(s => s.id === f.id)).toBe(true)
    return f
  }

  test('429 with Retry-After on create is honoured', async () => {
    emu.injectFault({
      target: 'api',
      method: 'POST',
      path: '/v1/files/',
      kind: 'status',
      status: 429,
      retryAfter: 2
    })
    const run = await runAction(inputs(), { workspace: one() })
    await expectUploaded(run)
    const creates = emu.log().filter(e => e.method === 'POST' && e.path === '/v1/files/')
    expect(creates.map(c => c.status)).toEqual([429, 201])
    expect(creates[1].startedAt - creates[0].endedAt).toBeGreaterThanOrEqual(1900)
  })

  test.each([500, 502, 503] as const)('%i on create, PUT and uploaded is retried', async status => {
    emu.injectFault({ target: 'api', method: 'POST', path: '/v1/files/', kind: 'status', status })
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'status', status })
    emu.injectFault({ target: 'api', method: 'POST', path: /\/uploaded$/, kind: 'status', status })
    const run = await runAction(inputs(), { workspace: one() })
    await expectUploaded(run)
    expect(emu.log().filter(e => e.status === status)).toHaveLength(3)
  })

  test('a TCP reset mid-part is retried with a fresh stream', async () => {
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'reset', afterBytes: 1024 * 1024 })
    const run = await runAction(inputs(), { workspace: one() })
    const f = await expectUploaded(run)
    expect(emu.log().some(e => e.target === 's3' && e.status === 0)).toBe(true)
    expect(emu.files().find(s => s.id === f.id)!.parts).toHaveLength(2)
  })

  test('a slow API still completes', async () => {
    emu.setApiLatency(300)
    const run = await runAction(inputs(), { workspace: one() })
    await expectUploaded(run)
  })

  test('a persistent part failure: non-zero exit, created file deleted, nothing else touched', async () => {
    const other = emu.seedFile({ name: 'other.zip' })
    const before = emu.files().length
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'status', status: 503, times: 100 })
    const run = await runAction({ ...inputs(), retries: '2' }, { workspace: one() })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(/::error::.*app\.zip/s)
    const created = emu.files().slice(before)
    expect(created).toHaveLength(1)
    expect(created[0].deletedAt).not.toBeNull()
    expect(emu.files().find(f => f.id === other.id)!.deletedAt).toBeNull()
    const deletes = emu.log().filter(e => e.method === 'DELETE')
    expect(deletes.map(d => d.path)).toEqual([`/v1/files/${created[0].id}`])
  })

  test('after a 500 on uploaded, the file is looked up before uploaded is called again', async () => {
    emu.injectFault({
      target: 'api',
      method: 'POST',
      path: /\/uploaded$/,
      kind: 'status',
      status: 500
    })
    const run = await runAction(inputs(), { workspace: one() })
    await expectUploaded(run)
    const log = emu.log()
    const firstUploaded = log.findIndex(e => /\/uploaded$/.test(e.path))
    const lookup = log.findIndex(
      (e, i) => i > firstUploaded && e.method === 'GET' && e.query.includes('ids=')
    )
    const second = log.findIndex((e, i) => i > firstUploaded && /\/uploaded$/.test(e.path))
    expect(lookup).toBeGreaterThan(firstUploaded)
    expect(second).toBeGreaterThan(lookup)
  })

  test('a 500 from uploaded after it did complete: looked up, not sent again', async () => {
    emu.injectFault({
      target: 'api',
      method: 'POST',
      path: /\/uploaded$/,
      kind: 'status',
      status: 500,
      phase: 'after'
    })
    const run = await runAction(inputs(), { workspace: one() })
    const f = await expectUploaded(run)
    const completes = emu.log().filter(e => e.path === `/v1/files/${f.id}/uploaded`)
    expect(completes.map(c => c.status)).toEqual([500])
    expect(emu.log().some(e => e.method === 'GET' && e.query.includes(`ids=${f.id}`))).toBe(true)
  })

  // Windows has no POSIX signals to deliver to a child (kill() there terminates it outright).
  const posixTest = process.platform === 'win32' ? test.skip : test
  posixTest(
    'a cancelled job stops, deletes what did not complete, and keeps what did',
    async () => {
      const before = emu.files().length
      emu.setApiLatency(200)
      const files: Record<string, Buffer> = {}
      for (let i = 0; i < 12; i++) files[`f${String(i).padStart(2, '0')}.zip`] = randomBytes(1000)
      const run = await runAction(
        { ...base(), files: '*.zip', concurrency: '2', 'if-unchanged': 'upload', replace: 'false' },
        {
          workspace: workspace(files),
          // Mid-run: some files complete, others created or being created.
          signal: { when: () => emu.files().length >= before + 4, name: 'SIGINT' }
        }
      )
      expect(run.stdout).toMatch(/Cancelled \(SIGINT\)/)
      expect(run.code).toBe(1) // exited by the action, not killed by the signal
      const mine = emu.files().slice(before)
      expect(mine.length).toBeGreaterThanOrEqual(4)
      expect(mine.length).toBeLessThan(12) // no new file started after the signal
      // Nothing incomplete is left behind, and no completed file was deleted.
      expect(mine.filter(f => !f.isUploaded && !f.deletedAt)).toEqual([])
      expect(mine.filter(f => f.isUploaded && f.deletedAt)).toEqual([])
    }
  )

  test('a create that Polar acted on but answered 500 is retried, with a warning', async () => {
    const before = emu.files().length
    emu.injectFault({
      target: 'api',
      method: 'POST',
      path: '/v1/files/',
      kind: 'status',
      status: 500,
      phase: 'after'
    })
    const run = await runAction(inputs(), { workspace: one() })
    await expectUploaded(run)
    expect(run.stdout).toMatch(
      /::warning::Creating app\.zip failed in a way Polar may have acted on/
    )
    // The orphan Polar never named: incomplete, invisible to the list, nothing we can delete.
    const orphans = emu
      .files()
      .slice(before)
      .filter(f => !f.isUploaded && !f.deletedAt)
    expect(orphans).toHaveLength(1)
  })

  test('expired URLs: the file starts again with a new create', async () => {
    // 5 MiB parts need ~3.6 s of URL life by the action's own conservative estimate.
    const before = emu.files().length
    emu.setUrlExpiry(6)
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'delay', ms: 7000 })
    const run = await runAction({ ...inputs(), concurrency: '1' }, { workspace: one() })
    const f = await expectUploaded(run)
    const creates = emu.log().filter(e => e.method === 'POST' && e.path === '/v1/files/')
    expect(creates).toHaveLength(2)
    const abandoned = emu
      .files()
      .slice(before)
      .filter(s => s.id !== f.id)
    expect(abandoned).toHaveLength(1)
    expect(abandoned.every(s => s.deletedAt !== null)).toBe(true)
    expect(run.stdout).toMatch(/expired/)
  })

  test('URLs that expire every time: fails with the lifetime message, nothing left behind', async () => {
    emu.setUrlExpiry(1)
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'delay', ms: 1500, times: 10 })
    const before = emu.files().length
    const run = await runAction({ ...inputs(), concurrency: '1' }, { workspace: one() })
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(/outran the presigned URL lifetime/)
    expect(
      emu
        .files()
        .slice(before)
        .every(f => f.deletedAt !== null)
    ).toBe(true)
  })
})

describe('security', () => {
  test('the token and presigned signatures never appear, even with debug logs and failures', async () => {
    const ws = workspace({ 'app.zip': randomBytes(6 * MIB) })
    emu.injectFault({ target: 's3', method: 'PUT', kind: 'status', status: 500, times: 100 })
    const failing = await runAction(
      { ...base(), files: 'app.zip', 'part-size': '5MiB', retries: '1' },
      { workspace: ws, env: { RUNNER_DEBUG: '1' } }
    )
    emu.clearFaults()
    const passing = await runAction(
      { ...base(), files: 'app.zip', 'part-size': '5MiB' },
      { workspace: ws, env: { RUNNER_DEBUG: '1' } }
    )
    expect(failing.code).not.toBe(0)
    expect(passing.code).toBe(0)
    for (const run of [failing, passing]) {
      expect(run.everything).toContain('::debug::')
      // ::add-mask:: is the command that tells the runner to hide the token; it is never shown.
      const visible = run.everything.replace(/^::add-mask::.*$/gm, '')
      expect(run.everything).toContain(`::add-mask::${emu.token}`)
      expect(visible).not.toContain(emu.token)
      expect(visible).not.toMatch(/X-Amz-(Signature|Credential)/i)
      expect(visible).not.toContain(emu.s3Url)
    }
    expect(
      emu
        .log()
        .filter(e => e.target === 's3')
        .every(e => !e.authorization)
    ).toBe(true)
  })
})

describe('bad input fails before any write', () => {
  const ws = () => workspace({ 'dist/app.zip': 'a', 'dist/sub/app.zip': 'b', 'dist/ok.zip': 'c' })
  test.each<[string, Record<string, string>, RegExp]>([
    ['no token', { token: '' }, /Input 'token': is required/],
    ['unknown token', { token: 'polar_oat_wrong' }, /401|token/],
    [
      'organization-id with an org token',
      { 'organization-id': '1dbfc517-0bbf-4301-9ba8-555ca42b9737' },
      /Input 'organization-id'/
    ],
    ['part-size too small', { 'part-size': '1MiB' }, /Input 'part-size'/],
    ['bad concurrency', { concurrency: 'lots' }, /Input 'concurrency'/],
    [
      'plain http to a remote host',
      { 'api-url': 'http://api.example.com' },
      /Input 'api-url'.*https/
    ],
    ['unknown mode', { mode: 'mirror' }, /Input 'mode'/],
    ['duplicate target names', { files: 'dist/**/app.zip' }, /would both be named 'app.zip'/],
    ['unknown placeholder', { name: '{basename}-{os}' }, /Input 'name'.*\{os\}/],
    ['version placeholder without version', { name: '{stem}-{version}{ext}' }, /no version is set/],
    ['missing working directory', { 'working-directory': 'nope' }, /Input 'working-directory'/],
    ['no match', { files: 'dist/*.exe' }, /No file matched/],
    [
      'unknown benefit',
      { 'benefit-ids': '99999999-9999-4999-8999-999999999999' },
      /Input 'benefit-ids'/
    ],
    ['bad boolean', { replace: 'sure' }, /Input 'replace'/]
  ])('%s', async (_label, override, message) => {
    const run = await runAction(
      { token: emu.token, 'api-url': emu.apiUrl, files: 'dist/*.zip', ...override },
      { workspace: ws() }
    )
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(message)
    expect(writes()).toEqual([])
  })
})
