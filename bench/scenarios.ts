/**
 * The measurements. Each returns raw samples; run.ts turns them into medians and ratios.
 * Repeated uploads of one file use `replace: false` and `if-unchanged: upload`, so every run
 * really uploads and the emulator's state stays a few records (it keeps no bodies).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runAction, spawnAction } from './action.js'
import type { BenchConfig } from './config.js'
import type { EmulatorProcess } from './emulator.js'
import { progress, timeCommandOk } from './util.js'

export interface Ctx {
  root: string
  bundle: string
  cfg: BenchConfig
  /** Temp folder for files and per-run scratch. */
  tmp: string
}

/** A folder holding one file to upload, and its name. */
export interface Workspace {
  dir: string
  file: string
}

function uploadInputs(emu: EmulatorProcess, file: string): Record<string, string> {
  return {
    token: emu.token,
    'api-url': emu.apiUrl,
    files: file,
    replace: 'false',
    'if-unchanged': 'upload'
  }
}

/** The bundled action uploading the workspace's file; `extra` overrides inputs. */
export function uploadRun(
  ctx: Ctx,
  emu: EmulatorProcess,
  ws: Workspace,
  extra: Record<string, string> = {}
): ReturnType<typeof runAction> {
  return runAction(ctx.bundle, { ...uploadInputs(emu, ws.file), ...extra }, ws.dir, ctx.tmp)
}

export interface LimitRun {
  /** `openssl dgst -sha256` of the file (SHA-NI), ms. */
  opensslMs: number
  /** `sha256sum` of the file (coreutils 9.1 here: a portable C SHA-256, no SHA-NI), ms. */
  sha256sumMs: number
  /** One streaming PUT of the whole file (curl -T) to the emulator's S3, ms. */
  putMs: number
}

interface Created {
  id: string
  upload: { parts: { url: string; headers: Record<string, string> }[] }
}

/**
 * The physical floor for the same bytes: hash them once, then stream them once into the same
 * emulator S3 endpoint, through one presigned part covering the whole file.
 */
export async function limitRun(
  emu: EmulatorProcess,
  ws: Workspace,
  size: number
): Promise<LimitRun> {
  const path = join(ws.dir, ws.file)
  const openssl = await timeCommandOk('openssl', ['dgst', '-sha256', '-binary', path])
  const sum = await timeCommandOk('sha256sum', ['-b', path])
  const digest = openssl.stdout
  if (digest.toString('hex') !== sum.stdout.toString('utf8').slice(0, 64)) {
    throw new Error('openssl and sha256sum disagree about the test file')
  }
  const checksum = digest.toString('base64')
  // Untimed: the create call is the action's API overhead, not part of the physical floor.
  const created = await emu.api<Created>('POST', '/v1/files/', {
    service: 'downloadable',
    name: `limit-${ws.file}`,
    mime_type: 'application/octet-stream',
    size,
    checksum_sha256_base64: checksum,
    upload: {
      parts: [{ number: 1, chunk_start: 0, chunk_end: size, checksum_sha256_base64: checksum }]
    }
  })
  const part = created.upload.parts[0]
  const headers = Object.entries(part.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])
  // --globoff: the URL byte for byte; `Expect:` off: no 100-continue round trip before the body.
  const put = await timeCommandOk('curl', [
    ...['-sS', '--globoff', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Expect:'],
    ...headers,
    ...['-T', path, part.url]
  ])
  const status = put.stdout.toString('utf8').trim()
  await emu.api('DELETE', `/v1/files/${created.id}`)
  if (status !== '200') throw new Error(`the baseline PUT answered HTTP ${status}`)
  return { opensslMs: openssl.ms, sha256sumMs: sum.ms, putMs: put.ms }
}

export interface SmallRun {
  ms: number
  apiCalls: number
  status429: number
}

/**
 * small_N: N small files against an emulator with API latency and a rate limit. Every file
 * has one earlier version (seeded before the first run; later runs replace the previous run's
 * uploads), so with the default `replace: true` each file costs the 3 calls of a real release:
 * create, complete, delete.
 */
export async function smallRuns(
  ctx: Ctx,
  emu: EmulatorProcess,
  dir: string,
  names: string[]
): Promise<SmallRun[]> {
  const hourAgo = new Date(Date.now() - 3600_000).toISOString()
  for (const name of names) {
    await emu.control('POST', 'seed/file', { name, size: ctx.cfg.smallSize, createdAt: hourAgo })
  }
  const inputs = {
    token: emu.token,
    'api-url': emu.apiUrl,
    files: '*.bin',
    'if-unchanged': 'upload',
    'rate-limit': String(ctx.cfg.ratePerMinute)
  }
  const runs: SmallRun[] = []
  for (let i = 0; i < ctx.cfg.smallRuns; i++) {
    await emu.clearLog()
    const { ms } = await runAction(ctx.bundle, inputs, dir, ctx.tmp)
    const api = (await emu.log()).filter(e => e.target === 'api')
    const run = { ms, apiCalls: api.length, status429: api.filter(e => e.status === 429).length }
    progress(
      `small_${names.length} run ${i + 1}: ${(ms / 1000).toFixed(2)} s, ${run.apiCalls} API calls, ${run.status429} × 429`
    )
    runs.push(run)
  }
  return runs
}

/**
 * Cold start: spawn of `node dist/index.js` → arrival of its first HTTP request on a loopback
 * server in this process, which answers every request 401 (so the action stops at once).
 */
export async function coldStartRuns(ctx: Ctx, dir: string, file: string): Promise<number[]> {
  let onFirst: ((at: number) => void) | null = null
  const server = createServer((req, res) => {
    const at = performance.now()
    onFirst?.(at)
    onFirst = null
    req.resume()
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
    res.end(JSON.stringify({ error: 'invalid_token', error_description: 'x' }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const inputs = {
    token: 'polar_oat_x',
    'api-url': `http://127.0.0.1:${port}`,
    files: file,
    retries: '0'
  }
  const samples: number[] = []
  try {
    for (let i = 0; i < ctx.cfg.coldRuns; i++) {
      const first = new Promise<number>(resolve => (onFirst = resolve))
      const { child, spawnedAt } = spawnAction(ctx.bundle, inputs, dir, ctx.tmp)
      const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
      const arrived = await Promise.race([first, exited.then(() => null)])
      await exited
      if (arrived === null) throw new Error('cold start: the action exited without a request')
      samples.push(arrived - spawnedAt)
      progress(`cold_start run ${i + 1}: ${(arrived - spawnedAt).toFixed(1)} ms`)
    }
  } finally {
    server.close()
  }
  return samples
}
