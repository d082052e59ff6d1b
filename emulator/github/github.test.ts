/**
 * Contract tests of the GitHub emulator against GitHub's documented releases behaviour
 * (sections of the project's notes cited per block), including the real clients: Octokit (@actions/github), undici
 * fetch and @actions/http-client.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCli } from '../polar/helpers.js'
import { getOctokit } from '@actions/github'
import { HttpClient } from '@actions/http-client'
import { BearerCredentialHandler } from '@actions/http-client/lib/auth'
import { fetch, request } from 'undici'
import {
  HTML_ERROR_PAGE,
  startGitHubEmulator,
  type GitHubEmulator,
  type GitHubLogEntry
} from './index.js'

let emu: GitHubEmulator
let dir: string
const ids = {
  app: 0,
  pub: 0,
  v1: 0,
  slash: 0,
  draft: 0,
  many: 0,
  pubRelease: 0,
  tarball: 0,
  legacy: 0,
  wrong: 0,
  direct: 0,
  page: 0,
  starter: 0,
  pubAsset: 0,
  fromDisk: 0
}
const tarball = Buffer.from('release tarball bytes\n'.repeat(100))
const diskBytes = Buffer.alloc(256 * 1024, 7)
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

beforeAll(async () => {
  emu = await startGitHubEmulator()
  dir = mkdtempSync(join(tmpdir(), 'ghemu-'))
  ids.app = emu.addRepo({ owner: 'acme', name: 'app', private: true }).id
  ids.pub = emu.addRepo({ owner: 'acme', name: 'pub' }).id
  emu.addRepo({ owner: 'acme', name: 'other', private: true })
  ids.v1 = emu.addRelease({ repo: 'acme/app', tag: 'v1.0.0', immutable: true }).id
  const add = (name: string, extra: Record<string, unknown> = {}) =>
    emu.addAsset({ repo: 'acme/app', tag: 'v1.0.0', name, content: tarball, ...extra })
  ids.tarball = (await add('app.tar.gz', { contentType: 'application/gzip' })).id
  ids.legacy = (await add('legacy.zip', { digest: null })).id
  ids.wrong = (await add('wrong.bin', { digest: `sha256:${'0'.repeat(64)}` })).id
  ids.direct = (await add('direct.bin', { serve: 'direct' })).id
  ids.page = (await add('page.bin', { serve: 'html-200' })).id
  ids.starter = (await add('starter.bin', { state: 'starter' })).id
  writeFileSync(join(dir, 'disk.bin'), diskBytes)
  ids.fromDisk = (await add('disk.bin', { content: { path: join(dir, 'disk.bin') } })).id
  ids.slash = emu.addRelease({ repo: 'acme/app', tag: 'release/2.0', prerelease: true }).id
  ids.draft = emu.addRelease({ repo: 'acme/app', tag: 'v3.0.0', draft: true }).id
  ids.many = emu.addRelease({ repo: 'acme/app', tag: 'many' }).id
  for (let i = 0; i < 120; i++) {
    const name = `part-${String(i).padStart(3, '0')}.bin`
    await emu.addAsset({ repo: 'acme/app', tag: 'many', name, content: Buffer.from(name) })
  }
  ids.pubRelease = emu.addRelease({ repo: 'acme/pub', tag: 'v0.1.0' }).id
  ids.pubAsset = (
    await emu.addAsset({ repo: 'acme/pub', tag: 'v0.1.0', name: 'pub.txt', content: tarball })
  ).id
})
afterAll(async () => {
  await emu.close()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => {
  emu.clearFaults()
})

interface Answer {
  status: number
  headers: Record<string, string>
  body: Buffer
  text: string
  json: () => any // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One request, redirects not followed. `token: null` = none; `ua: null` = no User-Agent. */
async function api(
  path: string,
  o: { token?: string | null; auth?: string; accept?: string; ua?: string | null } = {}
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (o.ua !== null) headers['user-agent'] = o.ua ?? 'emulator-test'
  const token = o.token === undefined ? emu.token : o.token
  if (o.auth !== undefined) headers.authorization = o.auth
  else if (token !== null) headers.authorization = `token ${token}`
  if (o.accept) headers.accept = o.accept
  const url = path.startsWith('http') ? path : `${emu.apiUrl}${path}`
  const res = await request(url, { headers })
  const body = Buffer.from(await res.body.arrayBuffer())
  const text = body.toString('utf8')
  return {
    status: res.statusCode,
    headers: res.headers as Record<string, string>,
    body,
    text,
    json: () => JSON.parse(text)
  }
}

/** The log once every entry is complete (a client may finish reading before the server does). */
async function settledLog(): Promise<GitHubLogEntry[]> {
  for (let i = 0; i < 100 && emu.log().some(e => e.endedAt === 0); i++)
    await new Promise(r => setTimeout(r, 10))
  return emu.log()
}

