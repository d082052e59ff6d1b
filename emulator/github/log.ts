/** Arrival-ordered request log. Never keeps an Authorization value or a storage query string. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { header } from '../common/http-util.js'
import type { GitHubLogEntry } from './types.js'

export class GitHubLog {
  private entries: GitHubLogEntry[] = []

  /** Start an entry on arrival; it is completed when the response finishes or the socket dies. */
  begin(
    target: 'api' | 'storage',
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string
  ): GitHubLogEntry {
    const entry: GitHubLogEntry = {
      target,
      method: req.method ?? 'GET',
      path,
      query: target === 'storage' ? '' : query,
      status: 0,
      authorization: req.headers.authorization !== undefined,
      accept: header(req, 'accept'),
      userAgent: header(req, 'user-agent'),
      startedAt: Date.now(),
      endedAt: 0
    }
    this.entries.push(entry)
    // endedAt 0 = still in progress (a client can finish reading before 'finish' is seen here).
    res.on('finish', () => {
      entry.status = res.statusCode
      entry.endedAt = Date.now()
    })
    res.on('close', () => {
      if (res.writableFinished) return
      entry.status = 0
      entry.endedAt = Date.now()
    })
    return entry
  }

  all(): GitHubLogEntry[] {
    return this.entries.map(e => ({ ...e }))
  }

  clear(): void {
    this.entries = []
  }
}
