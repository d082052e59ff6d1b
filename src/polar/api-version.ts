/**
 * The Polar API version this release of the action pins, and Polar's quarterly schedule.
 * Polar ships a version in the first week of January, April, July and October; a version is
 * Next for three months, Current (frozen) for three, Deprecated for three, then removed: it
 * answers 404 {"detail":"Not Found"} with no Polar-Version header on every route.
 */

/** The Current version this release was built and checked against. */
export const PINNED_VERSION = '2026-10'
/** When the pin was last checked against Polar's served versions (and the spec compared). */
export const PIN_CHECKED_ON = '2026-12-04'

const VERSION = /^(\d{4})-(0[1-9]|1[0-2])$/

/** `YYYY-MM`, as Polar-Version takes it. */
export function isVersion(text: string): boolean {
  return VERSION.test(text)
}

/** The version `months` after `version` (both `YYYY-MM`). */
export function addMonths(version: string, months: number): string {
  const [, y, m] = VERSION.exec(version) ?? []
  const index = Number(y) * 12 + Number(m) - 1 + months
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December'
]

/** `2027-04` → `April 2027`. */
export function monthName(version: string): string {
  const [y, m] = version.split('-')
  return `${MONTHS[Number(m) - 1]} ${y}`
}

/**
 * From the quarter `version` is Deprecated (its month + 3) until it is removed (its month + 6),
 * the warning that Polar will remove it; null before. `now` is injectable for tests.
 */
export function deprecationWarning(version: string, pinned: boolean, now: Date): string | null {
  if (!isVersion(version)) return null
  const current = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`
  const deprecated = addMonths(version, 3)
  const removed = addMonths(version, 6)
  // Once removed, the run's first call tells (and falls back, or fails for an explicit one).
  if (current < deprecated || current >= removed) return null
  const what = pinned
    ? `Polar API version ${version}, which this release of polar-files-action pins,`
    : `Polar API version ${version} (the \`api-version\` input)`
  const fix = pinned
    ? 'update polar-files-action to a release that pins a newer version'
    : 'set `api-version` to a newer version (or leave it empty for the action’s pin)'
  return `${what} is deprecated: Polar will remove it in the first week of ${monthName(removed)}. Before then, ${fix}.`
}
