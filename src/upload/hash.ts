/**
 * One streaming read of a file computes the whole-file SHA-256 and every part's SHA-256.
 * Polar bakes each part's checksum into its presigned URL, so these are needed before create.
 * Memory stays at one read buffer whatever the file size.
 */
import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { PlanError } from '../errors.js'
import type { PartRange } from './parts.js'

export interface FileHashes {
  sha256Hex: string
  sha256Base64: string
  /** Base64 SHA-256 of each part, in part order. */
  partSha256Base64: string[]
}

const READ_CHUNK = 1024 * 1024

export async function hashFile(
  filePath: string,
  size: number,
  parts: PartRange[]
): Promise<FileHashes> {
  const whole = createHash('sha256')
  const partDigests: string[] = []
  let index = 0
  let part: Hash = createHash('sha256')
  let offset = 0

  const stream = createReadStream(filePath, { highWaterMark: READ_CHUNK })
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    whole.update(chunk)
    let at = 0
    while (at < chunk.length) {
      // The last part takes whatever remains, so a file that grew is caught by the size check.
      const partEnd = index < parts.length - 1 ? parts[index].end : Infinity
      const take = Math.min(chunk.length - at, partEnd - offset)
      part.update(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take))
      at += take
      offset += take
      if (offset === partEnd) {
        partDigests.push(part.digest('base64'))
        part = createHash('sha256')
        index++
      }
    }
  }
  partDigests.push(part.digest('base64'))
  if (offset !== size || partDigests.length !== parts.length) {
    throw new PlanError(
      `${filePath} changed while it was being read (${size} bytes expected, ${offset} read). ` +
        'Make sure no other step writes it during the upload.'
    )
  }
  const digest = whole.digest()
  return {
    sha256Hex: digest.toString('hex'),
    sha256Base64: digest.toString('base64'),
    partSha256Base64: partDigests
  }
}
