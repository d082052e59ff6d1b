/** The test controls of INTERFACE.md: faults, latency, URL expiry, log, state, seeding, HTTP routes, CLI. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { once } from 'node:events'
import { request } from 'undici'
import { startEmulator, type Emulator } from './index.js'
import { SHARED_OPENAPI_PATH, VENDORED_OPENAPI_PATH } from './openapi.js'
import { api, createFile, putAll, putPart, sha256b64, startCli, uploadFile } from './helpers.js'

let emu: Emulator
beforeAll(async () => {
  emu = await startEmulator({ keepBodies: true })
})
afterAll(async () => {
  await emu.close()
})
beforeEach(() => {
  emu.clearFaults()
  emu.setApiLatency(0)
})

const data = Buffer.from('control data\n')

describe('fault injection', () => {
  test('API status faults (429 + Retry-After, 500, 502, 503) hit the next N matching requests only', async () => {
    emu.injectFault({
      target: 'api',
      method: 'GET',
      path: '/v1/files/',
      kind: 'status',
      status: 429,
      retryAfter: 7,
      times: 2
    })
    emu.injectFault({ target: 'api', path: '/v1/files/', kind: 'status', status: 503 })
    const first = await api(emu, 'GET', '/v1/files/')
    expect([first.status, first.headers['retry-after'], first.text]).toEqual([429, '7', ''])
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(429)
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(503)
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(200)
    emu.injectFault({ target: 'api', kind: 'status', status: 500 })
    emu.injectFault({ target: 'api', kind: 'status', status: 502 })
    expect((await api(emu, 'GET', '/v1/benefits/')).status).toBe(500)
    expect((await api(emu, 'GET', '/v1/benefits/')).status).toBe(502)
    expect((await api(emu, 'GET', '/v1/benefits/')).status).toBe(200)
  })

  test('path matching: exact, prefix with *, RegExp; method filter', async () => {
    emu.injectFault({
      target: 'api',
      method: 'POST',
      path: '/v1/files/',
      kind: 'status',
      status: 503
    })
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(200) // method differs
    emu.clearFaults()
    emu.injectFault({ target: 'api', path: '/v1/benefits/*', kind: 'status', status: 503 })
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(200)
    expect((await api(emu, 'GET', '/v1/benefits/')).status).toBe(503)
    emu.injectFault({ target: 'api', path: /\/uploaded$/, kind: 'status', status: 500 })
    const created = await createFile(emu, 'regex.bin', data)
    const body = await putAll(created, data)
    expect((await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, { body })).status).toBe(500)
    expect((await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, { body })).status).toBe(200)
  })

  test('reset mid-body (S3): the connection is cut, nothing stored, logged with status 0', async () => {
    const created = await createFile(emu, 'reset.bin', data)
    const part = created.upload.parts[0]
    emu.injectFault({ target: 's3', kind: 'reset', afterBytes: 4 })
    emu.clearLog()
    await expect(putPart(part.url, part.headers, data)).rejects.toThrow()
    expect(emu.files().find(f => f.id === created.id)?.parts).toEqual([])
    await new Promise(r => setTimeout(r, 20))
    expect(
      emu
        .log()
        .filter(e => e.target === 's3')
        .map(e => e.status)
    ).toEqual([0])
    expect((await putPart(part.url, part.headers, data)).status).toBe(200)
  })

  test('reset (API) and the after phase: /uploaded is applied, then the answer is lost', async () => {
    emu.injectFault({ target: 'api', method: 'GET', kind: 'reset' })
    await expect(api(emu, 'GET', '/v1/files/')).rejects.toThrow()
    const created = await createFile(emu, 'ambiguous.bin', data)
    const body = await putAll(created, data)
    emu.injectFault({ target: 'api', path: /\/uploaded$/, kind: 'reset', phase: 'after' })
    await expect(api(emu, 'POST', `/v1/files/${created.id}/uploaded`, { body })).rejects.toThrow()
    const check = await api(emu, 'GET', `/v1/files/?ids=${created.id}`)
    expect((check.json as { items: { is_uploaded: boolean }[] }).items[0].is_uploaded).toBe(true)
  })

  test('delay fault and API latency slow answers down', async () => {
    emu.injectFault({ target: 'api', kind: 'delay', ms: 150 })
    let t = Date.now()
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(200)
    expect(Date.now() - t).toBeGreaterThanOrEqual(140)
    emu.setApiLatency(100)
    t = Date.now()
    await api(emu, 'GET', '/v1/files/')
    expect(Date.now() - t).toBeGreaterThanOrEqual(90)
    emu.setApiLatency(0)
    t = Date.now()
    await api(emu, 'GET', '/v1/files/')
    expect(Date.now() - t).toBeLessThan(90)
  })
})

describe('concurrent-writer controls: holds, jitter, listedBy', () => {
  const patch = (id: string, files: string[]) =>
    api(emu, 'PATCH', `/v1/benefits/${id}`, {
      body: { type: 'downloadables', properties: { files, archived: {} } }
    })

  test('PATCHes held until N arrive, then applied one after another: the last writer wins', async () => {
    const files = ['a', 'b', 'c'].map(n => emu.seedFile({ name: `hold-${n}.zip` }).id)
    const ben = emu.seedBenefit({ files: [files[0]] })
    await patch(ben.id, [files[0]]) // the first PATCH compiles its schemas: not while timing
    emu.clearLog()
    emu.holdRequests({ method: 'PATCH', path: `/v1/benefits/${ben.id}`, count: 3, gapMs: 30 })
    const first = patch(ben.id, [files[0]])
    // Held: nothing is applied while fewer than 3 have arrived.
    await new Promise(r => setTimeout(r, 150))
    expect(emu.log().filter(e => e.method === 'PATCH' && e.status !== 0)).toEqual([])
    const rest = [patch(ben.id, [files[1]]), patch(ben.id, [files[2]])]
    const answers = await Promise.all([first, ...rest])
    expect(answers.map(a => a.status)).toEqual([200, 200, 200])
    expect(emu.benefits().find(b => b.id === ben.id)!.files).toEqual([files[2]])
    const held = emu.log().filter(e => e.method === 'PATCH')
    expect(held.map(e => e.held)).toEqual([true, true, true])
    // Applied in arrival order (gapMs apart; not asserted: a loaded machine may run timers late).
    expect(held.map(e => e.endedAt)).toEqual([...held.map(e => e.endedAt)].sort((a, b) => a - b))
  })

  test('reverse order, a timeout that releases what arrived, clearHolds', async () => {
    const files = ['x', 'y'].map(n => emu.seedFile({ name: `rev-${n}.zip` }).id)
    const ben = emu.seedBenefit({ files: [files[0]] })
    emu.holdRequests({ method: 'PATCH', count: 2, order: 'reverse' })
    await Promise.all([patch(ben.id, [files[0]]), patch(ben.id, [files[1]])])
    expect(emu.benefits().find(b => b.id === ben.id)!.files).toEqual([files[0]])
    emu.holdRequests({ method: 'PATCH', count: 5, timeoutMs: 100 })
    const started = Date.now()
    expect((await patch(ben.id, [files[1]])).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
    emu.holdRequests({ method: 'PATCH', count: 5 })
    const waiting = patch(ben.id, [files[0]])
    await new Promise(r => setTimeout(r, 50))
    emu.clearHolds()
    expect((await waiting).status).toBe(200)
  })

  test('jitter delays API answers by a random 0…2N ms; DELETE logs the benefits listing the file', async () => {
    emu.setApiJitter(40)
    const times: number[] = []
    for (let i = 0; i < 8; i++) {
      const t = Date.now()
      await api(emu, 'GET', '/v1/benefits/')
      times.push(Date.now() - t)
    }
    emu.setApiJitter(0)
    expect(Math.max(...times)).toBeLessThan(400)
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(5) // not a fixed delay
    const listed = emu.seedFile({ name: 'listed.zip' })
    const free = emu.seedFile({ name: 'free.zip' })
    const ben = emu.seedBenefit({ files: [listed.id] })
    emu.clearLog()
    await api(emu, 'DELETE', `/v1/files/${listed.id}`)
    await api(emu, 'DELETE', `/v1/files/${free.id}`)
    expect(emu.log().map(e => e.listedBy)).toEqual([[ben.id], undefined])
  })
})

describe('settings, log and state', () => {
  test('setUrlExpiry changes the presigned lifetime (expires_at and X-Amz-Expires)', async () => {
    emu.setUrlExpiry(600)
    const created = await createFile(emu, 'expiry.bin', data)
    emu.setUrlExpiry(3600)
    const part = created.upload.parts[0]
    expect(new URL(part.url).searchParams.get('X-Amz-Expires')).toBe('600')
    expect(Date.parse(part.expires_at) - Date.now()).toBeLessThanOrEqual(600_000)
    expect(Date.parse(part.expires_at) - Date.now()).toBeGreaterThan(590_000)
  })

  test('log(): arrival order, method/path/query/status/auth/version/user-agent, no presigned query', async () => {
    emu.clearLog()
    const created = await createFile(emu, 'logged.bin', data)
    await putPart(created.upload.parts[0].url, created.upload.parts[0].headers, data)
    await api(emu, 'GET', '/v1/files/?limit=3', { token: null })
    const log = emu.log()
    expect(log.map(e => [e.target, e.method, e.status])).toEqual([
      ['api', 'POST', 201],
      ['s3', 'PUT', 200],
      ['api', 'GET', 401]
    ])
    expect(log[0]).toMatchObject({
      path: '/v1/files/',
      authorization: true,
      polarVersion: '2026-04',
      userAgent: 'emulator-tests'
    })
    expect(log[1]).toMatchObject({ query: '', authorization: false, contentLength: data.length })
    expect(log[1].path).toBe(new URL(created.upload.parts[0].url).pathname)
    expect(log[2]).toMatchObject({ query: 'limit=3', authorization: false })
    expect(log.every(e => e.endedAt >= e.startedAt)).toBe(true)
    emu.clearLog()
    expect(emu.log()).toEqual([])
  })

  test('files(): incomplete and deleted files too, in creation order; fileContent() of completed files', async () => {
    const e = await startEmulator({ keepBodies: true })
    try {
      const incomplete = await createFile(e, 'inc.bin', data)
      const done = await uploadFile(e, 'done.bin', data)
      const deleted = await uploadFile(e, 'del.bin', data)
      await api(e, 'DELETE', `/v1/files/${String(deleted.id)}`)
      const files = e.files()
      expect(files.map(f => f.id)).toEqual([incomplete.id, done.id, deleted.id])
      expect(files[0]).toMatchObject({
        isUploaded: false,
        uploadId: incomplete.upload.id,
        deletedAt: null
      })
      expect(files[1]).toMatchObject({
        isUploaded: true,
        uploadId: null,
        checksumSha256Base64: sha256b64(data)
      })
      expect(files[2].deletedAt).toEqual(expect.any(String))
      expect(e.fileContent(String(done.id))?.equals(data)).toBe(true)
      expect(e.fileContent(incomplete.id)).toBeUndefined()
      expect(e.fileContent(String(deleted.id))).toBeUndefined()
    } finally {
      await e.close()
    }
  })

  test('seedFile: completed at once, sha256 hex → base64, created_at/version/size kept', async () => {
    const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    const f = emu.seedFile({
      name: 'seed.bin',
      sha256: sha,
      size: 42,
      version: 'v0',
      createdAt: '2025-01-02T03:04:05.000Z'
    })
    expect(f).toMatchObject({
      isUploaded: true,
      checksumSha256Hex: sha,
      checksumSha256Base64: Buffer.from(sha, 'hex').toString('base64')
    })
    const listed = await api(emu, 'GET', `/v1/files/?ids=${f.id}`)
    expect((listed.json as { items: unknown[] }).items[0]).toMatchObject({
      size: 42,
      version: 'v0',
      created_at: '2025-01-02T03:04:05.000Z',
      checksum_sha256_hex: sha
    })
  })
})

describe('HTTP control routes (/_emulator/)', () => {
  async function control(
    method: string,
    path: string,
    body?: unknown
  ): Promise<{ status: number; json: unknown }> {
    const res = await request(`${emu.apiUrl}/_emulator/${path}`, {
      method: method as 'GET',
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' }
    })
    const text = await res.body.text()
    return { status: res.statusCode, json: text ? (JSON.parse(text) as unknown) : undefined }
  }

  test('log, files, benefits, faults (with {"regex"}), config, seeds — no auth, never logged', async () => {
    expect((await control('DELETE', 'log')).status).toBe(204)
    const seeded = await control('POST', 'seed/file', { name: 'ctl.bin', sha256: '00'.repeat(32) })
    expect(seeded.status).toBe(201)
    const fileId = (seeded.json as { id: string }).id
    const benefit = await control('POST', 'seed/benefit', { files: [fileId] })
    expect((benefit.json as { files: string[] }).files).toEqual([fileId])
    expect(
      ((await control('GET', 'files')).json as { id: string }[]).some(f => f.id === fileId)
    ).toBe(true)
    expect(((await control('GET', 'benefits')).json as { id: string }[]).length).toBeGreaterThan(0)

    expect(
      (
        await control('POST', 'faults', {
          target: 'api',
          path: { regex: '^/v1/benefits/' },
          kind: 'status',
          status: 503
        })
      ).status
    ).toBe(204)
    expect((await api(emu, 'GET', '/v1/benefits/')).status).toBe(503)
    expect((await control('POST', 'faults', { target: 'api', kind: 'explode' })).status).toBe(400)

    expect(
      (
        await control('POST', 'config', {
          rateLimitPerMinute: 1,
          apiLatencyMs: 0,
          urlExpirySeconds: 900
        })
      ).status
    ).toBe(204)
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(200)
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(429)
    await control('POST', 'config', { rateLimitPerMinute: null, urlExpirySeconds: 3600 })
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(200)

    const log = (await control('GET', 'log')).json as { path: string }[]
    expect(log.every(e => !e.path.startsWith('/_emulator/'))).toBe(true)
    expect(log.map(e => e.path)).toEqual([
      '/v1/benefits/',
      '/v1/files/',
      '/v1/files/',
      '/v1/files/'
    ])
  })
})

describe('CLI', () => {
  test('prints the URL/token lines, serves, and stops on SIGTERM', async () => {
    const { child, env } = await startCli(
      ['--seed-benefit', '--url-expiry', '900'],
      'POLAR_BENEFIT_ID'
    )
    expect(Object.keys(env).sort()).toEqual([
      'POLAR_API_URL',
      'POLAR_BENEFIT_ID',
      'POLAR_ORGANIZATION_ID',
      'POLAR_TOKEN',
      'S3_URL'
    ])
    const res = await request(`${env.POLAR_API_URL}/v1/benefits/${env.POLAR_BENEFIT_ID}`, {
      headers: { authorization: `Bearer ${env.POLAR_TOKEN}` }
    })
    expect(res.statusCode).toBe(200)
    expect(((await res.body.json()) as { organization_id: string }).organization_id).toBe(
      env.POLAR_ORGANIZATION_ID
    )
    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
  }, 20000)
})

describe('OpenAPI document', () => {
  // A clone without shared/ beside it (GitHub's CI) has only the copy: skipped, not passed.
  const shared = existsSync(SHARED_OPENAPI_PATH)
  const testIfShared = shared ? test : test.skip
  const why = shared ? '' : ' (skipped: no ../shared/ beside this clone)'
  testIfShared(`the vendored copy equals ../shared/polar-openapi-files.json${why}`, () => {
    expect(readFileSync(VENDORED_OPENAPI_PATH, 'utf8')).toBe(
      readFileSync(SHARED_OPENAPI_PATH, 'utf8')
    )
  })
})
