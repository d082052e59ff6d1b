/**
 * Downloads release assets into a folder under RUNNER_TEMP, streaming (memory stays flat
 * whatever the size), counting and hashing the bytes as they arrive, then checking them
 * against the asset's size and GitHub's `digest`: an HTML error page served with 200, a cut
 * connection or a corrupted asset never reaches Polar. A failed attempt asks the API again
 * (storage URLs are short-lived).
 */
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AssetMismatchError } from '../errors.js'
import { describeError, type Logger } from '../log.js'
import { isNetworkError, withRetry, type RetryPolicy } from '../retry.js'
import { StreamHasher, type FileHashes } from '../upload/hash.js'
import type { PartRange } from '../upload/parts.js'
import { StorageRefusal, type GitHubReleases } from './client.js'
import { digestHex, type Asset } from './select.js'

export interface Downloaded {
  path: string
  /** Whole-file and per-part SHA-256, computed as the bytes arrived: no second pass. */
  hashes: FileHashes
}

export interface DownloadDeps {
  github: GitHubReleases
  retry: RetryPolicy
  logger: Logger
  signal?: AbortSignal
}

/** `parts`: how the file will be cut for its upload (its part hashes are computed on the way). */
export async function downloadAsset(
  asset: Asset,
  dir: string,
  parts: PartRange[],
  deps: DownloadDeps
): Promise<Downloaded> {
  const path = join(dir, String(asset.id)) // not the name: nothing of it reaches a path
  const expected = digestHex(asset.digest)
  const attempt = async (): Promise<Downloaded> => {
    const source = await deps.github.open(asset)
    const hasher = new StreamHasher(parts)
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        // More than GitHub said: an error page or the wrong object; stop reading it.
        if (hasher.bytes + chunk.length > asset.size) {
          return done(tooLong(asset, hasher.bytes + chunk.length))
        }
        hasher.update(chunk)
        done(null, chunk)
      }
    })
    await pipeline(source, count, createWriteStream(path), { signal: deps.signal })
    if (hasher.bytes !== asset.size) throw tooLong(asset, hasher.bytes)
    const { whole, partDigests } = hasher.digest()
    const sha256Hex = whole.toString('hex')
    if (expected && sha256Hex !== expected) {
      throw new AssetMismatchError(
        asset.name,
        'digest',
        `Release asset ${asset.name}: its SHA-256 (${sha256Hex}) is not the digest GitHub gives ` +
          `for it (${expected}). Nothing was published; check the release's asset.`
      )
    }
    return {
      path,
      hashes: {
        sha256Hex,
        sha256Base64: whole.toString('base64'),
        partSha256Base64: partDigests
      }
    }
  }
  return withRetry(attempt, {
    policy: deps.retry,
    classify: error => {
      // A wrong size is usually an error page or a cut transfer; a wrong digest at the right
      // size is the asset itself, and downloading it again would not change it.
      if (error instanceof AssetMismatchError) return { retriable: error.what === 'size' }
      if (error instanceof StorageRefusal) {
        return { retriable: error.status === 403 || error.status === 429 || error.status >= 500 }
      }
      return { retriable: isNetworkError(error) }
    },
    signal: deps.signal,
    logger: deps.logger,
    label: asset.name,
    describe: error => `download failed (${describeError(error)})`
  })
}

function tooLong(asset: Asset, bytes: number): AssetMismatchError {
  const why = '(an error page, or a cut download). Nothing was published.'
  return new AssetMismatchError(
    asset.name,
    'size',
    bytes > asset.size
      ? `Release asset ${asset.name}: the download ran past the ${asset.size} bytes GitHub lists ${why}`
      : `Release asset ${asset.name}: the download ended at ${bytes} bytes, short of the ${asset.size} bytes GitHub lists ${why}`
  )
}