const octet = 'application/octet-stream'
const assetPath = (id: number, repo = 'acme/app'): string => `/repos/${repo}/releases/assets/${id}`

describe('releases (§1, §2)', () => {
  test('by tag: the release object with the fields the source uses', async () => {
    const res = await api('/repos/acme/app/releases/tags/v1.0.0')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    const r = res.json()
    expect(r).toMatchObject({
      id: ids.v1,
      tag_name: 'v1.0.0',
      draft: false,
      prerelease: false,
      immutable: true,
      assets_url: `${emu.apiUrl}/repos/acme/app/releases/${ids.v1}/assets`,
      url: `${emu.apiUrl}/repos/acme/app/releases/${ids.v1}`
    })
    expect(r.published_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(r.assets.map((a: { name: string }) => a.name)).toEqual([
      'app.tar.gz',
      'legacy.zip',
      'wrong.bin',
      'direct.bin',
      'page.bin',
      'starter.bin',
      'disk.bin'
    ])
  })

  test('the tag is URL-decoded (%2F); an unencoded slash and unknown tags are 404', async () => {
    const res = await api('/repos/acme/app/releases/tags/release%2F2.0')
    expect([res.status, res.json().id, res.json().prerelease]).toEqual([200, ids.slash, true])
    expect((await api('/repos/acme/app/releases/tags/release/2.0')).status).toBe(404)
    const missing = await api('/repos/acme/app/releases/tags/v9.9.9')
    expect([missing.status, missing.json()]).toEqual([
      404,
      {
        message: 'Not Found',
        documentation_url:
          'https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name',
        status: '404'
      }
    ])
  })

  test('a draft is 404 by tag even for a token that reads it; the list shows it to that token only', async () => {
    expect((await api('/repos/acme/app/releases/tags/v3.0.0')).status).toBe(404)
    const listed = await api('/repos/acme/app/releases')
    const draft = listed.json().find((r: { tag_name: string }) => r.tag_name === 'v3.0.0')
    expect(draft).toMatchObject({ id: ids.draft, draft: true, published_at: null })
    // Newest first.
    expect(listed.json().map((r: { id: number }) => r.id)).toEqual([
      ids.many,
      ids.draft,
      ids.slash,
      ids.v1
    ])
    emu.addRelease({ repo: 'acme/pub', tag: 'v0.2.0-draft', draft: true })
    const anonymous = await api('/repos/acme/pub/releases', { token: null })
    expect(anonymous.json().map((r: { tag_name: string }) => r.tag_name)).toEqual(['v0.1.0'])
    const reader = await api('/repos/acme/pub/releases')
    expect(reader.json().map((r: { tag_name: string }) => r.tag_name)).toEqual([
      'v0.2.0-draft',
      'v0.1.0'
    ])
    expect((await api(`/repos/acme/app/releases/${ids.draft}`)).status).toBe(200)
  })

  test('embedded assets are capped at 10 (list them through assets_url)', async () => {
    const r = (await api('/repos/acme/app/releases/tags/many')).json()
    expect(r.assets).toHaveLength(10)
  })

  test('owner and name match case-insensitively', async () => {
    expect((await api('/repos/ACME/App/releases/tags/v1.0.0')).status).toBe(200)
  })
})

describe('assets (§3)', () => {
  test('asset JSON: every field, digest sha256 of the content, URLs', async () => {
    const res = await api(assetPath(ids.tarball))
    expect(res.status).toBe(200)
    const a = res.json()
    expect(Object.keys(a).sort()).toEqual(
      [
        'browser_download_url',
        'content_type',
        'created_at',
        'digest',
        'download_count',
        'id',
        'label',
        'name',
        'node_id',
        'size',
        'state',
        'updated_at',
        'uploader',
        'url'
      ].sort()
    )
    expect(a).toMatchObject({
      id: ids.tarball,
      name: 'app.tar.gz',
      label: null,
      content_type: 'application/gzip',
      size: tarball.length,
      state: 'uploaded',
      digest: sha(tarball),
      url: `${emu.apiUrl}/repos/acme/app/releases/assets/${ids.tarball}`,
      browser_download_url: `${emu.serverUrl}/acme/app/releases/download/v1.0.0/app.tar.gz`
    })
    expect(a.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })

  test('digest: null for a legacy asset, served as given otherwise, hashed from disk for {path}', async () => {
    expect((await api(assetPath(ids.legacy))).json().digest).toBeNull()
    expect((await api(assetPath(ids.wrong))).json().digest).toBe(`sha256:${'0'.repeat(64)}`)
    expect((await api(assetPath(ids.fromDisk))).json()).toMatchObject({
      digest: sha(diskBytes),
      size: diskBytes.length
    })
  })

  test('a starter asset: state starter, digest null, not downloadable; uploaded later', async () => {
    const a = (await api(assetPath(ids.starter))).json()
    expect([a.state, a.digest, a.size]).toEqual(['starter', null, tarball.length])
    expect((await api(assetPath(ids.starter), { accept: octet })).status).toBe(404)
    const later = await emu.addAsset({
      repo: 'acme/app',
      tag: 'release/2.0',
      name: 'late.bin',
      content: tarball,
      state: 'starter',
      uploadedAfterMs: 150
    })
    expect((await api(assetPath(later.id))).json().state).toBe('starter')
    await new Promise(r => setTimeout(r, 300))
    expect((await api(assetPath(later.id))).json()).toMatchObject({
      state: 'uploaded',
      digest: later.digest
    })
    emu.setAssetState(later.id, 'open')
    expect((await api(assetPath(later.id))).json().state).toBe('open')
    expect(() => emu.setAssetState(999999, 'uploaded')).toThrow(/unknown asset/)
  })

  test('setup mistakes fail loudly', async () => {
    await expect(
      emu.addAsset({ repo: 'acme/app', tag: 'v1.0.0', name: 'app.tar.gz', content: tarball })
    ).rejects.toThrow(/already has an asset/)
    await expect(
      emu.addAsset({ repo: 'acme/nope', tag: 'v1.0.0', name: 'x', content: tarball })
    ).rejects.toThrow(/unknown repository/)
    expect(() => emu.addRelease({ repo: 'acme/app', tag: 'v1.0.0' })).toThrow(/already has/)
    expect(() => emu.addRepo({ owner: 'acme', name: 'app' })).toThrow(/exists/)
  })
})

describe('pagination (§4)', () => {
  const linkOf = (h: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      (h.link ?? '')
        .split(', ')
        .filter(Boolean)
        .map(part => {
          const m = /^<([^>]+)>; rel="(\w+)"$/.exec(part)
          if (!m) throw new Error(`bad Link part ${part}`)
          return [m[2], m[1]]
        })
    )
  const base = (): string => `${emu.apiUrl}/repositories/${ids.app}/releases/${ids.many}/assets`

  test('default 30 per page; Link in the repository-ID form, absolute', async () => {
    const first = await api(`/repos/acme/app/releases/${ids.many}/assets`)
    expect(first.json()).toHaveLength(30)
    expect(linkOf(first.headers)).toEqual({
      next: `${base()}?per_page=30&page=2`,
      last: `${base()}?per_page=30&page=4`
    })
    const middle = await api(linkOf(first.headers).next)
    expect(middle.json()[0].name).toBe('part-030.bin')
    expect(linkOf(middle.headers)).toEqual({
      prev: `${base()}?per_page=30&page=1`,
      next: `${base()}?per_page=30&page=3`,
      last: `${base()}?per_page=30&page=4`,
      first: `${base()}?per_page=30&page=1`
    })
    const last = await api(linkOf(first.headers).last)
    expect(last.json()).toHaveLength(30)
    expect(Object.keys(linkOf(last.headers))).toEqual(['prev', 'first'])
  })

  test('per_page max 100 (500 → 100); junk → default; beyond the last page → []', async () => {
    const big = await api(`/repos/acme/app/releases/${ids.many}/assets?per_page=500`)
    expect(big.json()).toHaveLength(100)
    expect(linkOf(big.headers).next).toBe(`${base()}?per_page=100&page=2`)
    const junk = await api(`/repos/acme/app/releases/${ids.many}/assets?per_page=abc&page=x`)
    expect([junk.json().length, junk.json()[0].name]).toEqual([30, 'part-000.bin'])
    expect((await api(`/repos/acme/app/releases/${ids.many}/assets?page=9`)).json()).toEqual([])
  })

  test('one page: no Link header; the repository-ID form serves releases and assets too', async () => {
    const one = await api(`/repos/acme/app/releases/${ids.v1}/assets`)
    expect([one.json().length, one.headers.link]).toEqual([7, undefined])
    const byId = await api(`/repositories/${ids.app}/releases/${ids.v1}/assets`)
    expect(byId.json()).toEqual(one.json())
    expect((await api(`/repositories/${ids.app}/releases/tags/v1.0.0`)).json().id).toBe(ids.v1)
    expect((await api(`/repositories/${ids.app}/releases/assets/${ids.tarball}`)).status).toBe(200)
  })
})

describe('downloads (§5)', () => {
  test('octet-stream: 302 to a signed URL on the other hostname; storage serves the bytes', async () => {
    const res = await api(assetPath(ids.tarball), { accept: octet })
    expect(res.status).toBe(302)
    expect(res.headers['content-type']).toBe('text/html;charset=utf-8')
    expect(res.headers['content-length']).toBe('0')
    const location = new URL(res.headers.location)
    expect(location.origin).toBe(emu.storageUrl)
    expect(location.hostname).not.toBe(new URL(emu.apiUrl).hostname)
    expect(location.pathname).toMatch(
      new RegExp(`^/github-production-release-asset/${ids.app}/[0-9a-f-]{36}$`)
    )
    for (const p of ['X-Amz-Algorithm', 'X-Amz-Expires', 'X-Amz-Signature', 'X-Amz-Date'])
      expect(location.searchParams.has(p)).toBe(true)
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300')
    const file = await api(res.headers.location, { token: null })
    expect(file.status).toBe(200)
    expect(file.headers['content-type']).toBe(octet)
    expect(file.headers['content-length']).toBe(String(tarball.length))
    expect(file.body.equals(tarball)).toBe(true)
  })

  test("serve 'direct': 200 with the bytes from the API itself", async () => {
    const res = await api(assetPath(ids.direct), { accept: octet })
    expect([res.status, res.headers['content-type']]).toEqual([200, octet])
    expect(res.body.equals(tarball)).toBe(true)
  })

  test("serve 'html-200': the storage answers 200 text/html instead of the bytes", async () => {
    const res = await api(assetPath(ids.page), { accept: octet })
    const page = await api(res.headers.location, { token: null })
    expect([page.status, page.headers['content-type'], page.text]).toEqual([
      200,
      'text/html; charset=utf-8',
      HTML_ERROR_PAGE
    ])
  })

  test('{path} content is read from disk at each download (never kept in memory)', async () => {
    const path = join(dir, 'changing.bin')
    writeFileSync(path, Buffer.from('first version'))
    const a = await emu.addAsset({
      repo: 'acme/pub',
      tag: 'v0.1.0',
      name: 'changing.bin',
      content: { path }
    })
    writeFileSync(path, Buffer.from('other version')) // same size, other bytes
    const res = await api(assetPath(a.id, 'acme/pub'), { accept: octet })
    const file = await api(res.headers.location, { token: null })
    expect(file.text).toBe('other version')
    expect(a.digest).toBe(sha(Buffer.from('first version'))) // computed at addAsset
    writeFileSync(path, Buffer.from('longer than before'))
    const again = await api(assetPath(a.id, 'acme/pub'), { accept: octet })
    const stderr = jest.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const broken = await api(again.headers.location, { token: null })
      expect(broken.status).toBe(500)
      expect(broken.text).toContain('EMULATOR BUG')
      expect(stderr).toHaveBeenCalled() // loud: printed as well as answered
    } finally {
      stderr.mockRestore()
    }
  })

  test('browser_download_url: public repositories only, never opened by a token', async () => {
    const pub = (await api(assetPath(ids.pubAsset, 'acme/pub'))).json()
    const res = await api(pub.browser_download_url, { token: null })
    expect(res.status).toBe(302)
    expect((await api(res.headers.location, { token: null })).body.equals(tarball)).toBe(true)
    const priv = (await api(assetPath(ids.tarball))).json()
    expect((await api(priv.browser_download_url)).status).toBe(404)
  })
})

describe('storage host (§5 steps 2–4)', () => {
  const signed = async (id = ids.tarball): Promise<string> =>
    (await api(assetPath(id), { accept: octet })).headers.location

  test('an Authorization header is refused with 400 InvalidArgument echoing its value', async () => {
    const url = await signed()
    const res = await api(url, { auth: 'token secret-value-123' })
    expect([res.status, res.headers['content-type']]).toEqual([400, 'application/xml'])
    expect(res.text).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>InvalidArgument<\/Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified<\/Message><ArgumentName>Authorization<\/ArgumentName><ArgumentValue>token secret-value-123<\/ArgumentValue><RequestId>/
    )
    const entry = (await settledLog()).at(-1)
    expect(entry).toMatchObject({ target: 'storage', status: 400, authorization: true })
    expect(JSON.stringify(emu.log())).not.toContain('secret-value-123')
  })

  test('tampered signature → 403 SignatureDoesNotMatch; no signature → 403 AccessDenied', async () => {
    const url = new URL(await signed())
    url.searchParams.set('X-Amz-Expires', '99999')
    const tampered = await api(url.toString(), { token: null })
    expect(tampered.status).toBe(403)
    expect(tampered.text).toContain('<Code>SignatureDoesNotMatch</Code>')
    const bare = await api(`${url.origin}${url.pathname}`, { token: null })
    expect([bare.status, bare.text.includes('<Code>AccessDenied</Code>')]).toEqual([403, true])
  })

  test('an expired URL → 403 AccessDenied "Request has expired"', async () => {
    const short = await startGitHubEmulator({ signedUrlTtlSeconds: 1 })
    try {
      short.addRepo({ owner: 'o', name: 'r' })
      short.addRelease({ repo: 'o/r', tag: 't' })
      const a = await short.addAsset({ repo: 'o/r', tag: 't', name: 'f', content: tarball })
      const first = await api(`${short.apiUrl}/repos/o/r/releases/assets/${a.id}`, {
        token: null,
        accept: octet
      })
      expect(new URL(first.headers.location).searchParams.get('X-Amz-Expires')).toBe('1')
      await new Promise(r => setTimeout(r, 1100))
      const res = await api(first.headers.location, { token: null })
      expect(res.status).toBe(403)
      expect(res.text).toContain('<Code>AccessDenied</Code><Message>Request has expired</Message>')
      // A fresh URL from the API works again.
      const again = await api(`${short.apiUrl}/repos/o/r/releases/assets/${a.id}`, {
        token: null,
        accept: octet
      })
      expect((await api(again.headers.location, { token: null })).status).toBe(200)
    } finally {
      await short.close()
    }
  })
})

