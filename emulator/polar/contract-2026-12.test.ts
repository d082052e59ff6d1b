/**
 * The contract's additions of December 2026, over raw HTTP: API versions served by quarter,
 * Polar's request guards (411/413), malware flags, unfinished uploads deletable by ID.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { randomBytes, randomUUID } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { request } from 'undici'
import { createRequest, completionRequest } from '../../src/upload/multipart.js'
import { effectivePartSize, layoutParts } from '../../src/upload/parts.js'
import {
  DEFAULT_VERSIONS,
  MAX_BODY_BYTES,
  startEmulator,
  versionsAt,
  type Emulator
} from './index.js'
import { api, createFile, startCli, uploadFile } from './helpers.js'

let emu: Emulator
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(async () => {
  await emu.close()
})
beforeEach(() => {
  emu.setVersions(DEFAULT_VERSIONS)
  emu.clearMalwareRules()
})

/** A raw call with exactly these headers (no Polar-Version unless given). */
async function raw(method: string, path: string, headers: Record<string, string>, body?: string) {
  const res = await request(`${emu.apiUrl}${path}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${emu.token}`, ...headers },
    body
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

describe('API versions', () => {
  test('versionsAt: the quarter Current, the one before Deprecated, the next Next', () => {
    expect(versionsAt('2027-01')).toEqual({
      served: ['2026-10', '2027-01', '2027-04'],
      current: '2027-01'
    })
    expect(versionsAt('2027-04')).toEqual({
      served: ['2027-01', '2027-04', '2027-07'],
      current: '2027-04'
    })
    expect(() => versionsAt('2027-02')).toThrow(/quarter/)
    expect(() => emu.setVersions({ served: ['2027-01'], current: '2026-10' })).toThrow(/current/)
  })

  test('a served version is echoed; none sent → Current, echoed', async () => {
    emu.setVersions(versionsAt('2027-01'))
    for (const v of ['2026-10', '2027-01', '2027-04']) {
      const r = await raw('GET', '/v1/files/', { 'polar-version': v })
      expect(r.status).toBe(200)
      expect(r.headers['polar-version']).toBe(v)
    }
    const none = await raw('GET', '/v1/files/', {})
    expect(none.status).toBe(200)
    expect(none.headers['polar-version']).toBe('2027-01')
  })

  test('removed, unknown or malformed → 404 {"detail":"Not Found"} without Polar-Version, on every route', async () => {
    emu.setVersions(versionsAt('2027-04'))
    for (const v of ['2026-10', '2026-04', '2030-01', 'latest', '2027-4']) {
      for (const [method, path, body] of [
        ['GET', '/v1/files/', undefined],
        ['POST', '/v1/files/', '{}'],
        ['DELETE', `/v1/files/${randomUUID()}`, undefined],
        ['GET', `/v1/benefits/${randomUUID()}`, undefined]
      ] as const) {
        const r = await raw(
          method,
          path,
          { 'polar-version': v, 'content-type': 'application/json' },
          body
        )
        expect([v, method, r.status]).toEqual([v, method, 404])
        expect(JSON.parse(r.text)).toEqual({ detail: 'Not Found' })
        expect(r.headers['polar-version']).toBeUndefined()
      }
    }
  })

  test('a resource 404 carries the header and ResourceNotFound (distinct from a removed version)', async () => {
    const r = await raw('DELETE', `/v1/files/${randomUUID()}`, { 'polar-version': '2026-10' })
    expect(r.status).toBe(404)
    expect(r.headers['polar-version']).toBe('2026-10')
    expect(JSON.parse(r.text)).toMatchObject({ error: 'ResourceNotFound' })
  })

  test('control API and CLI set the served versions', async () => {
    const set = await request(`${emu.apiUrl}/_emulator/versions`, {
      method: 'POST',
      body: JSON.stringify({ quarter: '2027-04' })
    })
    expect(await set.body.json()).toEqual(versionsAt('2027-04'))
    const custom = await request(`${emu.apiUrl}/_emulator/versions`, {
      method: 'POST',
      body: JSON.stringify({ served: ['2026-10', '2027-01'], current: '2026-10' })
    })
    expect(custom.statusCode).toBe(200)
    await custom.body.dump()
    expect(emu.versions()).toEqual({ served: ['2026-10', '2027-01'], current: '2026-10' })

    const { child, env } = await startCli(
      ['--versions', '2026-10,2027-01,2027-04', '--current-version', '2027-01'],
      'S3_URL'
    )
    try {
      const res = await request(`${env.POLAR_API_URL}/v1/files/`, {
        headers: { authorization: `Bearer ${env.POLAR_TOKEN}`, 'polar-version': '2026-04' }
      })
      expect(res.statusCode).toBe(404)
      await res.body.dump()
      const current = await request(`${env.POLAR_API_URL}/v1/files/`, {
        headers: { authorization: `Bearer ${env.POLAR_TOKEN}` }
      })
      expect(current.headers['polar-version']).toBe('2027-01')
      await current.body.dump()
    } finally {
      child.kill('SIGTERM')
    }
  })
})

describe('request guards', () => {
  test('a write without Content-Length (chunked) → 411 LengthRequired', async () => {
    for (const method of ['POST', 'PATCH']) {
      const url = `${emu.apiUrl}${method === 'POST' ? '/v1/files/' : `/v1/files/${randomUUID()}`}`
      const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(url, {
          method,
          headers: { authorization: `Bearer ${emu.token}`, 'polar-version': '2026-10' }
        })
        req.on('response', res => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (text += d))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        })
        req.on('error', reject)
        req.write('{') // no length given: node sends it chunked
        req.end('}')
      })
      expect(r.status).toBe(411)
      expect(JSON.parse(r.text)).toEqual({
        error: 'LengthRequired',
        detail: 'A Content-Length header is required.'
      })
    }
  })

  test('a body over 10 MiB → 413 RequestBodyTooLarge', async () => {
    const r = await raw(
      'POST',
      '/v1/files/',
      { 'polar-version': '2026-10', 'content-type': 'application/json' },
      JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) })
    )
    expect(r.status).toBe(413)
    expect(JSON.parse(r.text)).toMatchObject({ error: 'RequestBodyTooLarge' })
  })

  test('the action’s largest bodies (10,000 parts) stay under 10 MiB, and Polar takes the create', async () => {
    const partSize = 512 * 1024 * 1024
    const size = 10_000 * partSize // 5 TiB, S3's largest object: offsets with 13 digits
    const parts = layoutParts(size, effectivePartSize(size, partSize))
    expect(parts).toHaveLength(10_000)
    const b64 = () => randomBytes(32).toString('base64')
    const job = {
      name: `${'ä'.repeat(120)}.tar.gz`,
      mimeType: 'application/gzip',
      size,
      version: `v${'9'.repeat(60)}`,
      parts,
      hashes: { sha256Hex: '', sha256Base64: b64(), partSha256Base64: parts.map(b64) }
    }
    const create = JSON.stringify(createRequest(job))
    const etags = parts.map(() => `"${randomBytes(16).toString('hex')}"`)
    const upload = {
      upload: {
        id: 'x'.repeat(200),
        path: `${randomUUID()}/${randomUUID()}/${job.name}`,
        parts: []
      }
    }
    const complete = JSON.stringify(completionRequest(upload, job, etags))
    expect(Buffer.byteLength(create)).toBeLessThan(2 * 1024 * 1024)
    expect(Buffer.byteLength(complete)).toBeLessThan(2 * 1024 * 1024)
    expect(Buffer.byteLength(create)).toBeLessThan(MAX_BODY_BYTES)

    const r = await api(emu, 'POST', '/v1/files/', { body: JSON.parse(create) })
    expect(r.status).toBe(201)
    expect((r.json as { upload: { parts: unknown[] } }).upload.parts).toHaveLength(10_000)
  }, 60_000)
})

