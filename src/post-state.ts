/**
 * What the main step leaves for its `post:` step: the IDs of files it created that are not
 * finished yet (not completed, not deleted), saved to the step state at every change, so a
 * step killed past its cancel grace (job timeout, lost runner) still has them written down.
 */

/** Step-state names (the runner hands them to the post step as STATE_<name>). */
export const POST_STATE = {
  isPost: 'isPost',
  unfinished: 'unfinishedFileIds'
} as const

/** A set of IDs that reports its whole content after each change. */
export class SavedSet extends Set<string> {
  constructor(private readonly save?: (ids: string[]) => void) {
    super()
  }

  override add(id: string): this {
    const had = this.has(id)
    super.add(id)
    if (!had) this.save?.([...this])
    return this
  }

  override delete(id: string): boolean {
    const had = super.delete(id)
    if (had) this.save?.([...this])
    return had
  }
}

/** The IDs the main step left unfinished, from the state value; [] when none or unreadable. */
export function parseUnfinished(value: string | undefined): string[] {
  if (!value) return []
  try {
    const ids = JSON.parse(value) as unknown
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : []
  } catch {
    return []
  }
}