describe('authentication (§7)', () => {
  const tagPath = '/repos/acme/app/releases/tags/v1.0.0'

  test('`token X` and `Bearer X` both work; an unknown token → 401 Bad credentials', async () => {
    expect((await api(tagPath, { auth: `Bearer ${emu.token}` })).status).toBe(200)
    const bad = await api(tagPath, { token: 'ghs_nope' })
    expect([bad.status, bad.json()]).toEqual([
      401,
      {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401'
      }
    ])
    // Even on a public repository: a bad token is never downgraded to anonymous.
    expect((await api('/repos/acme/pub/releases', { token: 'ghs_nope' })).status).toBe(401)
  })

  test('private repository: 404 without a token or with a token for another repository', async () => {
    const none = await api(tagPath, { token: null })
    expect([none.status, none.json().message, none.json().status]).toEqual([
      404,
      'Not Found',
      '404'
    ])
    const other = emu.createToken({ repos: ['acme/other'] })
    expect((await api(tagPath, { token: other })).status).toBe(404)
    expect((await api('/repos/acme/other/releases', { token: other })).status).toBe(200)
    expect((await api('/repos/acme/nope/releases/tags/v1')).status).toBe(404)
  })

  test('public repository: readable without a token, and by any valid token', async () => {
    expect((await api('/repos/acme/pub/releases/tags/v0.1.0', { token: null })).status).toBe(200)
    const other = emu.createToken({ repos: ['acme/other'] })
    expect((await api('/repos/acme/pub/releases/tags/v0.1.0', { token: other })).status).toBe(200)
  })

  test("permission 'none' → 403 Resource not accessible by integration + X-Accepted-GitHub-Permissions", async () => {
    const t = emu.createToken({ permission: 'none' })
    const res = await api(tagPath, { token: t })
    expect(res.status).toBe(403)
    expect(res.json().message).toBe('Resource not accessible by integration')
    expect(res.headers['x-accepted-github-permissions']).toBe('contents=read')
    expect(res.headers['x-ratelimit-remaining']).toBeDefined() // not a rate limit: headers say so
    expect((await api('/repos/acme/pub/releases', { token: t })).status).toBe(200)
    expect(() => emu.createToken({ repos: ['acme/nope'] })).toThrow(/unknown repository/)
  })

  test('no User-Agent → 403 text/html "Request forbidden by administrative rules"', async () => {
    const res = await api(tagPath, { ua: null })
    expect([res.status, res.headers['content-type']]).toEqual([403, 'text/html'])
    expect(res.text).toMatch(/^Request forbidden by administrative rules\. .*User-Agent/)
  })

  test('unsupported X-GitHub-Api-Version → 400; 2022-11-28 accepted', async () => {
    const send = async (v: string): Promise<number> =>
      (
        await request(`${emu.apiUrl}${tagPath}`, {
          headers: {
            'user-agent': 't',
            authorization: `token ${emu.token}`,
            'x-github-api-version': v
          }
        })
      ).statusCode
    expect(await send('2022-11-28')).toBe(200)
    expect(await send('1999-01-01')).toBe(400)
  })

  test('a client that drops the /api/v3 base path gets 404 (logged with the reason)', async () => {
    const res = await api(`${emu.serverUrl}${tagPath}`)
    expect(res.status).toBe(404)
    expect(emu.log().at(-1)?.error).toMatch(/outside the API prefix \/api\/v3/)
  })
})

