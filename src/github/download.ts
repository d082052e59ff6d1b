/**
 * Downloads release assets into a folder under RUNNER_TEMP, streaming (memory stays flat
 * whatever the size), counting and hashing the bytes as they arrive, then checking them
 * against the asset's size and GitHub's `digest`: an HTML error page served with 200, a cut
 * connection or a corrupted asset never reaches Polar. A failed attempt asks the API again
 * (storage URLs are short-lived).
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AssetMismatchError } from '../errors.js'
import { describeError, type Logger } from '../log.js'
import { delay, isNetworkError, withRetry, type RetryPolicy } from '../retry.js'
import { StorageStatus, type GitHubReleases } from './client.js'
import { digestHex, type Asset } from './select.js'

export interface Downloaded {
  path: string
  sha256Hex: string
}

export interface DownloadDeps {
  github: GitHubReleases
  retry: RetryPolicy
  logger: Logger
  cancel?: AbortSignal
}

export async function downloadAsset(
  asset: Asset,
  dir: string,
  deps: DownloadDeps
): Promise<Downloaded> {
  const path = join(dir, String(asset.id)) // not the name: nothing of it reaches a path
  const expected = digestHex(asset.digest)
  const attempt = async (): Promise<Downloaded> => {
    const source = await deps.github.open(asset)
    const hash = createHash('sha256')
    let bytes = 0
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length
        // More than GitHub said: an error page or the wrong object; stop reading it.
        if (bytes > asset.size) return done(tooLong(asset, bytes))
        hash.update(chunk)
        done(null, chunk)
      }
    })
    await pipeline(source, count, createWriteStream(path), { signal: deps.cancel })
    if (bytes !== asset.size) throw tooLong(asset, bytes)
    const sha256Hex = hash.digest('hex')
    if (expected && sha256Hex !== expected) {
      throw new AssetMismatchError(
        asset.name,
        'digest',
        `Release asset ${asset.name}: its SHA-256 (${sha256Hex}) is not the digest GitHub gives ` +
          `for it (${expected}). Nothing was published; check the release's asset.`
      )
    }
    return { path, sha256Hex }
  }
  return withRetry(
    attempt,
    deps.retry,
    error => {
      if (deps.cancel?.aborted) return { retriable: false }
      // A wrong size is usually an error page or a cut transfer; a wrong digest at the right
      // size is the asset itself, and downloading it again would not change it.
      if (error instanceof AssetMismatchError) return { retriable: error.what === 'size' }
      if (error instanceof StorageStatus) {
        return { retriable: error.status === 403 || error.status === 429 || error.status >= 500 }
      }
      return { retriable: isNetworkError(error) }
    },
    (error, n, wait) =>
      deps.logger.info(
        `${asset.name}: download failed (${describeError(error)}); retry ${n}/${deps.retry.retries} ` +
          `in ${(wait / 1000).toFixed(1)} s`
      ),
    ms => delay(ms, deps.cancel)
  )
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
