/**
 * Typed calls to Polar's Files and Benefits API: one method an endpoint, each answer checked
 * before it is used, lists read whole. The requests themselves (pacing, Polar-Version,
 * timeouts, retries) are transport.ts's; what a failure means to the user is api-errors.ts's.
 */
import { PolarApiError } from '../errors.js'
import { PINNED_VERSION } from './api-version.js'
import { checkBenefit, checkFileRead, checkFileUpload, checkList } from './check.js'
import { PolarTransport, type TransportOptions } from './transport.js'
import type {
  BenefitDownloadables,
  DownloadableFileCreate,
  FileRead,
  FileUpload,
  FileUploadCompleted
} from './types.js'

const PAGE_LIMIT = 100
const PAGE_FETCH_CONCURRENCY = 4

export { retiredWarning, VersionNotServedError } from './api-errors.js'

export interface PolarClientOptions extends TransportOptions {
  organizationId: string | null
}

/** For a call whose turn was taken ahead with `reserve()`. */
export interface Turn {
  prepaid?: boolean
}

export class PolarClient {
  private readonly transport: PolarTransport

  constructor(private readonly options: PolarClientOptions) {
    this.transport = new PolarTransport(options, PINNED_VERSION, this.orgQuery())
  }

  /** The pin Polar retired in this run, and the version it answered with instead. */
  get retired(): { version: string; answered: string | null } | null {
    return this.transport.retired
  }

  close(): Promise<void> {
    return this.transport.close()
  }

  /** Every file of the organization visible to the list endpoint (completed, not deleted). */
  listFiles(signal?: AbortSignal): Promise<FileRead[]> {
    return this.listAll<FileRead>('/v1/files/', this.orgQuery(), checkFileRead, signal)
  }

  /** The completed files among `ids` (Polar has no single-file GET). */
  async getFiles(ids: string[]): Promise<FileRead[]> {
    const query: [string, string][] = [
      ...this.orgQuery(),
      ...ids.map(id => ['ids', id] as [string, string])
    ]
    return this.listAll<FileRead>('/v1/files/', query, checkFileRead)
  }

  async createFile(body: DownloadableFileCreate): Promise<FileUpload> {
    const payload = this.options.organizationId
      ? { ...body, organization_id: this.options.organizationId }
      : body
    const created = await this.transport.call<unknown>('POST', '/v1/files/', {
      body: payload,
      expect: 201,
      ambiguousRetryWarning:
        `Creating ${body.name} failed in a way Polar may have acted on; sending it again. ` +
        'If Polar did create it, that upload stays incomplete: invisible to customers and to ' +
        "Polar's file list, and it cannot be deleted without the ID Polar never returned."
    })
    try {
      return checkFileUpload(created, 'POST /v1/files/')
    } catch (error) {
      // Created, but unusable: deleted before the error goes up (nothing left unfinished).
      const id = (created as { id?: unknown } | null)?.id
      if (typeof id !== 'string') throw error
      const left = await this.deleteFile(id).then(
        () => '',
        () => ` The created file ${id} could not be deleted: delete it with DELETE /v1/files/${id}.`
      )
      throw new Error(`${(error as Error).message}${left}`, { cause: error })
    }
  }

  /**
   * Completes the S3 multipart upload. Not idempotent, and S3 failures come back as 500:
   * after an ambiguous failure, look the file up and only call again if it is not uploaded.
   */
  async completeUpload(id: string, body: FileUploadCompleted): Promise<FileRead> {
    const done = await this.transport.call<unknown>('POST', `/v1/files/${id}/uploaded`, {
      body,
      expect: 200,
      // S3 assembles every part before Polar answers: a 10,000-part file takes a while.
      timeoutMs: 5 * 60_000,
      beforeRetry: async () => (await this.getFiles([id])).find(f => f.id === id && f.is_uploaded)
    })
    return checkFileRead(done, `POST /v1/files/${id}/uploaded`)
  }

  async updateFileVersion(id: string, version: string): Promise<FileRead> {
    const route = `/v1/files/${id}`
    const file = await this.transport.call<unknown>('PATCH', route, {
      body: { version },
      expect: 200
    })
    return checkFileRead(file, `PATCH ${route}`)
  }

