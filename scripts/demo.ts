/**
 * `npm run demo`: runs the committed dist/index.js three times against the local emulator, the
 * way GitHub Actions would (inputs as INPUT_* env vars, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
 * files), and prints each run's log, outputs, job summary and exit code:
 *   a. upload v1.0.0 into a downloadables benefit (replacing a seeded v0.9.0),
 *   b. upload v1.0.1 with changed content (replace: the benefit is swapped, v1.0.0 deleted),
 *   c. cleanup with keep: 1 over some seeded nightly builds (one protected by a benefit).
 * Exits non-zero if a run does not end as expected.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Emulator } from '../emulator/polar/index.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// DEMO_BUNDLE: run another build (e.g. a fresh one in a temp dir) instead of the committed one.
const BUNDLE = process.env.DEMO_BUNDLE ?? join(ROOT, 'dist', 'index.js')
const MIB = 1024 * 1024
const DAY = 24 * 60 * 60 * 1000
const DEBUG = process.env.DEMO_DEBUG === '1'

let emulator: Emulator | undefined
let child: ChildProcess | undefined
let workDir: string | undefined

async function main(): Promise<number> {
  if (!existsSync(BUNDLE)) {
    console.error(`${BUNDLE} is missing. Build it first: npm run bundle`)
    return 1
  }
  const { startEmulator } = await import('../emulator/polar/index.js').catch((error: unknown) => {
    throw new Error(`Could not load the emulator (emulator/polar/index.ts): ${String(error)}`)
  })
  emulator = await startEmulator()
  const emu = emulator
  workDir = mkdtempSync(join(tmpdir(), 'polar-files-demo-'))
  heading(`Emulator: Polar API ${emu.apiUrl}, S3 ${emu.s3Url}`)
  console.log(`Working directory: ${workDir}`)

  // An older release that customers already have, listed in a downloadables benefit.
  const old = emu.seedFile({
    name: 'demo-app.zip',
    version: 'v0.9.0',
    size: 1234,
    createdAt: new Date(Date.now() - 30 * DAY).toISOString()
  })
  const benefit = emu.seedBenefit({ description: 'Demo downloads', files: [old.id] })
  console.log(`Seeded file demo-app.zip v0.9.0 (${old.id}) in benefit ${benefit.id}`)

  const base = {
    token: emu.token,
    'api-url': emu.apiUrl,
    files: 'dist/*',
    // Small parts, so the 6 MiB app archive goes up as a real two-part multipart upload.
    'part-size': '5MiB'
  }
  const checks: string[] = []

  // a. First release.
  writeArtifacts('1.0.0')
  const a = await runAction('a. upload v1.0.0 into the benefit', {
    ...base,
    version: 'v1.0.0',
    'benefit-ids': benefit.id
  })
  if (a.code !== 0) return fail(`run a exited with ${a.code}`)
  const aIds = json<string[]>(a.outputs['file-ids'])
  expect(checks, aIds.length === 4, 'run a: file-ids has 4 IDs')
  expect(checks, json<string[]>(a.outputs['deleted-ids']).includes(old.id), 'run a: v0.9.0 deleted')
  expect(checks, sameSet(benefitFiles(benefit.id), aIds), 'run a: the benefit lists the new files')

  // b. Second release: new content for the app, the tarball and the checksums; LICENSE.txt
  //    is unchanged and reused.
  writeArtifacts('1.0.1')
  const b = await runAction('b. upload v1.0.1 (replaces v1.0.0)', {
    ...base,
    version: 'v1.0.1',
    'benefit-ids': benefit.id
  })
  if (b.code !== 0) return fail(`run b exited with ${b.code}`)
  const bFiles = json<{ id: string; name: string; status: string }[]>(b.outputs.files)
  const bIds = bFiles.map(f => f.id)
  expect(
    checks,
    bFiles
      .filter(f => f.status === 'unchanged')
      .map(f => f.name)
      .join() === 'LICENSE.txt',
    'run b: only LICENSE.txt is unchanged'
  )
  expect(
    checks,
    json<string[]>(b.outputs['deleted-ids']).length === 3,
    'run b: the 3 replaced v1.0.0 files are deleted'
  )
  expect(checks, sameSet(benefitFiles(benefit.id), bIds), 'run b: the benefit lists the new files')
  expect(
    checks,
    benefitFiles(benefit.id)[0] === bFiles.find(f => f.name === 'demo-app.zip')?.id,
    'run b: the new app archive took the old one’s place (first) in the benefit'
  )

  // c. Cleanup: three nightly builds; the oldest is still in a (second) benefit.
  const nightlies = [3, 2, 1].map(days =>
    emu.seedFile({
      name: 'demo-nightly.zip',
      version: `nightly-${days}`,
      size: 4321,
      createdAt: new Date(Date.now() - days * DAY).toISOString()
    })
  )
  const nightlyBenefit = emu.seedBenefit({
    description: 'Early access',
    files: [nightlies[0].id]
  })
  console.log(
    `\nSeeded 3 files demo-nightly.zip (1–3 days old); the oldest is in benefit ${nightlyBenefit.id}`
  )
  const c = await runAction('c. cleanup, keep: 1', {
    token: emu.token,
    'api-url': emu.apiUrl,
    mode: 'cleanup',
    keep: '1'
  })
  if (c.code !== 0) return fail(`run c exited with ${c.code}`)
  const cDeleted = json<string[]>(c.outputs['deleted-ids'])
  expect(
    checks,
    cDeleted.length === 1 && cDeleted[0] === nightlies[1].id,
    'run c: only the middle nightly is deleted (newest kept, oldest protected by its benefit)'
  )

  heading('Checks')
  const failed = checks.filter(c => c.startsWith('✗'))
  for (const c of checks) console.log(c)
  if (failed.length) return fail(`${failed.length} check(s) failed`)
  console.log('\nDemo finished: all three runs behaved as expected.')
  return 0
}

// ---------------------------------------------------------------------------------------------

function writeArtifacts(version: string): void {
  const dist = join(workDir!, 'dist')
  rmSync(dist, { recursive: true, force: true })
  mkdirSync(dist, { recursive: true })
  // A zip-like binary: a zip local-file signature, then random bytes.
  const app = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(6 * MIB - 4)])
  const tarball = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), randomBytes(MIB)])
  writeFileSync(join(dist, 'demo-app.zip'), app)
  writeFileSync(join(dist, 'demo-app-linux.tar.gz'), tarball)
  writeFileSync(join(dist, 'LICENSE.txt'), 'Demo licence text, the same in every release.\n')
  const sums = ['demo-app.zip', 'demo-app-linux.tar.gz', 'LICENSE.txt']
    .map(name => `${sha256(readFileSync(join(dist, name)))}  ${name}`)
    .join('\n')
  writeFileSync(join(dist, 'SHA256SUMS.txt'), `# demo ${version}\n${sums}\n`)
}

interface RunResult {
  code: number
  outputs: Record<string, string>
}

/** Runs dist/index.js like the runner does: inputs as INPUT_<NAME> env vars, hyphens kept. */
async function runAction(title: string, inputs: Record<string, string>): Promise<RunResult> {
  heading(title)
  const outputFile = join(workDir!, 'github_output')
  const summaryFile = join(workDir!, 'step_summary.html')
  // As on a runner, the action's own temp files (the `checksums-file` output) go to
  // RUNNER_TEMP: inside the demo's folder, so nothing is left in the system temp folder.
  const runnerTemp = join(workDir!, 'runner_temp')
  rmSync(runnerTemp, { recursive: true, force: true })
  mkdirSync(runnerTemp)
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')

  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    // Nothing from an outer workflow (inputs, refs, event) may leak into the demo's runs.
    if (!/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_)/.test(k)) env[k] = v
  }
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  Object.assign(env, {
    GITHUB_WORKSPACE: workDir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: runnerTemp,
    ...(DEBUG ? { RUNNER_DEBUG: '1' } : {})
  })
  const shown = Object.entries(inputs)
    .map(([k, v]) => `  ${k}: ${k === 'token' ? '***' : v}`)
    .join('\n')
  console.log(`with:\n${shown}\n`)

  const code = await new Promise<number>((resolve, reject) => {
    child = spawn(process.execPath, [BUNDLE], {
      cwd: workDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const print = (line: string) => {
      const text = readableLogLine(line)
      if (text !== null) for (const l of text.split('\n')) console.log(`  │ ${l}`)
    }
    createInterface({ input: child.stdout! }).on('line', print)
    createInterface({ input: child.stderr! }).on('line', print)
    child.on('error', reject)
    child.on('close', (status, signal) => resolve(status ?? (signal ? 128 : 1)))
  })
  child = undefined

  const outputs = parseGithubOutput(readFileSync(outputFile, 'utf8'))
  console.log('\nOutputs:')
  if (Object.keys(outputs).length === 0) console.log('  (none)')
  for (const [name, value] of Object.entries(outputs)) console.log(`  ${name} = ${value}`)
  console.log('\nJob summary:')
  const summary = htmlToText(readFileSync(summaryFile, 'utf8'))
  console.log(summary ? indent(summary) : '  (empty)')
  console.log(`\nExit code: ${code}`)
  return { code, outputs }
}

/** Workflow commands (::group:: etc.) as a person reads them in the Actions UI. */
function readableLogLine(line: string): string | null {
  const m = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line)
  if (!m) return line
  const [, command, raw] = m
  const message = raw.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
  switch (command) {
    case 'add-mask':
      return null // the runner hides these; so do we
    case 'group':
      return `▸ ${message}`
    case 'endgroup':
      return null
    case 'debug':
      return DEBUG ? `debug: ${message}` : null
    case 'warning':
    case 'error':
    case 'notice':
      return `${command}: ${message}`
    default:
      return line
  }
}

