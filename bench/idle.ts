/**
 * Where the single_N / multi_CxS gap comes from on a CPU-bound machine (BENCHMARKS.md, the
 * multi_8x128m section): whole runs of the bundled action, one 1 GiB file and 8 × 128 MiB, on
 * the trust-checksums S3, with the machine's busy and idle CPU read from /proc/stat around each
 * run. Linux only; not part of `npm run bench` (a diagnosis, not a figure with a target).
 *
 *   npx tsx bench/idle.ts [pairs=3]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runAction } from './action.js'
import { EmulatorProcess } from './emulator.js'
import { writeRandomFile } from './files.js'

const MIB = 1024 * 1024
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BUNDLE = join(ROOT, 'dist/index.js')

/** Core-seconds the whole machine spent idle and in total so far (USER_HZ = 100). */
function cpu(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1)
  const n = fields.map(Number)
  return { idle: (n[3] + n[4]) / 100, total: n.reduce((a, b) => a + b, 0) / 100 }
}

async function main(): Promise<void> {
  const pairs = Number(process.argv[2] ?? 3)
  const tmp = mkdtempSync(join(tmpdir(), 'bench-idle-'))
  const emu = await EmulatorProcess.start(ROOT, ['--s3-trust-checksums'])
  try {
    const one = join(tmp, 'one')
    const many = join(tmp, 'many')
    await writeRandomFile(join(one, 'one.bin'), 1024 * MIB)
    for (let i = 0; i < 8; i++) await writeRandomFile(join(many, `part-${i}.bin`), 128 * MIB)
    const inputs = (files: string) => ({
      token: emu.token,
      'api-url': emu.apiUrl,
      files,
      replace: 'false',
      'if-unchanged': 'upload'
    })
    for (let i = 0; i < pairs; i++) {
      for (const [label, dir, files] of [
        ['single', one, 'one.bin'],
        ['multi ', many, 'part-*.bin']
      ] as const) {
        const before = cpu()
        const run = await runAction(BUNDLE, inputs(files), dir, tmp)
        const after = cpu()
        const idle = after.idle - before.idle
        const busy = after.total - before.total - idle
        console.log(
          `${label} ${(run.ms / 1000).toFixed(2)} s: busy ${busy.toFixed(2)} core-s, ` +
            `idle ${idle.toFixed(2)} core-s`
        )
      }
    }
  } finally {
    await emu.stop()
    rmSync(tmp, { recursive: true, force: true })
  }
}

void main()