  /** Deletes a file; 'gone' when Polar says it no longer exists (deleted already, e.g. by a retry). */
  async deleteFile(id: string): Promise<'deleted' | 'gone'> {
    try {
      await this.transport.call<void>('DELETE', `/v1/files/${id}`, { expect: 204 })
      return 'deleted'
    } catch (error) {
      if (error instanceof PolarApiError && error.status === 404) return 'gone'
      throw error
    }
  }

  /**
   * Waits until `calls` requests may go out, and takes their turns at once: calls made next
   * with `{ prepaid: true }` are sent back to back (a benefit read and the PATCH built from it).
   */
  reserve(calls: number): Promise<void> {
    return this.transport.reserve(calls)
  }

  async getBenefit(id: string, turn: Turn = {}): Promise<BenefitDownloadables> {
    const benefit = await this.transport.call<unknown>('GET', `/v1/benefits/${id}`, {
      expect: 200,
      prepaid: turn.prepaid
    })
    return checkBenefit(benefit, `GET /v1/benefits/${id}`)
  }

  listDownloadablesBenefits(signal?: AbortSignal): Promise<BenefitDownloadables[]> {
    // Oldest first, so benefits created while we page are appended, not shifted into read pages.
    return this.listAll<BenefitDownloadables>(
      '/v1/benefits/',
      [...this.orgQuery(), ['type', 'downloadables'], ['sorting', 'created_at']],
      checkBenefit,
      signal,
      true
    )
  }

  async patchBenefitFiles(
    id: string,
    files: string[],
    archived: Record<string, boolean>,
    turn: Turn = {}
  ): Promise<BenefitDownloadables> {
    const benefit = await this.transport.call<unknown>('PATCH', `/v1/benefits/${id}`, {
      body: { type: 'downloadables', properties: { files, archived } },
      expect: 200,
      prepaid: turn.prepaid,
      noRetry: true
    })
    return checkBenefit(benefit, `PATCH /v1/benefits/${id}`)
  }

  private orgQuery(): [string, string][] {
    return this.options.organizationId ? [['organization_id', this.options.organizationId]] : []
  }

  /**
   * All pages: the first one tells how many there are, the rest are fetched concurrently.
   * Pages have no defined order and may shift under concurrent writes, so items are
   * de-duplicated by ID, and a pass that comes up short of total_count is read once more.
   */
  private async listAll<T extends { id: string }>(
    path: string,
    query: [string, string][],
    item: (v: unknown, endpoint: string, at: string) => T,
    signal?: AbortSignal,
    /** Every item or an error: the benefits protect files, a missed one would not. */
    complete = false
  ): Promise<T[]> {
    const byId = new Map<string, T>()
    let expected = 0
    for (let pass = 0; pass < 2; pass++) {
      const page = async (n: number) =>
        checkList(
          await this.transport.call<unknown>('GET', path, {
            query: [...query, ['page', String(n)], ['limit', String(PAGE_LIMIT)]],
            expect: 200,
            signal
          }),
          `GET ${path}`,
          item
        )
      const first = await page(1)
      const pages = [first]
      const rest: number[] = []
      for (let n = 2; n <= first.pagination.max_page; n++) rest.push(n)
      for (let i = 0; i < rest.length; i += PAGE_FETCH_CONCURRENCY) {
        pages.push(...(await Promise.all(rest.slice(i, i + PAGE_FETCH_CONCURRENCY).map(page))))
      }
      for (const p of pages) {
        expected = Math.max(expected, p.pagination.total_count)
        for (const item of p.items) byId.set(item.id, item)
      }
      if (byId.size >= expected) break
    }
    if (byId.size < expected && complete) {
      throw new Error(
        `GET ${path}: read ${byId.size} of ${expected} items (pages shifted while they were ` +
          'read), so which files they list is not known; nothing was deleted. Re-run the job.'
      )
    }
    if (byId.size < expected) {
      this.options.logger.warning(
        `GET ${path}: read ${byId.size} of ${expected} items (pages shifted while they were read).`
      )
    }
    return [...byId.values()]
  }
}
