/** How a file is cut into S3 multipart parts. Pure. */
import { MAX_PART_SIZE, MAX_PARTS, MIB } from '../s3-limits.js'

export interface PartRange {
  number: number
  /** Inclusive. */
  start: number
  /** Exclusive, as Polar's chunk_end. */
  end: number
}

/** The requested part size, raised (to a whole MiB) so the file needs at most 10,000 parts. */
export function effectivePartSize(size: number, requested: number): number {
  if (size <= requested * MAX_PARTS) return requested
  return Math.ceil(size / MAX_PARTS / MIB) * MIB
}

/** True when even the largest part size cannot hold the file in 10,000 parts. */
export function tooLarge(size: number): boolean {
  return effectivePartSize(size, MAX_PART_SIZE) > MAX_PART_SIZE
}

/**
 * Contiguous parts covering [0, size): every part but the last exactly `partSize`, no empty
 * trailing part. An empty file is one empty part (S3 rejects a completion with zero parts).
 */
export function layoutParts(size: number, partSize: number): PartRange[] {
  if (size === 0) return [{ number: 1, start: 0, end: 0 }]
  const parts: PartRange[] = []
  for (let start = 0, number = 1; start < size; start += partSize, number++) {
    parts.push({ number, start, end: Math.min(start + partSize, size) })
  }
  return parts
}
