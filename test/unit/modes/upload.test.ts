/**
 * runUpload's ordering when the planning reads fail while files are being hashed (the reads and
 * the hash pass run at the same time): the read's error is the run's, and nothing is written.
 * A fake Polar client, so the timing of each read is under the test's control.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readlinkSync,
  truncateSync
} from 'node:fs'
import { join } from 'node:path'
import type { Dispatcher } from 'undici'
import { PolarApiError, RunFailure } from '../../../src/errors.js'
import { parseInputs } from '../../../src/inputs.js'
import type { Logger } from '../../../src/log.js'
import type { PolarClient } from '../../../src/polar/client.js'
import { runUpload, type UploadDeps } from '../../../src/modes/upload/index.js'
import { tempDir } from '../../support/temp.js'

const MIB = 1024 * 1024

// @actions/glob logs through core.debug, which writes `::debug::` lines to stdout: a runner
// hides them unless debug logging is on, jest would print them. Hidden here too.
const write = process.stdout.write.bind(process.stdout)
beforeAll(() => {
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
    String(chunk).startsWith('::debug::') ? true : write(chunk, ...rest)) as typeof write
})
afterAll(() => {
  process.stdout.write = write
})

function sparse(path: string, size: number): void {
  const fd = openSync(path, 'w')
  ftruncateSync(fd, size) // seconds of hashing, no disk
  closeSync(fd)
}

function setup(listFiles: () => Promise<never>) {
  const dir = tempDir('upload-mode-')
  sparse(join(dir, 'big.bin'), 1024 * MIB)
  const values: Record<string, string> = {
    token: 'polar_oat_x',
    files: '*.bin',
    'working-directory': dir,
    retries: '0'
  }
  const inputs = parseInputs(name => values[name] ?? '')
  const writes: string[] = []
  const client = {
    listFiles,
    listDownloadablesBenefits: () => Promise.resolve([]),
    createFile: () => {
      writes.push('create')
      return Promise.reject(new Error('no write may happen'))
    }
  } as unknown as PolarClient
  const logged: string[] = []
  const logger = {
    info: (m: string) => logged.push(m),
    warning: (m: string) => logged.push(m),
    error: (m: string) => logged.push(m),
    debug: () => undefined
  } as unknown as Logger
  const deps: UploadDeps = {
    client,
    s3: {} as Dispatcher,
    logger,
    retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } as UploadDeps['retry'],
    progress: { start: () => undefined, add: () => undefined, finish: () => undefined },
    group: (title: string, lines: string[]) => logged.push(`group ${title}: ${lines.join(' | ')}`),
    incomplete: new Set(),
    tempRoot: dir
  } as unknown as UploadDeps
  return { dir, inputs, deps, writes, logged }
}

const unauthorized = () => new PolarApiError(401, 'GET', '/v1/files/', 'invalid_token', 'bad token')
const wait = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))

/**
 * Resolves once this process (its hash worker threads share its descriptors) has `path` open,
 * read from /proc/self/fd; where there is no /proc, after a delay that outlasts the plan.
 */
async function hashing(path: string): Promise<void> {
  if (!existsSync('/proc/self/fd')) return wait(300)
  const open = () =>
    readdirSync('/proc/self/fd').some(fd => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path
      } catch {
        return false // closed since the listing
      }
    })
  for (const started = Date.now(); !open(); await wait(5)) {
    if (Date.now() - started > 10_000) throw new Error(`${path} was never opened`)
  }
}

describe('runUpload when a planning read fails during the hash pass', () => {
  test('the read error is the run’s, the file being hashed stops first, nothing is written', async () => {
    const { inputs, deps, writes, logged } = setup(async () => {
      await wait(100)
      throw unauthorized()
    })
    const report = await runUpload(inputs, deps).then(
      () => null,
      (error: unknown) => error
    )
    expect(report).toBeInstanceOf(RunFailure)
    expect((report as RunFailure).cause).toBeInstanceOf(PolarApiError)
    expect(writes).toEqual([])
    // Said once, as the run's error: the stopped file prints no group of its own.
    expect(logged.some(l => l.startsWith('group big.bin'))).toBe(false)
  })

  test('a file failing before the reads end does not hide their error', async () => {
    let dir = ''
    const ctx = setup(async () => {
      // Truncate only once the hash pass reads the file (after the plan took its size): a fixed
      // delay raced the plan on a slower start (node24 under load) and truncated before it.
      // The plan opens the file too (to prove it readable and take its size): wait for its line.
      while (!ctx.logged.some(l => l.startsWith('Plan:'))) await wait(5)
      await hashing(join(dir, 'big.bin'))
      truncateSync(join(dir, 'big.bin'), 1000) // "changed while it was being read"
      await wait(1500)
      throw unauthorized()
    })
    dir = ctx.dir
    const error = await runUpload(ctx.inputs, ctx.deps).then(
      () => null,
      (e: unknown) => e
    )
    expect(ctx.logged.join('\n')).toMatch(/changed while it was being read/)
    expect(error).toBeInstanceOf(RunFailure)
    expect((error as RunFailure).cause).toBeInstanceOf(PolarApiError)
    expect(ctx.writes).toEqual([])
  })
})
