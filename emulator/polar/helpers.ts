/** Raw-HTTP helpers for the emulator's contract tests (no action code involved). */
import type { UploadPartOut } from './serialize.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { request, type Dispatcher } from 'undici'
import type { Emulator } from './index.js'

export const MiB = 1024 * 1024

export function sha256b64(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64')
}
export function md5hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex')
}

export interface HttpResult {
  status: number
  headers: Record<string, string>
  text: string
  json: unknown
}

async function collect(res: Dispatcher.ResponseData): Promise<HttpResult> {
  const text = await res.body.text()
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(res.headers))
    headers[k] = Array.isArray(v) ? v.join(', ') : String(v)
  let json: unknown = undefined
  if ((headers['content-type'] ?? '').includes('json') && text) json = JSON.parse(text) as unknown
  return { status: res.statusCode, headers, text, json }
}

export interface ApiOptions {
  body?: unknown
  /** null: send no Authorization header. */
  token?: string | null
  headers?: Record<string, string>
}

/** Call the Polar API of an emulator with Bearer auth and Polar-Version, like a client would. */
export async function api(
  emu: Emulator,
  method: string,
  path: string,
  o: ApiOptions = {}
): Promise<HttpResult> {
  const headers: Record<string, string> = {
    'polar-version': '2026-04',
    'user-agent': 'emulator-tests',
    ...o.headers
  }
  const token = o.token === undefined ? emu.token : o.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  let body: string | undefined
  if (o.body !== undefined) {
    body = JSON.stringify(o.body)
    headers['content-type'] = 'application/json'
  }
  const res = await request(`${emu.apiUrl}${path}`, {
    method: method as Dispatcher.HttpMethod,
    headers,
    body
  })
  return collect(res)
}

export interface PutOptions {
  method?: string
  headers?: Record<string, string>
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean
}

/** PUT a part to its presigned URL, verbatim, with exactly the given headers. */
export async function putPart(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  o: PutOptions = {}
): Promise<HttpResult> {
  const res = await request(url, {
    method: (o.method ?? 'PUT') as Dispatcher.HttpMethod,
    headers: { ...headers, ...o.headers },
    body: o.chunked ? Readable.from([body]) : body
  })
  return collect(res)
}

export interface PartSpec {
  number: number
  chunk_start: number
  chunk_end: number
  checksum_sha256_base64?: string | null
}

/** Parts for `content` cut at `partSize`, each with its SHA-256 (what the action computes). */
export function partsFor(content: Buffer, partSize: number): PartSpec[] {
  const parts: PartSpec[] = []
  const count = Math.max(1, Math.ceil(content.length / partSize))
  for (let i = 0; i < count; i++) {
    const start = i * partSize
    const end = Math.min(content.length, start + partSize)
    parts.push({
      number: i + 1,
      chunk_start: start,
      chunk_end: end,
      checksum_sha256_base64: sha256b64(content.subarray(start, end))
    })
  }
  return parts
}

/** The emulator's own answer shape for an upload part. */
export type UploadPart = UploadPartOut
export interface FileUploadJson {
  id: string
  path: string
  name: string
  upload: { id: string; path: string; parts: UploadPart[] }
  [k: string]: unknown
}

export async function createFile(
  emu: Emulator,
  name: string,
  content: Buffer,
  o: { partSize?: number; parts?: PartSpec[]; token?: string; extra?: Record<string, unknown> } = {}
): Promise<FileUploadJson> {
  const res = await api(emu, 'POST', '/v1/files/', {
    token: o.token,
    body: {
      service: 'downloadable',
      name,
      mime_type: 'application/octet-stream',
      size: content.length,
      checksum_sha256_base64: sha256b64(content),
      upload: { parts: o.parts ?? partsFor(content, o.partSize ?? 5 * MiB) },
      ...o.extra
    }
  })
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`)
  return res.json as FileUploadJson
}

/** PUT every part and return the `/uploaded` body. */
export async function putAll(
  created: FileUploadJson,
  content: Buffer
): Promise<{
  id: string
  path: string
  parts: { number: number; checksum_etag: string; checksum_sha256_base64: string | null }[]
}> {
  const parts = []
  for (const p of created.upload.parts) {
    const res = await putPart(p.url, p.headers, content.subarray(p.chunk_start, p.chunk_end))
    if (res.status !== 200)
      throw new Error(`PUT part ${p.number} failed: ${res.status} ${res.text}`)
    parts.push({
      number: p.number,
      checksum_etag: res.headers.etag,
      checksum_sha256_base64: p.checksum_sha256_base64
    })
  }
  return { id: created.upload.id, path: created.upload.path, parts }
}

/** Create, upload and complete a file; returns the completed FileRead JSON. */
export async function uploadFile(
  emu: Emulator,
  name: string,
  content: Buffer,
  partSize = 5 * MiB
): Promise<Record<string, unknown>> {
  const created = await createFile(emu, name, content, { partSize })
  const done = await api(emu, 'POST', `/v1/files/${created.id}/uploaded`, {
    body: await putAll(created, content)
  })
  if (done.status !== 200) throw new Error(`complete failed: ${done.status} ${done.text}`)
  return done.json as Record<string, unknown>
}

/** The S3 error code of an XML error body. */
export function s3Code(text: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(text)?.[1]
}
export function s3Message(text: string): string | undefined {
  return /<Message>([^<]*)<\/Message>/.exec(text)?.[1]
}

/**
 * `npm run emulator` as a process (`cli.ts` with `args`), once it has printed its `KEY=value`
 * lines up to `lastKey`: those lines in order, and as a map.
 */
export async function startCli(
  args: string[],
  lastKey: string
): Promise<{ child: ChildProcess; lines: string[]; env: Record<string, string> }> {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--import', './emulator/register.mjs', 'emulator/cli.ts', ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] }
  )
  let out = ''
  child.stdout!.setEncoding('utf8')
  const complete = new RegExp(`^${lastKey}=.*\\n`, 'm') // the whole line, not part of it
  while (!complete.test(out)) {
    const [chunk] = (await once(child.stdout!, 'data')) as [string]
    out += chunk
  }
  const lines = out.trim().split('\n')
  const env = Object.fromEntries(lines.map(l => l.split('=', 2) as [string, string]))
  return { child, lines, env }
}
