/** Pure parsers for human-written sizes and durations. They return null on bad input. */

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3
}

/** `16MiB`, `5 MB`, `10000000` → bytes (whole numbers only). */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  if (!m) return null
  const unit = SIZE_UNITS[m[2].toLowerCase()]
  if (unit === undefined) return null
  const bytes = Number(m[1]) * unit
  return Number.isSafeInteger(bytes) ? bytes : null
}

const DURATION_UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

/** `90d`, `12h`, `30m`, `45s`, `2w`, `0` → milliseconds. */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase()
  if (t === '0') return 0
  const m = /^(\d+)\s*([smhdw])$/.exec(t)
  if (!m) return null
  return Number(m[1]) * DURATION_UNITS[m[2]]
}

/** 1536 → `1.5 KiB`; for logs and summaries. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let i = 0
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024
    i++
  }
  // Rates are fractions: whole bytes below 1 KiB, never `74.99999999999999 B`.
  return i === 0 ? `${Math.round(bytes)} B` : `${value.toFixed(1)} ${units[i]}`
}
