/** GitHub's JSON shapes: release (contract §2), asset (§3), error bodies (§7). */
import type { Asset, Release, Repo } from './state.js'

export interface Urls {
  /** With the prefix: 'http://127.0.0.1:PORT/api/v3'. */
  apiUrl: string
  /** The web origin (GHES: the API origin). */
  serverUrl: string
}

export const API_VERSION = '2022-11-28'
const DOCS = 'https://docs.github.com/rest'

/** Per-route documentation_url, as GitHub puts in its error bodies. */
export const DOC = {
  generic: DOCS,
  releaseByTag: `${DOCS}/releases/releases#get-a-release-by-tag-name`,
  release: `${DOCS}/releases/releases#get-a-release`,
  releases: `${DOCS}/releases/releases#list-releases`,
  assets: `${DOCS}/releases/assets#list-release-assets`,
  asset: `${DOCS}/releases/assets#get-a-release-asset`
}

/** `status` is a string in GitHub's bodies. */
export function errorBody(status: number, message: string, doc = DOCS): Record<string, string> {
  return { message, documentation_url: doc, status: String(status) }
}

function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(`emulator:${id}`).toString('base64url')}`
}

const BOT = {
  login: 'github-actions[bot]',
  id: 41898282,
  node_id: 'MDM6Qm90NDE4OTgyODI=',
  type: 'Bot',
  site_admin: false
}

function repoPath(urls: Urls, repo: Repo): string {
  return `${urls.apiUrl}/repos/${repo.owner}/${repo.name}`
}

export function assetJson(urls: Urls, a: Asset): Record<string, unknown> {
  const repo = a.release.repo
  const uploaded = a.state === 'uploaded'
  return {
    url: `${repoPath(urls, repo)}/releases/assets/${a.id}`,
    id: a.id,
    node_id: nodeId('RA', a.id),
    name: a.name,
    label: a.label,
    uploader: BOT,
    content_type: a.contentType,
    state: a.state,
    size: a.size,
    // Null until the upload completes (contract §3: "?" for starter assets; the safe reading).
    digest: uploaded ? a.digest : null,
    download_count: a.downloadCount,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
    browser_download_url: `${urls.serverUrl}/${repo.owner}/${repo.name}/releases/download/${encodeURIComponent(a.release.tag)}/${encodeURIComponent(a.name)}`
  }
}

export function releaseJson(urls: Urls, r: Release, embedLimit: number): Record<string, unknown> {
  const base = `${repoPath(urls, r.repo)}/releases/${r.id}`
  const web = `${urls.serverUrl}/${r.repo.owner}/${r.repo.name}`
  return {
    url: base,
    assets_url: `${base}/assets`,
    upload_url: `${urls.serverUrl}/api/uploads/repos/${r.repo.owner}/${r.repo.name}/releases/${r.id}/assets{?name,label}`,
    html_url: `${web}/releases/tag/${encodeURIComponent(r.tag)}`,
    id: r.id,
    author: BOT,
    node_id: nodeId('RE', r.id),
    tag_name: r.tag,
    target_commitish: 'main',
    name: r.tag,
    draft: r.draft,
    immutable: r.immutable,
    prerelease: r.prerelease,
    created_at: r.createdAt,
    updated_at: r.createdAt,
    published_at: r.publishedAt,
    // Embedded list capped on purpose: its completeness is undocumented (contract §2).
    assets: r.assets.slice(0, embedLimit).map(a => assetJson(urls, a)),
    tarball_url: `${repoPath(urls, r.repo)}/tarball/${encodeURIComponent(r.tag)}`,
    zipball_url: `${repoPath(urls, r.repo)}/zipball/${encodeURIComponent(r.tag)}`,
    body: ''
  }
}
