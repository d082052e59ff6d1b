/** Which assets of a release the `files` patterns select, and what is still missing. Pure. */
import { minimatch } from 'minimatch'

/** The fields of a GitHub release asset the source uses (REST `release-asset`). */
export interface Asset {
  id: number
  name: string
  size: number
  /** `uploaded` is downloadable; `starter` (and `open`) are still being uploaded. */
  state: string
  /** `sha256:<hex>`, or null (assets from before 2025-06, older GHES). */
  digest: string | null
}

export interface Selection {
  /** Selected assets, sorted by name. */
  chosen: Asset[]
  /** Include patterns (not `!`) that matched no asset. */
  unmatched: string[]
  /** Chosen assets not uploaded yet. */
  pending: Asset[]
}

/**
 * Empty `files` selects every asset (and a release with none is unmatched, as `*`);
 * otherwise as local patterns, over asset names.
 */
export function selectAssets(assets: Asset[], patterns: string[]): Selection {
  const options = { dot: true, nocomment: true, nonegate: true }
  const includes = patterns.filter(p => !p.startsWith('!'))
  const excludes = patterns.filter(p => p.startsWith('!')).map(p => p.slice(1))
  const excluded = (a: Asset) => excludes.some(p => minimatch(a.name, p, options))
  const chosen = new Map<number, Asset>()
  const unmatched: string[] = []
  for (const line of includes.length ? includes : ['*']) {
    const hits = assets.filter(a => minimatch(a.name, line, options) && !excluded(a))
    if (hits.length === 0) unmatched.push(line)
    for (const a of hits) chosen.set(a.id, a)
  }
  const sorted = [...chosen.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  )
  return { chosen: sorted, unmatched, pending: sorted.filter(a => a.state !== 'uploaded') }
}

/** The lowercase hex of a `sha256:` digest, or null when GitHub gave none we can use. */
export function digestHex(digest: string | null): string | null {
  const m = /^sha256:([0-9a-f]{64})$/i.exec(digest ?? '')
  return m ? m[1].toLowerCase() : null
}
