/** Repositories, releases, assets and tokens, with GitHub's visibility rules (contract §1, §7). */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { AddAsset, AssetServe, AssetState, CreateToken } from './types.js'

export interface Repo {
  id: number
  owner: string
  name: string
  private: boolean
  releases: Release[]
}

export interface Release {
  id: number
  repo: Repo
  tag: string
  draft: boolean
  prerelease: boolean
  immutable: boolean
  createdAt: string
  publishedAt: string | null
  assets: Asset[]
}

/** Where an asset's bytes live: in memory (small test assets) or on disk (streamed, never loaded). */
export type Content = { buffer: Buffer } | { path: string }

export interface Asset {
  id: number
  release: Release
  name: string
  label: string | null
  contentType: string
  size: number
  state: AssetState
  /** What is served once `uploaded` (null = legacy asset). */
  digest: string | null
  content: Content
  serve: AssetServe
  /** The object key on the storage host. */
  storageKey: string
  createdAt: string
  updatedAt: string
  downloadCount: number
}

export interface Token {
  value: string
  /** null = every repository. */
  repos: Set<number> | null
  permission: 'read' | 'none'
}

export type Access =
  { kind: 'read'; drafts: boolean } | { kind: 'not-found' } | { kind: 'forbidden' }

const STATES: AssetState[] = ['uploaded', 'starter', 'open']
const SERVES: AssetServe[] = ['redirect', 'direct', 'html-200']
const DIGEST = /^sha256:[0-9a-f]{64}$/

/** GitHub's timestamps: second precision, 'Z'. */
export function githubTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

async function measure(content: Content): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  if ('buffer' in content)
    return { size: content.buffer.length, sha256: hash.update(content.buffer).digest('hex') }
  let size = 0
  await pipeline(
    createReadStream(content.path),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        size += chunk.length
        hash.update(chunk)
        done()
      }
    })
  )
  return { size, sha256: hash.digest('hex') }
}

export class GitHubState {
  private repos: Repo[] = []
  private tokens = new Map<string, Token>()
  private assetsById = new Map<number, Asset>()
  private assetsByKey = new Map<string, Asset>()
  private timers = new Set<NodeJS.Timeout>()
  // One counter for every id, as GitHub's ids are global and never reused.
  private nextId = 1000

  private id(): number {
    return this.nextId++
  }

