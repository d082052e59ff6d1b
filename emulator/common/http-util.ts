/** Small HTTP helpers shared by the Polar and GitHub emulators' servers. */
import type { IncomingMessage, ServerResponse } from 'node:http'

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise(resolve => setTimeout(resolve, ms)) : Promise.resolve()
}

/** Read a whole (small) request body; the API never receives more than a few MB. */
export function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new Error('request body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Discard the rest of a request body, then call `done` (answering early would break clients). */
export function drain(req: IncomingMessage, done: () => void): void {
  if (req.readableEnded) {
    done()
    return
  }
  req.on('end', done)
  req.on('error', () => undefined)
  req.resume()
}

/** Read `afterBytes` of the body (default: half of Content-Length), then cut the TCP connection. */
export function resetConnection(req: IncomingMessage, afterBytes: number | undefined): void {
  const declared = Number(req.headers['content-length'] ?? 0)
  const limit = afterBytes ?? Math.floor(declared / 2)
  const cut = (): void => {
    req.socket.resetAndDestroy()
  }
  if (limit <= 0 || req.readableEnded) {
    cut()
    return
  }
  let seen = 0
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length
    if (seen >= limit) cut()
  })
  req.on('end', cut)
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

export interface Reply {
  status: number
  headers?: Record<string, string>
  /** JSON value (serialised), string or Buffer; undefined = empty body. */
  json?: unknown
  text?: string
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) }
  let body: Buffer = Buffer.alloc(0)
  if (reply.json !== undefined) {
    body = Buffer.from(JSON.stringify(reply.json), 'utf8')
    headers['content-type'] ??= 'application/json'
  } else if (reply.text !== undefined) {
    body = Buffer.from(reply.text, 'utf8')
    headers['content-type'] ??= 'text/plain; charset=utf-8'
  }
  headers['content-length'] = String(body.length)
  res.writeHead(reply.status, headers)
  res.end(body)
}
