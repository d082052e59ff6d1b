/** S3 multipart limits Polar's uploads live under (S3's documented part limits). */
export const MIB = 1024 * 1024
/** Every part but the last must be at least this big. */
export const MIN_PART_SIZE = 5 * MIB
export const MAX_PART_SIZE = 5 * 1024 * MIB
export const MAX_PARTS = 10_000
