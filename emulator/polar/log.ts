/** The Polar emulator's request log: API and S3 requests in arrival order. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { header } from '../common/http-util.js'
import type { RequestLogEntry } from './types.js'

/** Arrival-ordered log of every request (control routes excluded). */
export class RequestLog {
  private entries: RequestLogEntry[] = []

  /** Start an entry on arrival; it is completed when the response finishes or the socket dies. */
  begin(
    target: 'api' | 's3',
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string
  ): RequestLogEntry {
    const length = req.headers['content-length']
    const entry: RequestLogEntry = {
      target,
      method: req.method ?? 'GET',
      path,
      query,
      status: 0,
      authorization: req.headers.authorization !== undefined,
      userAgent: header(req, 'user-agent'),
      contentLength: length === undefined ? undefined : Number(length),
      startedAt: Date.now(),
      endedAt: 0
    }
    if (target === 'api') entry.polarVersion = header(req, 'polar-version')
    this.entries.push(entry)
    res.on('close', () => {
      entry.status = res.writableFinished ? res.statusCode : 0
      entry.endedAt = Date.now()
    })
    return entry
  }

  all(): RequestLogEntry[] {
    return this.entries.map(e => ({ ...e }))
  }

  clear(): void {
    this.entries = []
  }
}