describe('rate limits (§8)', () => {
  test('x-ratelimit-* on every API response (200, 404, 401)', async () => {
    for (const [path, token] of [
      ['/repos/acme/app/releases/tags/v1.0.0', emu.token],
      ['/repos/acme/app/releases/tags/none', emu.token],
      ['/repos/acme/app/releases', 'ghs_bad']
    ] as const) {
      const res = await api(path, { token })
      for (const h of ['limit', 'remaining', 'used', 'reset'])
        expect(res.headers[`x-ratelimit-${h}`]).toMatch(/^\d+$/)
      expect(res.headers['x-ratelimit-resource']).toBe('core')
    }
    const a = await api('/repos/acme/app/releases')
    const b = await api('/repos/acme/app/releases')
    expect(Number(b.headers['x-ratelimit-used'])).toBe(Number(a.headers['x-ratelimit-used']) + 1)
    expect(Number(a.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000)
  })

  test('secondary limit fault: 403 (default) or 429, message, retry-after (60 default, or none)', async () => {
    emu.injectFault({ target: 'api', kind: 'secondary-rate-limit' })
    const res = await api('/repos/acme/app/releases')
    expect([res.status, res.headers['retry-after']]).toEqual([403, '60'])
    expect(res.json().message).toMatch(
      /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\./
    )
    emu.injectFault({ target: 'api', kind: 'secondary-rate-limit', status: 429, retryAfter: 3 })
    const r429 = await api('/repos/acme/app/releases')
    expect([r429.status, r429.headers['retry-after']]).toEqual([429, '3'])
    emu.injectFault({ target: 'api', kind: 'secondary-rate-limit', retryAfter: null })
    expect((await api('/repos/acme/app/releases')).headers['retry-after']).toBeUndefined()
    expect((await api('/repos/acme/app/releases')).status).toBe(200)
  })

  test('primary limit fault: 403, x-ratelimit-remaining 0, x-ratelimit-reset', async () => {
    emu.injectFault({ target: 'api', kind: 'primary-rate-limit', resetInSeconds: 120 })
    const res = await api('/repos/acme/app/releases')
    expect([res.status, res.headers['x-ratelimit-remaining']]).toEqual([403, '0'])
    const reset = Number(res.headers['x-ratelimit-reset'])
    expect(reset - Date.now() / 1000).toBeGreaterThan(110)
    expect(res.json().message).toMatch(/^API rate limit exceeded/)
  })

  test('the primary limit is real: rateLimitPerHour requests, then 403 until the reset', async () => {
    const small = await startGitHubEmulator({ rateLimitPerHour: 2 })
    try {
      small.addRepo({ owner: 'o', name: 'r' })
      const get = (): Promise<Answer> =>
        api(`${small.apiUrl}/repos/o/r/releases`, { token: small.token })
      expect((await get()).headers['x-ratelimit-remaining']).toBe('1')
      expect((await get()).headers['x-ratelimit-remaining']).toBe('0')
      const third = await get()
      expect([third.status, third.headers['x-ratelimit-remaining']]).toEqual([403, '0'])
    } finally {
      await small.close()
    }
  })
})

describe('faults and log', () => {
  test('status faults 500/502/503 on API and storage; path exact, prefix*, RegExp; times', async () => {
    const path = `${new URL(emu.apiUrl).pathname}/repos/acme/app/releases`
    emu.injectFault({ target: 'api', path, kind: 'status', status: 503, times: 2 })
    emu.injectFault({ target: 'api', path: /\/tags\//, kind: 'status', status: 500 })
    expect((await api('/repos/acme/app/releases/tags/v1.0.0')).status).toBe(500)
    expect((await api('/repos/acme/app/releases')).status).toBe(503)
    expect((await api('/repos/acme/app/releases')).status).toBe(503)
    expect((await api('/repos/acme/app/releases')).status).toBe(200)
    emu.injectFault({
      target: 'storage',
      path: '/github-production-release-asset/*',
      kind: 'status',
      status: 502
    })
    const url = (await api(assetPath(ids.tarball), { accept: octet })).headers.location
    expect((await api(url, { token: null })).status).toBe(502)
    emu.injectFault({ target: 'storage', kind: 'status', status: 503 })
    const slow = await api(url, { token: null })
    expect([slow.status, slow.text.includes('<Code>SlowDown</Code>')]).toEqual([503, true])
    expect((await api(url, { token: null })).status).toBe(200)
    emu.injectFault({ target: 'api', method: 'POST', kind: 'status', status: 500 })
    expect((await api('/repos/acme/app/releases')).status).toBe(200) // method differs
    emu.clearFaults()
    expect(() => emu.injectFault({ target: 'api', kind: 'status', status: 404 as 500 })).toThrow()
  })

  test('reset on storage cuts the body after afterBytes; logged with status 0', async () => {
    const url = (await api(assetPath(ids.fromDisk), { accept: octet })).headers.location
    emu.injectFault({ target: 'storage', kind: 'reset', afterBytes: 1000 })
    emu.clearLog()
    await expect(api(url, { token: null })).rejects.toThrow()
    expect(await settledLog()).toEqual([
      expect.objectContaining({ target: 'storage', status: 0, bytes: 1000 })
    ])
    expect(emu.log()[0].error).toMatch(/injected reset after 1000 of 262144/)
    expect((await api(url, { token: null })).body.equals(diskBytes)).toBe(true)
  })

  test('reset on the API cuts a JSON body too', async () => {
    emu.injectFault({ target: 'api', kind: 'reset' })
    await expect(api('/repos/acme/app/releases')).rejects.toThrow()
    expect((await api('/repos/acme/app/releases')).status).toBe(200)
  })

  test('the log: arrival order, API query kept, storage query and Authorization values never', async () => {
    emu.clearLog()
    await api(`/repos/acme/app/releases/${ids.many}/assets?per_page=5&page=2`)
    const res = await api(assetPath(ids.tarball), { accept: octet })
    await api(res.headers.location, { token: null })
    const log = await settledLog()
    expect(log.map(e => [e.target, e.status, e.authorization])).toEqual([
      ['api', 200, true],
      ['api', 302, true],
      ['storage', 200, false]
    ])
    expect(log[0]).toMatchObject({
      method: 'GET',
      path: `/api/v3/repos/acme/app/releases/${ids.many}/assets`,
      query: 'per_page=5&page=2',
      userAgent: 'emulator-test'
    })
    expect(log[1].accept).toBe(octet)
    expect(log[2]).toMatchObject({ query: '', bytes: tarball.length })
    expect(log[2].endedAt).toBeGreaterThanOrEqual(log[2].startedAt)
    const all = JSON.stringify(log)
    expect(all).not.toContain(emu.token)
    expect(all).not.toContain('X-Amz')
  })
})

describe('real clients (§6)', () => {
  test('Octokit paginate over 120 assets follows the repository-ID Link URLs', async () => {
    const octokit = getOctokit(emu.token, { baseUrl: emu.apiUrl })
    emu.clearLog()
    const assets = await octokit.paginate(octokit.rest.repos.listReleaseAssets, {
      owner: 'acme',
      repo: 'app',
      release_id: ids.many,
      per_page: 100
    })
    expect(assets.map(a => a.name)).toHaveLength(120)
    expect(new Set(assets.map(a => a.id)).size).toBe(120)
    expect(emu.log().map(e => [e.path, e.query])).toEqual([
      [`/api/v3/repos/acme/app/releases/${ids.many}/assets`, 'per_page=100'],
      [`/api/v3/repositories/${ids.app}/releases/${ids.many}/assets`, 'per_page=100&page=2']
    ])
    expect(emu.log()[0].userAgent).toMatch(/octokit/)
  })

  test('Octokit: release by tag, and the 404 as a RequestError', async () => {
    const octokit = getOctokit(emu.token, { baseUrl: emu.apiUrl })
    const { data } = await octokit.rest.repos.getReleaseByTag({
      owner: 'acme',
      repo: 'app',
      tag: 'release/2.0'
    })
    expect(data.id).toBe(ids.slash)
    await expect(
      octokit.rest.repos.getReleaseByTag({ owner: 'acme', repo: 'app', tag: 'v3.0.0' })
    ).rejects.toMatchObject({
      status: 404,
      message: expect.stringMatching(/^Not Found - https:\/\/docs\.github\.com\/rest\/releases/)
    })
  })

  test('Octokit download (octet-stream, parseSuccessResponseBody: false) follows the 302 without the token', async () => {
    const octokit = getOctokit(emu.token, { baseUrl: emu.apiUrl })
    emu.clearLog()
    const res = await octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
      owner: 'acme',
      repo: 'app',
      asset_id: ids.fromDisk,
      headers: { accept: octet },
      request: { parseSuccessResponseBody: false }
    })
    expect(res.status).toBe(200)
    const stream = res.data as unknown as ReadableStream<Uint8Array>
    expect(Buffer.from(await new Response(stream).arrayBuffer()).equals(diskBytes)).toBe(true)
    expect((await settledLog()).map(e => [e.target, e.status, e.authorization])).toEqual([
      ['api', 302, true],
      ['storage', 200, false]
    ])
  })

  test('undici fetch (redirect: follow) drops Authorization on the hostname change', async () => {
    emu.clearLog()
    const res = await fetch(`${emu.apiUrl}${assetPath(ids.tarball)}`, {
      headers: { authorization: `token ${emu.token}`, accept: octet },
      redirect: 'follow'
    })
    expect(res.status).toBe(200)
    expect(Buffer.from(await res.arrayBuffer()).equals(tarball)).toBe(true)
    expect((await settledLog()).map(e => [e.target, e.authorization])).toEqual([
      ['api', true],
      ['storage', false]
    ])
  })

  test('@actions/http-client with BearerCredentialHandler re-sends the token: 400 echoing it (the defect)', async () => {
    const client = new HttpClient('emulator-test', [new BearerCredentialHandler(emu.token)])
    emu.clearLog()
    const res = await client.get(`${emu.apiUrl}${assetPath(ids.tarball)}`, { accept: octet })
    const body = await res.readBody()
    expect(res.message.statusCode).toBe(400)
    expect(body).toContain(`<ArgumentValue>Bearer ${emu.token}</ArgumentValue>`)
    expect((await settledLog()).map(e => [e.target, e.status, e.authorization])).toEqual([
      ['api', 302, true],
      ['storage', 400, true]
    ])
    // The same client with the token as a plain header: stripped on the hostname change.
    const plain = new HttpClient('emulator-test')
    const ok = await plain.get(`${emu.apiUrl}${assetPath(ids.tarball)}`, {
      accept: octet,
      authorization: `token ${emu.token}`
    })
    expect(ok.message.statusCode).toBe(200)
    expect(await ok.readBody()).toBe(tarball.toString('utf8'))
  })
})

describe('control routes and CLI', () => {
  const origin = (): string => new URL(emu.apiUrl).origin
  const control = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await request(`${origin()}/_emulator/${path}`, {
      method: method as 'GET',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const buf = Buffer.from(await res.body.arrayBuffer())
    const text = buf.toString('utf8')
    return {
      status: res.statusCode,
      headers: res.headers as Record<string, string>,
      body: buf,
      text,
      json: () => JSON.parse(text)
    }
  }

  test('repos, releases, assets (base64 and path), state, tokens, faults, log — never logged', async () => {
    emu.clearLog()
    const repo = await control('POST', 'repos', { owner: 'ctl', name: 'repo', private: true })
    expect(repo.status).toBe(201)
    expect((await control('POST', 'releases', { repo: 'ctl/repo', tag: 'v1' })).status).toBe(201)
    const b64 = await control('POST', 'assets', {
      repo: 'ctl/repo',
      tag: 'v1',
      name: 'a.txt',
      content: { base64: Buffer.from('hello').toString('base64') },
      state: 'starter'
    })
    expect(b64.json()).toEqual({
      id: expect.any(Number),
      digest: sha(Buffer.from('hello')),
      size: 5
    })
    const onDisk = await control('POST', 'assets', {
      repo: 'ctl/repo',
      tag: 'v1',
      name: 'disk.bin',
      content: { path: join(dir, 'disk.bin') },
      digest: null
    })
    expect(onDisk.json()).toMatchObject({ digest: null, size: diskBytes.length })
    const state = await control('POST', `assets/${b64.json().id}/state`, { state: 'uploaded' })
    expect(state.status).toBe(204)
    const token = (await control('POST', 'tokens', { repos: ['ctl/repo'] })).json().token
    expect((await api(assetPath(b64.json().id, 'ctl/repo'), { token })).json().state).toBe(
      'uploaded'
    )
    expect(
      (
        await api(assetPath(b64.json().id, 'ctl/repo'), {
          token: emu.createToken({ repos: ['acme/pub'] })
        })
      ).status
    ).toBe(404)
    expect(
      (
        await control('POST', 'faults', {
          target: 'api',
          path: { regex: 'ctl/repo' },
          kind: 'status',
          status: 502
        })
      ).status
    ).toBe(204)
    expect((await api('/repos/ctl/repo/releases', { token })).status).toBe(502)
    await control('POST', 'faults', { target: 'api', kind: 'status', status: 500 })
    expect((await control('DELETE', 'faults')).status).toBe(204)
    expect((await api('/repos/ctl/repo/releases', { token })).status).toBe(200)
    const log = (await control('GET', 'log')).json()
    expect(log.map((e: { path: string }) => e.path)).toEqual([
      `/api/v3/repos/ctl/repo/releases/assets/${b64.json().id}`,
      `/api/v3/repos/ctl/repo/releases/assets/${b64.json().id}`,
      '/api/v3/repos/ctl/repo/releases',
      '/api/v3/repos/ctl/repo/releases'
    ])
    expect((await control('DELETE', 'log')).status).toBe(204)
    expect(emu.log()).toEqual([])
    const bad = await control('POST', 'assets', {
      repo: 'ctl/repo',
      tag: 'v1',
      name: 'x',
      content: {}
    })
    expect([bad.status, bad.json().error]).toEqual([400, expect.stringMatching(/content must be/)])
    expect((await control('GET', 'nope')).status).toBe(404)
  })

  test('cli.ts --github prints GITHUB_API_URL, GITHUB_TOKEN, GITHUB_STORAGE_URL, GITHUB_REPOSITORY', async () => {
    const { child, lines, env } = await startCli(
      ['--github', '--github-repo', 'acme/tool'],
      'GITHUB_REPOSITORY'
    )
    expect(lines.map(l => l.split('=')[0])).toEqual([
      'POLAR_API_URL',
      'POLAR_TOKEN',
      'POLAR_ORGANIZATION_ID',
      'S3_URL',
      'GITHUB_API_URL',
      'GITHUB_TOKEN',
      'GITHUB_STORAGE_URL',
      'GITHUB_REPOSITORY'
    ])
    expect(env.GITHUB_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/)
    expect(env.GITHUB_STORAGE_URL).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/)
    expect(env.GITHUB_REPOSITORY).toBe('acme/tool')
    const get = (token: string | null): Promise<Answer> =>
      api(`${env.GITHUB_API_URL}/repos/acme/tool/releases`, { token })
    expect((await get(env.GITHUB_TOKEN)).status).toBe(200)
    expect((await get(null)).status).toBe(404) // created private
    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
  }, 20000)
})
