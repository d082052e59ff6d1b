/**
 * Polar's API versions as its version middleware serves them (server `kit/versioning.py`):
 * a few versions at a time, one of them Current (the answer when no Polar-Version is sent).
 * An unknown, malformed or removed version is turned away before routing: 404
 * {"detail":"Not Found"} with no Polar-Version header. Every served answer echoes the version.
 */

export interface VersionSettings {
  /** Every version served (Deprecated, Current, Next…). */
  served: string[]
  /** The one used when a request sends no Polar-Version; must be served. */
  current: string
}

/** As of December 2026: 2026-04 Deprecated, 2026-10 Current, 2027-01 Next. */
export const DEFAULT_VERSIONS: VersionSettings = {
  served: ['2026-04', '2026-10', '2027-01'],
  current: '2026-10'
}

const VERSION = /^\d{4}-(0[1-9]|1[0-2])$/

function shift(version: string, months: number): string {
  const [y, m] = version.split('-').map(Number)
  const index = y * 12 + m - 1 + months
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`
}

/**
 * Polar after the release of `quarter` (`YYYY-01|04|07|10`, first week of that month): the
 * quarter before it Deprecated, it Current, the next one Next. `2027-01` serves 2026-10,
 * 2027-01 and 2027-04; `2027-04` serves 2027-01, 2027-04 and 2027-07.
 */
export function versionsAt(quarter: string): VersionSettings {
  if (!VERSION.test(quarter) || (Number(quarter.slice(5)) - 1) % 3 !== 0) {
    throw new Error(`a Polar release quarter is YYYY-01, -04, -07 or -10, got ${quarter}`)
  }
  return { served: [shift(quarter, -3), quarter, shift(quarter, 3)], current: quarter }
}

export function checkVersions(v: VersionSettings): VersionSettings {
  if (!Array.isArray(v.served) || v.served.length === 0 || v.served.some(s => !VERSION.test(s))) {
    throw new Error('served versions must be a non-empty list of YYYY-MM')
  }
  if (!v.served.includes(v.current)) {
    throw new Error(`the current version ${v.current} must be one of the served versions`)
  }
  return { served: [...v.served], current: v.current }
}

export class ApiVersions {
  private settings: VersionSettings

  constructor(initial: VersionSettings = DEFAULT_VERSIONS) {
    this.settings = checkVersions(initial)
  }

  set(v: VersionSettings): void {
    this.settings = checkVersions(v)
  }

  get(): VersionSettings {
    return { served: [...this.settings.served], current: this.settings.current }
  }

  /** The version a request is served with, or null when the middleware turns it away. */
  resolve(header: string | string[] | undefined): string | null {
    if (header === undefined) return this.settings.current
    if (Array.isArray(header)) return null
    return this.settings.served.includes(header) ? header : null
  }
}
