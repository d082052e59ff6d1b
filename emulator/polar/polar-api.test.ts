/** One or more tests per rule of the contract's Polar section, over raw HTTP. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomUUID } from 'node:crypto'
import { startEmulator, type Emulator } from './index.js'
import { OpenApi } from './openapi.js'
import {
  api,
  createFile,
  MiB,
  partsFor,
  putAll,
  putPart,
  sha256b64,
  uploadFile,
  type FileUploadJson
} from './helpers.js'

let emu: Emulator
beforeAll(async () => {
  emu = await startEmulator({ keepBodies: true })
})
afterAll(async () => {
  await emu.close()
})

const tiny = Buffer.from('tiny file\n')
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('happy path', () => {
  test('create → PUT every part (5 MiB + rest) → uploaded → list shows it, name with spaces, +, % and non-ASCII', async () => {
    const name = 'My Release + 100% “ünïcødé” 日本.tar.gz'
    const content = Buffer.alloc(5 * MiB + 12345)
    for (let i = 0; i < content.length; i += 4096) content[i] = i % 251
    const created = await createFile(emu, name, content, {
      partSize: 5 * MiB,
      extra: { version: 'v1.2.3' }
    })
    expect(created.upload.parts).toHaveLength(2)
    expect(created.path).toBe(`${emu.organizationId}/${created.id}/${name}`)
    const completed = await putAll(created, content)
    const done = await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, { body: completed })
    expect(done.status).toBe(200)
    expect(done.json).toMatchObject({
      id: created.id,
      name,
      is_uploaded: true,
      version: 'v1.2.3',
      service: 'downloadable'
    })
    expect(emu.fileContent(created.id)?.equals(content)).toBe(true)

    const list = await api(emu, 'GET', `/v1/files/?ids=${created.id}`)
    expect(list.status).toBe(200)
    const items = (list.json as { items: Record<string, unknown>[] }).items
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({
      id: created.id,
      name,
      is_uploaded: true,
      size: content.length,
      checksum_sha256_base64: sha256b64(content),
      checksum_sha256_hex: Buffer.from(sha256b64(content), 'base64').toString('hex')
    })
    expect(items[0].checksum_etag).toMatch(/^"[0-9a-f]{32}-2"$/)
  })

  test('a 0-byte file: one part [0, 0) with the SHA-256 of nothing, PUT with an empty body', async () => {
    const done = await uploadFile(emu, 'empty.txt', Buffer.alloc(0))
    expect(done).toMatchObject({ size: 0, is_uploaded: true })
  })
})

describe('auth', () => {
  test('Bearer organization token (polar_oat_) works; personal token (polar_pat_) works with organization_id', async () => {
    expect(emu.token).toMatch(/^polar_oat_/)
    expect((await api(emu, 'GET', '/v1/files/')).status).toBe(200)
    const pat = emu.createToken({ kind: 'pat' })
    expect(pat).toMatch(/^polar_pat_/)
    const created = await createFile(emu, 'pat.bin', tiny, {
      token: pat,
      extra: { organization_id: emu.organizationId }
    })
    expect(created.organization_id).toBe(emu.organizationId)
  })

  test('401 invalid_token + WWW-Authenticate for an unknown token', async () => {
    const res = await api(emu, 'GET', '/v1/files/', { token: 'polar_oat_unknown' })
    expect(res.status).toBe(401)
    expect(res.json).toEqual({ error: 'invalid_token', error_description: expect.any(String) })
    expect(res.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/)
  })

  test('401 Unauthorized without a token', async () => {
    const res = await api(emu, 'GET', '/v1/files/', { token: null })
    expect(res.status).toBe(401)
    expect(res.json).toEqual({ error: 'Unauthorized', detail: 'Unauthorized' })
  })

  const insufficient = {
    error: 'insufficient_scope',
    error_description: 'The request requires higher privileges than provided by the access token.'
  }
  test.each([
    ['GET', '/v1/files/', ['benefits:read', 'benefits:write'], ['files:read']],
    ['POST', '/v1/files/', ['files:read'], ['files:write']],
    ['PATCH', `/v1/files/${randomUUID()}`, ['files:read'], ['files:write']],
    ['DELETE', `/v1/files/${randomUUID()}`, ['files:read'], ['files:write']],
    ['POST', `/v1/files/${randomUUID()}/uploaded`, ['files:read'], ['files:write']],
    ['GET', '/v1/benefits/', ['files:read', 'files:write'], ['benefits:read']],
    ['GET', `/v1/benefits/${randomUUID()}`, ['files:write'], ['benefits:read']],
    ['GET', `/v1/benefits/${randomUUID()}/files`, ['files:write'], ['benefits:read']],
    ['PATCH', `/v1/benefits/${randomUUID()}`, ['benefits:read'], ['benefits:write']]
  ])('403 insufficient_scope: %s %s needs its scope', async (method, path, without, withScopes) => {
    const denied = await api(emu, method, path, {
      token: emu.createToken({ scopes: without }),
      body: method === 'GET' || method === 'DELETE' ? undefined : {}
    })
    expect(denied.status).toBe(403)
    expect(denied.json).toEqual(insufficient)
    const allowed = await api(emu, method, path, {
      token: emu.createToken({ scopes: withScopes }),
      body: method === 'GET' || method === 'DELETE' ? undefined : {}
    })
    expect(allowed.status).not.toBe(403)
  })
})

describe('create', () => {
  test('organization_id with an organization token → 422 organization_token', async () => {
    const res = await api(emu, 'POST', '/v1/files/', {
      body: {
        service: 'downloadable',
        name: 'a',
        mime_type: 'text/plain',
        size: 1,
        organization_id: emu.organizationId,
        upload: { parts: partsFor(Buffer.from('a'), MiB) }
      }
    })
    expect(res.status).toBe(422)
    expect(res.json).toEqual({
      error: 'RequestValidationError',
      detail: [
        {
          type: 'organization_token',
          loc: ['body', 'organization_id'],
          msg: 'Setting organization_id is disallowed when using an organization token.',
          input: emu.organizationId
        }
      ]
    })
    expect(emu.files().some(f => f.name === 'a')).toBe(false)
  })

  test('a personal token must send organization_id (422 missing), one of its own (422 Organization not found.)', async () => {
    const pat = emu.createToken({ kind: 'pat' })
    const body = {
      service: 'downloadable',
      name: 'b',
      mime_type: 'text/plain',
      size: 1,
      upload: { parts: partsFor(Buffer.from('b'), MiB) }
    }
    const missing = await api(emu, 'POST', '/v1/files/', { token: pat, body })
    expect(missing.status).toBe(422)
    expect((missing.json as { detail: unknown[] }).detail[0]).toMatchObject({
      type: 'missing',
      loc: ['body', 'organization_id']
    })
    const foreign = await api(emu, 'POST', '/v1/files/', {
      token: pat,
      body: { ...body, organization_id: randomUUID() }
    })
    expect(foreign.status).toBe(422)
    expect((foreign.json as { detail: unknown[] }).detail[0]).toMatchObject({
      msg: 'Organization not found.',
      loc: ['body', 'organization_id']
    })
  })

  test('201 FileUpload: file fields without created_at, is_uploaded false, parts with url/expires_at/headers', async () => {
    const before = Date.now()
    const created = await createFile(emu, 'shape.bin', tiny)
    expect(created.id).toMatch(UUID4)
    expect(created).not.toHaveProperty('created_at')
    expect(created).toMatchObject({
      is_uploaded: false,
      service: 'downloadable',
      organization_id: emu.organizationId,
      size_readable: expect.any(String)
    })
    expect(created.upload.path).toBe(created.path)
    const part = created.upload.parts[0]
    expect(part).toMatchObject({
      number: 1,
      chunk_start: 0,
      chunk_end: tiny.length,
      checksum_sha256_base64: sha256b64(tiny)
    })
    expect(part.url.startsWith(`${emu.s3Url}/`)).toBe(true)
    const expires = Date.parse(part.expires_at)
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000)
  })

  test('at most 10,000 parts: 10,000 → 201, 10,001 → 422 too_long at ["body","upload","parts"]', async () => {
    const parts = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        number: i + 1,
        chunk_start: i,
        chunk_end: i + 1,
        checksum_sha256_base64: sha256b64(Buffer.from([i % 256]))
      }))
    const body = (n: number) => ({
      service: 'downloadable',
      name: 'many.bin',
      mime_type: 'application/octet-stream',
      size: n,
      upload: { parts: parts(n) }
    })
    const ok = await api(emu, 'POST', '/v1/files/', { body: body(10000) })
    expect(ok.status).toBe(201)
    expect((ok.json as FileUploadJson).upload.parts).toHaveLength(10000)
    const tooMany = await api(emu, 'POST', '/v1/files/', { body: body(10001) })
    expect(tooMany.status).toBe(422)
    const detail = tooMany.json as { error: string; detail: { type: string; loc: unknown[] }[] }
    expect(detail.error).toBe('RequestValidationError')
    expect(detail.detail).toEqual([
      expect.objectContaining({ type: 'too_long', loc: ['body', 'upload', 'parts'] })
    ])
  })

  test('a request body that breaks the OpenAPI schema → 422 with pydantic-style detail', async () => {
    const res = await api(emu, 'POST', '/v1/files/', {
      body: {
        service: 'downloadable',
        name: 'x',
        mime_type: 'text/plain',
        size: 'big',
        upload: { parts: [{ number: 1, chunk_start: 0 }] }
      }
    })
    expect(res.status).toBe(422)
    const detail = (res.json as { detail: { type: string; loc: unknown[]; msg: string }[] }).detail
    expect(detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'int_parsing', loc: ['body', 'size'], input: 'big' }),
        expect.objectContaining({
          type: 'missing',
          loc: ['body', 'upload', 'parts', 0, 'chunk_end'],
          msg: 'Field required'
        })
      ])
    )
  })
})

describe('uploaded (complete)', () => {
  test('200 DownloadableFileRead with created_at and is_uploaded true', async () => {
    const done = await uploadFile(emu, 'complete.bin', tiny)
    expect(done).toMatchObject({
      is_uploaded: true,
      created_at: expect.any(String),
      last_modified_at: expect.any(String)
    })
  })

  test('not idempotent: a second call on a completed upload fails like S3 NoSuchUpload → 500', async () => {
    const created = await createFile(emu, 'twice.bin', tiny)
    const body = await putAll(created, tiny)
    expect((await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, { body })).status).toBe(200)
    const again = await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, { body })
    expect(again.status).toBe(500)
    expect(again.text).toBe('Internal Server Error')
  })

  test('the body needs all three keys per part (checksum_sha256_base64 may be null but not absent)', async () => {
    const created = await createFile(emu, 'keys.bin', tiny)
    const body = await putAll(created, tiny)
    const { checksum_sha256_base64: _omit, ...partWithoutChecksum } = body.parts[0]
    const res = await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, {
      body: { ...body, parts: [partWithoutChecksum] }
    })
    expect(res.status).toBe(422)
    expect((res.json as { detail: unknown[] }).detail[0]).toMatchObject({
      type: 'missing',
      loc: ['body', 'parts', 0, 'checksum_sha256_base64']
    })
  })

  test('404 for an unknown, deleted or other-organization file', async () => {
    const notFound = { error: 'ResourceNotFound', detail: 'Not found' }
    const body = { id: 'x', path: 'y', parts: [] }
    expect((await api(emu, 'POST', `/v1/files/${randomUUID()}/uploaded`, { body })).json).toEqual(
      notFound
    )
    const other = emu.createToken({ organizationId: randomUUID() })
    const created = await createFile(emu, 'mine.bin', tiny)
    const res = await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, {
      token: other,
      body: await putAll(created, tiny)
    })
    expect([res.status, res.json]).toEqual([404, notFound])
  })
})

describe('list', () => {
  let listEmu: Emulator
  beforeAll(async () => {
    listEmu = await startEmulator()
  })
  afterAll(async () => {
    await listEmu.close()
  })

  test('only completed, not deleted files; incomplete uploads are invisible', async () => {
    const done = await uploadFile(listEmu, 'done.bin', tiny)
    const incomplete = await createFile(listEmu, 'incomplete.bin', tiny)
    const deleted = await uploadFile(listEmu, 'deleted.bin', tiny)
    expect((await api(listEmu, 'DELETE', `/v1/files/${String(deleted.id)}`)).status).toBe(204)
    const res = await api(listEmu, 'GET', '/v1/files/?limit=100')
    const ids = (res.json as { items: { id: string }[] }).items.map(i => i.id)
    expect(ids).toContain(done.id)
    expect(ids).not.toContain(incomplete.id)
    expect(ids).not.toContain(deleted.id)
  })

  test('includes product_media and organization_avatar files', async () => {
    const media = listEmu.seedFile({ name: 'cover.png', service: 'product_media' })
    const avatar = listEmu.seedFile({ name: 'logo.png', service: 'organization_avatar' })
    const res = await api(listEmu, 'GET', `/v1/files/?ids=${media.id}&ids=${avatar.id}`)
    const items = (res.json as { items: { service: string; public_url?: string }[] }).items
    expect(items.map(i => i.service).sort()).toEqual(['organization_avatar', 'product_media'])
    expect(items.every(i => typeof i.public_url === 'string')).toBe(true)
  })

  test('pagination: page from 1, limit default 10, over 100 clamped to 100; order is not creation order', async () => {
    const e = await startEmulator()
    try {
      const seeded = Array.from({ length: 130 }, (_, i) =>
        e.seedFile({
          name: `f${i}.bin`,
          createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()
        })
      )
      const first = (await api(e, 'GET', '/v1/files/')).json as {
        items: { id: string }[]
        pagination: { total_count: number; max_page: number }
      }
      expect(first.items).toHaveLength(10)
      expect(first.pagination).toEqual({ total_count: 130, max_page: 13 })
      const clamped = (await api(e, 'GET', '/v1/files/?limit=1000&page=2')).json as {
        items: { id: string; created_at: string }[]
        pagination: { max_page: number }
      }
      expect(clamped.items).toHaveLength(30)
      expect(clamped.pagination.max_page).toBe(2)
      const all = [
        ...(
          (await api(e, 'GET', '/v1/files/?limit=100&page=1')).json as {
            items: { id: string; created_at: string }[]
          }
        ).items,
        ...clamped.items
      ]
      expect(new Set(all.map(i => i.id)).size).toBe(130)
      expect(all.map(i => i.id)).not.toEqual(seeded.map(s => s.id))
      const again = (
        (await api(e, 'GET', '/v1/files/?limit=100&page=1')).json as { items: { id: string }[] }
      ).items
      expect(again.map(i => i.id)).toEqual(all.slice(0, 100).map(i => i.id)) // stable between calls
      expect((await api(e, 'GET', '/v1/files/?page=0')).status).toBe(422)
    } finally {
      await e.close()
    }
  })

  test('ids repeat (ids=a&ids=b) and organization_id filters', async () => {
    const a = listEmu.seedFile({ name: 'a.bin' })
    const b = listEmu.seedFile({ name: 'b.bin' })
    listEmu.seedFile({ name: 'c.bin' })
    const res = await api(listEmu, 'GET', `/v1/files/?ids=${a.id}&ids=${b.id}`)
    expect((res.json as { items: { id: string }[] }).items.map(i => i.id).sort()).toEqual(
      [a.id, b.id].sort()
    )
    const other = await api(listEmu, 'GET', `/v1/files/?organization_id=${randomUUID()}`)
    expect((other.json as { pagination: { total_count: number } }).pagination.total_count).toBe(0)
    const mine = await api(
      listEmu,
      'GET',
      `/v1/files/?organization_id=${listEmu.organizationId}&ids=${a.id}`
    )
    expect((mine.json as { items: unknown[] }).items).toHaveLength(1)
    expect((await api(listEmu, 'GET', '/v1/files/?ids=not-a-uuid')).status).toBe(422)
  })

  test('/v1/files without slash → 307 to /v1/files/ (query kept)', async () => {
    const res = await api(listEmu, 'GET', '/v1/files?limit=5')
    expect(res.status).toBe(307)
    expect(new URL(res.headers.location).pathname + new URL(res.headers.location).search).toBe(
      '/v1/files/?limit=5'
    )
  })
})

describe('patch and delete', () => {
  test('PATCH {name?, version?}: only non-empty values are applied', async () => {
    const f = emu.seedFile({ name: 'old.bin', version: 'v1' })
    const renamed = await api(emu, 'PATCH', `/v1/files/${f.id}`, {
      body: { name: 'new.bin', version: 'v2' }
    })
    expect(renamed.json).toMatchObject({ name: 'new.bin', version: 'v2' })
    const cleared = await api(emu, 'PATCH', `/v1/files/${f.id}`, {
      body: { name: '', version: null }
    })
    expect(cleared.status).toBe(200)
    expect(cleared.json).toMatchObject({ name: 'new.bin', version: 'v2' })
  })

  test('DELETE → 204 (soft), a second DELETE → 404; works on incomplete uploads', async () => {
    const f = emu.seedFile({ name: 'gone.bin' })
    const first = await api(emu, 'DELETE', `/v1/files/${f.id}`)
    expect([first.status, first.text]).toEqual([204, ''])
    expect((await api(emu, 'DELETE', `/v1/files/${f.id}`)).json).toEqual({
      error: 'ResourceNotFound',
      detail: 'Not found'
    })
    expect(emu.files().find(x => x.id === f.id)?.deletedAt).toEqual(expect.any(String))
    const incomplete = await createFile(emu, 'never-completed.bin', tiny)
    expect((await api(emu, 'DELETE', `/v1/files/${incomplete.id}`)).status).toBe(204)
    expect(
      (await api(emu, 'PATCH', `/v1/files/${incomplete.id}`, { body: { name: 'x' } })).status
    ).toBe(404)
  })
})

describe('Polar-Version', () => {
  test('absent or 2026-04 → normal; any other value → 404 on every route', async () => {
    expect(
      (await api(emu, 'GET', '/v1/files/', { headers: { 'polar-version': '2026-04' } })).status
    ).toBe(200)
    const { request } = await import('undici')
    const absent = await request(`${emu.apiUrl}/v1/files/`, {
      headers: { authorization: `Bearer ${emu.token}` }
    })
    expect(absent.statusCode).toBe(200)
    await absent.body.dump()
    for (const [method, path] of [
      ['GET', '/v1/files/'],
      ['POST', '/v1/files/'],
      ['DELETE', `/v1/files/${randomUUID()}`],
      ['GET', '/v1/benefits/']
    ]) {
      expect(
        (
          await api(emu, method, path, {
            headers: { 'polar-version': '2025-01' },
            body: method === 'POST' ? {} : undefined
          })
        ).status
      ).toBe(404)
    }
  })
})

describe('rate limit', () => {
  test('per organization (tokens share the bucket): 429 with an empty body and Retry-After seconds; S3 PUTs do not count', async () => {
    const e = await startEmulator({ rateLimitPerMinute: 3 })
    try {
      const created = await createFile(e, 'rl.bin', tiny) // 1
      const part = created.upload.parts[0]
      for (let i = 0; i < 5; i++)
        expect((await putPart(part.url, part.headers, tiny)).status).toBe(200)
      expect((await api(e, 'GET', '/v1/files/')).status).toBe(200) // 2
      const second = e.createToken({}) // same organization, same bucket
      expect((await api(e, 'GET', '/v1/files/', { token: second })).status).toBe(200) // 3
      const limited = await api(e, 'GET', '/v1/files/', { token: second })
      expect(limited.status).toBe(429)
      expect(limited.text).toBe('')
      // a fixed window: its length, as Polar's limiter answers, not the time left in it
      expect(limited.headers['retry-after']).toBe('60')
      // another organization has its own bucket
      expect(
        (
          await api(e, 'GET', '/v1/files/', {
            token: e.createToken({ organizationId: randomUUID() })
          })
        ).status
      ).toBe(200)
      e.setRateLimit(null) // live: off again
      expect((await api(e, 'GET', '/v1/files/')).status).toBe(200)
    } finally {
      await e.close()
    }
  })
})

describe('benefits (downloadables)', () => {
  test('GET /v1/benefits/{id} and list with type filter and pagination', async () => {
    const f = emu.seedFile({ name: 'b1.bin' })
    const b = emu.seedBenefit({ description: 'Pro downloads', files: [f.id] })
    const got = await api(emu, 'GET', `/v1/benefits/${b.id}`)
    expect(got.json).toMatchObject({
      id: b.id,
      type: 'downloadables',
      properties: { files: [f.id], archived: {} }
    })
    const list = await api(emu, 'GET', '/v1/benefits/?type=downloadables&limit=100')
    expect((list.json as { items: { id: string }[] }).items.map(i => i.id)).toContain(b.id)
    const custom = await api(emu, 'GET', '/v1/benefits/?type=custom')
    expect((custom.json as { pagination: { total_count: number } }).pagination.total_count).toBe(0)
    const paged = await api(emu, 'GET', '/v1/benefits/?type=downloadables&limit=1&page=1')
    expect((paged.json as { items: unknown[] }).items).toHaveLength(1)
    expect((await api(emu, 'GET', `/v1/benefits/${randomUUID()}`)).status).toBe(404)
    const other = emu.createToken({ organizationId: randomUUID() })
    expect((await api(emu, 'GET', `/v1/benefits/${b.id}`, { token: other })).status).toBe(404)
  })

  test('GET /v1/benefits/{id}/files: active files in order = files minus archived; deleted omitted; paginated', async () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(n => emu.seedFile({ name: `${n}.zip` }))
    const benefit = emu.seedBenefit({ files: [c.id, a.id, b.id, d.id], archived: { [b.id]: true } })
    await api(emu, 'DELETE', `/v1/files/${d.id}`)
    const res = await api(emu, 'GET', `/v1/benefits/${benefit.id}/files`)
    const body = res.json as {
      items: Record<string, unknown>[]
      pagination: { total_count: number }
    }
    expect(body.items.map(i => i.id)).toEqual([c.id, a.id])
    expect(body.items[0]).toMatchObject({ downloads: 0, downloaders: 0, service: 'downloadable' })
    const page2 = await api(emu, 'GET', `/v1/benefits/${benefit.id}/files?limit=1&page=2`)
    expect((page2.json as { items: { id: string }[] }).items.map(i => i.id)).toEqual([a.id])
  })

  test('PATCH replaces both lists: omitted archived → {}', async () => {
    const [a, b] = ['x', 'y'].map(n => emu.seedFile({ name: `${n}.zip` }))
    const benefit = emu.seedBenefit({ files: [a.id, b.id], archived: { [b.id]: true } })
    const res = await api(emu, 'PATCH', `/v1/benefits/${benefit.id}`, {
      body: { type: 'downloadables', properties: { files: [b.id, a.id] } }
    })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ properties: { files: [b.id, a.id], archived: {} } })
    const kept = await api(emu, 'PATCH', `/v1/benefits/${benefit.id}`, {
      body: {
        type: 'downloadables',
        properties: { files: [a.id, b.id], archived: { [a.id]: true } }
      }
    })
    expect(kept.json).toMatchObject({
      properties: { files: [a.id, b.id], archived: { [a.id]: true } }
    })
    expect(emu.benefits().find(x => x.id === benefit.id)?.archived).toEqual({ [a.id]: true })
  })

  test('PATCH needs ≥ 1 file (422 too_short)', async () => {
    const benefit = emu.seedBenefit({ files: [emu.seedFile({ name: 'one.zip' }).id] })
    const res = await api(emu, 'PATCH', `/v1/benefits/${benefit.id}`, {
      body: { type: 'downloadables', properties: { files: [] } }
    })
    expect(res.status).toBe(422)
    expect((res.json as { detail: unknown[] }).detail[0]).toMatchObject({
      type: 'too_short',
      loc: ['body', 'properties', 'files']
    })
  })

  test('deleting a file leaves its stale ID in benefits; a PATCH still listing it → 422 "File not found."', async () => {
    const [keep, gone] = ['keep', 'gone'].map(n => emu.seedFile({ name: `${n}.zip` }))
    const benefit = emu.seedBenefit({ files: [keep.id, gone.id] })
    expect((await api(emu, 'DELETE', `/v1/files/${gone.id}`)).status).toBe(204)
    expect(emu.benefits().find(b => b.id === benefit.id)?.files).toEqual([keep.id, gone.id])
    const unknown = randomUUID()
    const res = await api(emu, 'PATCH', `/v1/benefits/${benefit.id}`, {
      body: { type: 'downloadables', properties: { files: [keep.id, gone.id, unknown] } }
    })
    expect(res.status).toBe(422)
    expect(res.json).toEqual({
      error: 'RequestValidationError',
      detail: [
        {
          type: 'value_error',
          loc: ['body', 'properties', 'files', 1],
          msg: 'File not found.',
          input: gone.id
        },
        {
          type: 'value_error',
          loc: ['body', 'properties', 'files', 2],
          msg: 'File not found.',
          input: unknown
        }
      ]
    })
    expect(
      (
        await api(emu, 'PATCH', `/v1/benefits/${benefit.id}`, {
          body: { type: 'downloadables', properties: { files: [keep.id] } }
        })
      ).status
    ).toBe(200)
  })
})

describe('OpenAPI validation of responses', () => {
  test('a response that does not match the document is an emulator bug (throws)', () => {
    const doc = new OpenApi()
    expect(() => doc.assertResponse('/v1/files/{id}', 'patch', 200, { id: 'nope' })).toThrow(
      /EMULATOR BUG/
    )
    expect(() => doc.assertResponse('/v1/files/', 'post', 200, {})).toThrow(/does not list/)
    expect(() => doc.assertResponse('/v1/files/{id}', 'delete', 204, undefined)).not.toThrow()
  })
})