describe('malware flags', () => {
  test('flagged at upload: the /uploaded answer carries flagged_malicious_at, and the list keeps it', async () => {
    emu.flagMalicious({ name: '*.exe' })
    const done = await uploadFile(emu, 'bad.exe', Buffer.from('MZ'))
    expect(typeof done.flagged_malicious_at).toBe('string')
    const list = await api(emu, 'GET', `/v1/files/?ids=${done.id}`)
    expect(
      (list.json as { items: { flagged_malicious_at: unknown }[] }).items[0].flagged_malicious_at
    ).toBe(done.flagged_malicious_at)
  })

  test('flagged later: the /uploaded answer is clean, the next read is not', async () => {
    emu.flagMalicious({ name: 'late-*', when: 'later' })
    const done = await uploadFile(emu, 'late-1.bin', Buffer.from('x'))
    expect(done.flagged_malicious_at).toBeNull()
    const list = await api(emu, 'GET', `/v1/files/?ids=${done.id}`)
    expect(
      typeof (list.json as { items: { flagged_malicious_at: unknown }[] }).items[0]
        .flagged_malicious_at
    ).toBe('string')
    const other = await uploadFile(emu, 'clean.bin', Buffer.from('y'))
    expect(other.flagged_malicious_at).toBeNull()
  })

  test('the control API flags one file now', async () => {
    const done = await uploadFile(emu, 'now.bin', Buffer.from('z'))
    const res = await request(`${emu.apiUrl}/_emulator/files/${done.id}/flag`, { method: 'POST' })
    expect(res.statusCode).toBe(200)
    expect((await res.body.json()) as object).toMatchObject({ id: done.id })
    const list = await api(emu, 'GET', `/v1/files/?ids=${done.id}`)
    expect(
      typeof (list.json as { items: { flagged_malicious_at: unknown }[] }).items[0]
        .flagged_malicious_at
    ).toBe('string')
  })
})

describe('unfinished uploads', () => {
  test('hidden from the list, also with ids=, yet deletable by ID', async () => {
    const created = await createFile(emu, 'unfinished.bin', Buffer.from('abc'))
    const list = await api(emu, 'GET', `/v1/files/?ids=${created.id}`)
    expect((list.json as { items: unknown[] }).items).toEqual([])
    expect((await api(emu, 'DELETE', `/v1/files/${created.id}`)).status).toBe(204)
  })
})