  createToken(o: CreateToken = {}): string {
    const permission = o.permission ?? 'read'
    if (permission !== 'read' && permission !== 'none')
      throw new Error("token permission must be 'read' or 'none'")
    const repos = o.repos === undefined ? null : new Set(o.repos.map(r => this.requireRepo(r).id))
    // ghs_ = an installation token, as GITHUB_TOKEN is.
    const value = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`
    this.tokens.set(value, { value, repos, permission })
    return value
  }

  token(value: string): Token | undefined {
    return this.tokens.get(value)
  }

  addRepo(o: { owner: string; name: string; private?: boolean }): { id: number } {
    const valid = /^[A-Za-z0-9_.-]+$/
    if (!valid.test(o?.owner ?? '') || !valid.test(o?.name ?? ''))
      throw new Error(`addRepo: invalid owner/name ${JSON.stringify(o)}`)
    if (this.repoByName(o.owner, o.name)) throw new Error(`addRepo: ${o.owner}/${o.name} exists`)
    const repo: Repo = {
      id: this.id(),
      owner: o.owner,
      name: o.name,
      private: o.private ?? false,
      releases: []
    }
    this.repos.push(repo)
    return { id: repo.id }
  }

  /** GitHub matches owner and name case-insensitively. */
  repoByName(owner: string, name: string): Repo | undefined {
    const o = owner.toLowerCase()
    const n = name.toLowerCase()
    return this.repos.find(r => r.owner.toLowerCase() === o && r.name.toLowerCase() === n)
  }

  repoById(id: number): Repo | undefined {
    return this.repos.find(r => r.id === id)
  }

  requireRepo(full: string): Repo {
    const [owner, name, extra] = String(full).split('/')
    const repo = extra === undefined && name ? this.repoByName(owner, name) : undefined
    if (!repo) throw new Error(`unknown repository ${JSON.stringify(full)} (expected owner/name)`)
    return repo
  }

  addRelease(o: {
    repo: string
    tag: string
    draft?: boolean
    prerelease?: boolean
    immutable?: boolean
  }): { id: number } {
    const repo = this.requireRepo(o.repo)
    if (typeof o.tag !== 'string' || o.tag === '') throw new Error('addRelease: tag is required')
    if (repo.releases.some(r => r.tag === o.tag))
      throw new Error(`addRelease: ${o.repo} already has a release for tag ${o.tag}`)
    const now = githubTime()
    const draft = o.draft ?? false
    const release: Release = {
      id: this.id(),
      repo,
      tag: o.tag,
      draft,
      prerelease: o.prerelease ?? false,
      immutable: o.immutable ?? false,
      createdAt: now,
      publishedAt: draft ? null : now,
      assets: []
    }
    repo.releases.push(release)
    return { id: release.id }
  }

  async addAsset(o: AddAsset): Promise<{ id: number; digest: string | null; size: number }> {
    const repo = this.requireRepo(o.repo)
    const release = repo.releases.find(r => r.tag === o.tag)
    if (!release) throw new Error(`addAsset: ${o.repo} has no release ${JSON.stringify(o.tag)}`)
    if (typeof o.name !== 'string' || o.name === '') throw new Error('addAsset: name is required')
    // GitHub refuses a second asset with the same name (422 already_exists).
    if (release.assets.some(a => a.name === o.name))
      throw new Error(`addAsset: ${o.tag} already has an asset named ${o.name}`)
    const state = o.state ?? 'uploaded'
    if (!STATES.includes(state)) throw new Error(`addAsset: unknown state ${String(state)}`)
    const serve = o.serve ?? 'redirect'
    if (!SERVES.includes(serve)) throw new Error(`addAsset: unknown serve ${String(serve)}`)
    const content: Content = Buffer.isBuffer(o.content)
      ? { buffer: o.content }
      : typeof o.content?.path === 'string'
        ? { path: o.content.path }
        : (() => {
            throw new Error('addAsset: content must be a Buffer or {path}')
          })()
    const requested = o.digest === undefined ? 'auto' : o.digest
    // Hash only when the digest is ours to compute (1 GiB takes seconds); otherwise just the size.
    const measured =
      requested === 'auto'
        ? await measure(content)
        : { size: await contentSize(content), sha256: '' }
    const digest = requested === 'auto' ? `sha256:${measured.sha256}` : requested
    if (digest !== null && typeof digest !== 'string') throw new Error('addAsset: bad digest')
    if (typeof digest === 'string' && !DIGEST.test(digest))
      console.warn(`GitHub emulator: asset ${o.name} gets a malformed digest ${digest} (as asked)`)
    const now = githubTime()
    const asset: Asset = {
      id: this.id(),
      release,
      name: o.name,
      label: o.label ?? null,
      contentType: o.contentType ?? 'application/octet-stream',
      size: measured.size,
      state,
      digest,
      content,
      serve,
      storageKey: randomUUID(),
      createdAt: now,
      updatedAt: now,
      downloadCount: 0
    }
    release.assets.push(asset)
    this.assetsById.set(asset.id, asset)
    this.assetsByKey.set(asset.storageKey, asset)
    if (o.uploadedAfterMs !== undefined) {
      if (!(o.uploadedAfterMs >= 0)) throw new Error('addAsset: uploadedAfterMs must be >= 0')
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        this.setAssetState(asset.id, 'uploaded')
      }, o.uploadedAfterMs)
      timer.unref()
      this.timers.add(timer)
    }
    return { id: asset.id, digest, size: measured.size }
  }

  setAssetState(id: number, state: AssetState): void {
    const asset = this.assetsById.get(id)
    if (!asset) throw new Error(`setAssetState: unknown asset ${id}`)
    if (!STATES.includes(state)) throw new Error(`setAssetState: unknown state ${String(state)}`)
    asset.state = state
    asset.updatedAt = githubTime()
  }

  asset(id: number): Asset | undefined {
    return this.assetsById.get(id)
  }

  assetByStorageKey(key: string): Asset | undefined {
    return this.assetsByKey.get(key)
  }

  /**
   * Contents read: public repositories are readable by anyone (drafts excepted); a private one
   * is 404 without a token that covers it, and 403 for a covering token without the permission.
   * Drafts are shown to tokens with read access (GitHub wants push access; the emulator has no
   * write level).
   */
  access(token: Token | null, repo: Repo): Access {
    const covers = token !== null && (token.repos === null || token.repos.has(repo.id))
    if (covers && token.permission === 'read') return { kind: 'read', drafts: true }
    if (!repo.private) return { kind: 'read', drafts: false }
    return covers ? { kind: 'forbidden' } : { kind: 'not-found' }
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}

/** Bytes on disk now (an asset file changed after addAsset is an emulator-user bug). */
export async function contentSize(content: Content): Promise<number> {
  return 'buffer' in content ? content.buffer.length : (await stat(content.path)).size
}
