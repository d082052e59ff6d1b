/**
 * Which files are alive, by ID, for the benefit swap and the retire phase: what the run's own
 * listing showed, and Polar (`GET /v1/files/?ids=`) for the IDs it has not seen.
 */
import type { PolarClient } from './polar/client.js'
import type { FileRead } from './polar/types.js'

/** The live files among some IDs: an ID Polar no longer has is absent. */
export type Live = Map<string, FileRead>

/** Which files are alive, by ID: the run's listing, then Polar for IDs it has not seen. */
export class LiveFiles {
  private readonly known = new Map<string, FileRead | null>()

  constructor(
    private readonly client: PolarClient,
    files: FileRead[]
  ) {
    for (const f of files) this.known.set(f.id, f)
  }

  add(file: FileRead): void {
    this.known.set(file.id, file)
  }

  /** Looked up again on the next `live()` (a 422 said one of them is gone). */
  forget(ids: string[]): void {
    for (const id of ids) this.known.delete(id)
  }

  async live(ids: string[]): Promise<Live> {
    const unknown = [...new Set(ids.filter(id => !this.known.has(id)))]
    if (unknown.length > 0) {
      const found = new Map((await this.client.getFiles(unknown)).map(f => [f.id, f]))
      for (const id of unknown) this.known.set(id, found.get(id) ?? null)
    }
    const out: Live = new Map()
    for (const id of ids) {
      const f = this.known.get(id)
      if (f) out.set(id, f)
    }
    return out
  }
}