/** The GITHUB_OUTPUT file: `name<<DELIM\nvalue\nDELIM` blocks (or `name=value` lines). */
export function parseGithubOutput(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i])
      outputs[name] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      outputs[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return outputs
}

/** The job summary's HTML (headings, tables, lists, paragraphs) as plain text. */
export function htmlToText(html: string): string {
  const text = (fragment: string) =>
    decode(fragment.replace(/<br\s*\/?>/gi, ', ').replace(/<[^>]+>/g, '')).trim()
  const out: string[] = []
  const blocks =
    html.match(
      /<h(\d)>[\s\S]*?<\/h\1>|<table>[\s\S]*?<\/table>|<ul>(?:<ul>[\s\S]*?<\/ul>|[\s\S])*?<\/ul>|<p>[\s\S]*?<\/p>/gi
    ) ?? []
  for (const block of blocks) {
    const heading = /^<h(\d)>([\s\S]*?)<\/h\d>$/i.exec(block)
    if (heading) {
      out.push('', `${'#'.repeat(Number(heading[1]))} ${text(heading[2])}`)
    } else if (/^<table>/i.test(block)) {
      const rows = [...block.matchAll(/<tr>([\s\S]*?)<\/tr>/gi)].map(r =>
        [...r[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/gi)].map(c => text(c[1]))
      )
      const widths = rows[0]?.map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length))) ?? []
      rows.forEach((r, n) => {
        out.push(
          r
            .map((c, i) => c.padEnd(widths[i]))
            .join('  ')
            .trimEnd()
        )
        if (n === 0) out.push(widths.map(w => '-'.repeat(w)).join('  '))
      })
      if (rows.length === 1) out.push('(none)')
    } else if (/^<ul>/i.test(block)) {
      // Nested lists indented under their item, not glued to it.
      let depth = 0
      const items: string[] = []
      for (const token of block.match(/<\/?ul>|<\/?li>|[^<]+|<[^>]+>/gi) ?? []) {
        const tag = token.toLowerCase()
        if (tag === '<ul>') depth++
        else if (tag === '</ul>') depth--
        else if (tag === '<li>') items.push(`${'  '.repeat(Math.max(0, depth - 1))}- `)
        else if (tag !== '</li>' && items.length) items[items.length - 1] += token
      }
      out.push(
        ...items.map(i =>
          i.replace(/^(\s*- )(.*)$/, (_, lead: string, t: string) => lead + text(t))
        )
      )
    } else {
      out.push('', text(block))
    }
  }
  return out.join('\n').trim()
}

function decode(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
}

function benefitFiles(id: string): string[] {
  return emulator!.benefits().find(b => b.id === id)?.files ?? []
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

function json<T>(value: string | undefined): T {
  try {
    return JSON.parse(value ?? '') as T
  } catch {
    return [] as T
  }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join()
}

function expect(checks: string[], ok: boolean, label: string): void {
  checks.push(`${ok ? '✓' : '✗'} ${label}`)
}

function fail(message: string): number {
  console.error(`\nDemo failed: ${message}`)
  return 1
}

function heading(title: string): void {
  console.log(`\n━━ ${title} ${'━'.repeat(Math.max(0, 78 - title.length))}`)
}

function indent(text: string): string {
  return text
    .split('\n')
    .map(l => `  ${l}`)
    .join('\n')
}

async function shutdown(): Promise<void> {
  if (child && child.exitCode === null) child.kill()
  await emulator?.close().catch(() => {})
  emulator = undefined
  if (workDir && process.env.DEMO_KEEP !== '1') rmSync(workDir, { recursive: true, force: true })
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void shutdown().finally(() => process.exit(130))
  })
}

main()
  .catch((error: unknown) => {
    console.error(error)
    return 1
  })
  .then(async code => {
    await shutdown()
    process.exitCode = code
  })
