/** Writing replies from both servers: JSON, text, or an asset streamed from memory or disk. */
import { createReadStream } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { sleep } from '../common/http-util.js'
import type { GitHubLogEntry } from './types.js'

export type Body = { buffer: Buffer } | { path: string; size: number }

export interface Outgoing {
  status: number
  headers: Record<string, string>
  body?: Body
}

export function jsonOut(
  status: number,
  value: unknown,
  headers: Record<string, string> = {}
): Outgoing {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: { buffer: Buffer.from(JSON.stringify(value), 'utf8') }
  }
}

export function textOut(
  status: number,
  text: string,
  contentType: string,
  headers: Record<string, string> = {}
): Outgoing {
  return {
    status,
    headers: { 'content-type': contentType, ...headers },
    body: { buffer: Buffer.from(text, 'utf8') }
  }
}

function bodySize(body: Body | undefined): number {
  if (!body) return 0
  return 'buffer' in body ? body.buffer.length : body.size
}

function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise(resolve => res.write(chunk, () => resolve()))
}

/** Write `limit` body bytes without ending the response. */
async function writePrefix(res: ServerResponse, body: Body, limit: number): Promise<void> {
  if (limit <= 0) return write(res, Buffer.alloc(0))
  if ('buffer' in body) return write(res, body.buffer.subarray(0, limit))
  await pipeline(createReadStream(body.path, { end: limit - 1 }), res, { end: false })
}

/**
 * Send `out`. With `cut`, the connection is reset mid-body: headers (with the full
 * content-length) and `afterBytes` body bytes (default half, always fewer than all), then a TCP
 * reset; an empty body is cut before the status line, since a complete empty reply is no cut.
 * Files are streamed with backpressure (flat memory for 1 GiB assets).
 */
export async function send(
  res: ServerResponse,
  out: Outgoing,
  entry: GitHubLogEntry,
  cut?: { afterBytes?: number }
): Promise<void> {
  const size = bodySize(out.body)
  const headers = { ...out.headers, 'content-length': String(size) }
  if (cut) {
    const limit = Math.min(Math.max(cut.afterBytes ?? Math.floor(size / 2), 0), size - 1)
    entry.error = `injected reset after ${Math.max(limit, 0)} of ${size} body bytes`
    if (!out.body || size === 0) {
      res.socket?.resetAndDestroy()
      return
    }
    res.writeHead(out.status, headers)
    try {
      await writePrefix(res, out.body, limit)
    } catch {
      // the client left first: nothing more to cut
    }
    entry.bytes = limit
    await sleep(20) // let the client take the headers and the prefix before the reset
    res.socket?.resetAndDestroy()
    return
  }
  res.writeHead(out.status, headers)
  if (!out.body) {
    entry.bytes = 0
    res.end()
    return
  }
  if ('buffer' in out.body) {
    entry.bytes = size
    res.end(out.body.buffer)
    return
  }
  if (size === 0) {
    entry.bytes = 0
    res.end()
    return
  }
  let bytes = 0
  // Never past the declared size: a file rewritten while it streams must not put stray bytes
  // on a keep-alive connection (the next response would not parse).
  const source = createReadStream(out.body.path, { start: 0, end: size - 1 })
  source.on('data', (chunk: Buffer | string) => {
    bytes += chunk.length
  })
  try {
    await pipeline(source, res)
  } catch (err) {
    entry.error ??= `stream ended early: ${err instanceof Error ? err.message : String(err)}`
  } finally {
    entry.bytes = bytes
  }
}
