/** Fixtures shared by the unit tests. */
import type { FileRead } from '../../src/polar/types.js'

/**
 * A maker of Polar file records (`FileRead`), uploaded downloadables by default: each call gets
 * the next id from `idOf(n)` (n = 1, 2, …), so a test file's records never share one.
 */
export function fileReads(
  idOf: (n: number) => string
): (name: string, createdAt: string, extra?: Partial<FileRead>) => FileRead {
  let n = 0
  return (name, createdAt, extra = {}) => {
    n++
    return {
      id: idOf(n),
      organization_id: 'org',
      name,
      path: `org/x/${name}`,
      mime_type: 'application/zip',
      size: 1,
      checksum_sha256_base64: null,
      checksum_sha256_hex: null,
      version: null,
      service: 'downloadable',
      is_uploaded: true,
      created_at: createdAt,
      ...extra
    }
  }
}
