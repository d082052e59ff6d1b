/**
 * The repository's own workflows, beyond what docs.test.ts checks (this action's inputs and
 * outputs): GitHub Actions cannot run here, so catch what would only fail there. And the supply
 * chain users trust when they run a release: every workflow (whatever its name) pins third-party
 * actions by commit SHA and grants its token no more than it needs; release.yml tests, checks,
 * drafts, attests, publishes and moves the major tag, in that order.
 */
import { describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, parseAllDocuments } from 'yaml'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIR = '.github/workflows'

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  shell?: string
  with?: Record<string, unknown>
}
type Permissions = string | Record<string, string> | undefined
interface Job {
  steps?: Step[]
  /** A reusable workflow instead of steps. */
  uses?: string
  needs?: string | string[]
  permissions?: Permissions
  defaults?: { run?: { shell?: string } }
  'runs-on'?: string
}
interface Workflow {
  on?: unknown
  jobs?: Record<string, Job>
  permissions?: Permissions
}

const workflows = readdirSync(join(ROOT, DIR))
  .filter(f => /\.ya?ml$/.test(f))
  .map(f => ({ file: `${DIR}/${f}`, text: readFileSync(join(ROOT, DIR, f), 'utf8') }))

const jobs = workflows.flatMap(({ file, text }) =>
  Object.entries((parse(text) as Workflow).jobs ?? {}).map(([name, job]) => ({
    label: `${file} job ${name}`,
    job: { ...job, steps: job.steps ?? [] }
  }))
)

describe('workflows', () => {
  test('there are jobs to check', () => {
    expect(jobs.length).toBeGreaterThan(1)
  })

  test.each(jobs)('$label: every steps.<id> it reads is a step of that job', ({ job }) => {
    const ids = new Set(job.steps.map(s => s.id).filter(Boolean))
    const read = [...JSON.stringify(job).matchAll(/steps\.([A-Za-z_][\w-]*)\./g)].map(m => m[1])
    expect(read.filter(id => !ids.has(id))).toEqual([])
  })

  // GitHub runs a step's `run:` with bash on Linux and macOS runners; parse each as bash would.
  const linuxRuns = jobs
    .filter(({ job }) => !/windows/.test(String(job['runs-on'])))
    .flatMap(({ label, job }) =>
      job.steps
        .filter(s => s.run !== undefined)
        .map(s => ({ label: `${label}: ${s.name ?? s.run?.split('\n')[0]}`, run: s.run as string }))
    )

  const hasBash = spawnSync('bash', ['--version']).status === 0
  const testIfBash = hasBash ? test.each(linuxRuns) : test.skip.each(linuxRuns)
  testIfBash('$label: the run script parses (bash -n)', ({ run }) => {
    // `${{ … }}` is replaced before the shell sees the script: stand in a plain word.
    const script = run.replace(/\$\{\{[\s\S]*?\}\}/g, 'EXPR')
    const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})

/** A third-party action pinned as `owner/repo[/path]@<40 hex>`, with a `# vX.Y.Z` comment. */
const PINNED = /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/
const VERSION_COMMENT = /^#\s*v\d+\.\d+\.\d+\s*$/

/** Every `uses:` in a file: its value, and the comment on its line (from the raw text). */
function usesOf(text: string): { uses: string; comment: string; line: number }[] {
  const found: { uses: string; comment: string; line: number }[] = []
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*(['"]?)([^\s'"#]+)\1\s*(#.*)?$/.exec(line)
    if (m) found.push({ uses: m[2], comment: (m[3] ?? '').trim(), line: i + 1 })
  })
  return found
}

/** `uses:` values as the YAML parser sees them (steps and reusable-workflow jobs). */
function parsedUses(workflow: Workflow): string[] {
  return Object.values(workflow.jobs ?? {}).flatMap(job => [
    ...(job.uses ? [job.uses] : []),
    ...(job.steps ?? []).map(s => s.uses).filter((u): u is string => typeof u === 'string')
  ])
}

/** Problems with a file's third-party `uses:`; `./` (this repository) and docker:// are local. */
function pinProblems(file: string, text: string, allowed: (uses: string) => boolean = () => false) {
  const problems: string[] = []
  const lines = usesOf(text)
  const parsed = parsedUses(parse(text) as Workflow)
  if (
    lines
      .map(l => l.uses)
      .sort()
      .join() !== [...parsed].sort().join()
  ) {
    problems.push(`${file}: a uses: the line check cannot read (${parsed.join(', ')})`)
  }
  for (const { uses, comment, line } of lines) {
    if (uses.startsWith('./') || uses.startsWith('docker://') || allowed(uses)) continue
    if (!PINNED.test(uses)) problems.push(`${file}:${line}: ${uses} is not pinned by commit SHA`)
    else if (!VERSION_COMMENT.test(comment)) {
      problems.push(`${file}:${line}: ${uses} has no '# vX.Y.Z' comment naming its version`)
    }
  }
  return problems
}

/** Problems with a permissions value: write-all, or an unknown access level. */
function permissionProblems(where: string, permissions: Permissions): string[] {
  if (permissions === undefined) return []
  if (typeof permissions === 'string') {
    return permissions === 'read-all' ? [] : [`${where}: permissions: ${permissions}`]
  }
  return Object.entries(permissions ?? {})
    .filter(([, level]) => !['read', 'write', 'none'].includes(level))
    .map(([scope, level]) => `${where}: permissions ${scope}: ${level}`)
}

const grantsWrite = (permissions: Permissions) =>
  typeof permissions === 'string'
    ? permissions === 'write-all'
    : Object.values(permissions ?? {}).includes('write')

describe('workflow supply chain', () => {
  const files = workflows.map(w => [w.file, w.text] as const)
  const exampleFiles = readdirSync(join(ROOT, 'examples'))
    .filter(f => /\.ya?ml$/.test(f))
    .map(f => [`examples/${f}`, readFileSync(join(ROOT, 'examples', f), 'utf8')] as const)

  test.each(files)('%s: valid YAML with `on` and `jobs`', (_file, text) => {
    const docs = parseAllDocuments(text)
    expect(docs.flatMap(d => d.errors.map(e => e.message))).toEqual([])
    expect(docs).toHaveLength(1)
    const workflow = docs[0].toJS() as Workflow
    expect(workflow.on).toBeTruthy()
    expect(Object.keys(workflow.jobs ?? {}).length).toBeGreaterThan(0)
  })

  test.each(files)(
    '%s: third-party actions pinned by commit SHA with a version comment',
    (file, text) => {
      expect(pinProblems(file, text)).toEqual([])
    }
  )

  // `your-org/polar-files-action@v1` stands for this action's repository (docs.test.ts): it has
  // no commit to pin here; the README shows how users pin it.
  test.each(exampleFiles)(
    '%s: other actions pinned by commit SHA with a version comment',
    (file, text) => {
      expect(
        pinProblems(file, text, uses => uses.startsWith('your-org/polar-files-action@'))
      ).toEqual([])
    }
  )

  test.each(files)('%s: a token with declared, least permissions', (file, text) => {
    const workflow = parse(text) as Workflow
    const problems = permissionProblems(`${file} (top level)`, workflow.permissions)
    // Writes are granted per job, to the job that needs them; never to the whole workflow.
    if (grantsWrite(workflow.permissions))
      problems.push(`${file}: write permissions at the top level`)
    for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
      if (workflow.permissions === undefined && job.permissions === undefined) {
        problems.push(`${file} job ${name}: no permissions (neither the workflow's nor its own)`)
      }
      problems.push(...permissionProblems(`${file} job ${name}`, job.permissions))
    }
    expect(problems).toEqual([])
  })

  test('the checks catch a tag, a short SHA, a missing comment and write-all', () => {
    const bad = `on: push
permissions: write-all
jobs:
  j:
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@a0853c2
      - uses: actions/cache@0123456789abcdef0123456789abcdef01234567
      - uses: ./
`
    expect(pinProblems('bad.yml', bad)).toEqual([
      'bad.yml:6: actions/checkout@v5 is not pinned by commit SHA',
      'bad.yml:7: actions/setup-node@a0853c2 is not pinned by commit SHA',
      "bad.yml:8: actions/cache@0123456789abcdef0123456789abcdef01234567 has no '# vX.Y.Z' comment naming its version"
    ])
    expect(permissionProblems('bad.yml', 'write-all')).toEqual(['bad.yml: permissions: write-all'])
  })
})

/** A workflow's jobs in an order that respects `needs`, then file order. */
function jobsInOrder(workflow: Workflow): [string, Job][] {
  const pending = Object.entries(workflow.jobs ?? {})
  const done: [string, Job][] = []
  while (pending.length > 0) {
    const placed = new Set(done.map(([name]) => name))
    const next = pending.findIndex(([, job]) =>
      [job.needs ?? []].flat().every(need => placed.has(need))
    )
    if (next < 0) throw new Error('jobs with circular needs')
    done.push(...pending.splice(next, 1))
  }
  return done
}

describe('release.yml', () => {
  const file = `${DIR}/release.yml`
  const release = workflows.find(w => w.file === file)
  const workflow = parse(release?.text ?? '{}') as Workflow & {
    on?: { push?: { tags?: string[] } }
  }
  const steps = jobsInOrder(workflow).flatMap(([name, job]) =>
    (job.steps ?? []).map(step => ({ job: name, step }))
  )
  const runOf = (s: Step) => s.run ?? ''

  test('runs on version tags', () => {
    expect(release).toBeDefined()
    expect(workflow.on?.push?.tags).toEqual(['v*.*.*'])
  })

  test('tests, dist/ check, draft with notes, attestation, publish, major tag: in that order', () => {
    const stages: [string, (s: Step) => boolean][] = [
      ['tests', s => /\bnpm test\b/.test(runOf(s))],
      [
        'dist/ equals a fresh bundle',
        s => /npm run bundle/.test(runOf(s)) && /git diff --exit-code[^\n]*dist\//.test(runOf(s))
      ],
      [
        'a draft release with the notes from CHANGELOG.md',
        s =>
          /gh release create[\s\S]*--draft/.test(runOf(s)) &&
          /release-notes\.sh[^\n]*CHANGELOG\.md/.test(runOf(s))
      ],
      [
        'an attestation of dist/index.js and its chunks',
        s =>
          /^actions\/attest@/.test(s.uses ?? '') &&
          /^dist\/index\.js$/m.test(String(s.with?.['subject-path'])) &&
          /^dist\/\*\.index\.js$/m.test(String(s.with?.['subject-path']))
      ],
      ['publish', s => /gh release edit[^\n]*--draft=false/.test(runOf(s))],
      ['move the major tag', s => /git\/refs/.test(runOf(s)) && /\$\{TAG%%\.\*\}/.test(runOf(s))]
    ]
    const found = stages.map(([stage, match]) => ({
      stage,
      at: steps.findIndex(({ step }) => match(step))
    }))
    expect(found.filter(f => f.at < 0).map(f => f.stage)).toEqual([])
    const at = found.map(f => f.at)
    expect(at).toEqual([...at].sort((a, b) => a - b))
  })

  test('only the job that attests and publishes can write, and it runs no npm code', () => {
    const jobs = jobsInOrder(workflow)
    for (const [name, job] of jobs) {
      const steps = job.steps ?? []
      const attests = steps.some(s => /^actions\/attest@/.test(s.uses ?? ''))
      if (attests) {
        expect({ name, permissions: job.permissions }).toEqual({
          name,
          permissions: { contents: 'write', 'id-token': 'write', attestations: 'write' }
        })
        expect(steps.filter(s => /\bnpm\b|\bnode\b/.test(runOf(s)))).toEqual([])
      } else if (steps.some(s => /\bnpm (ci|test)\b/.test(runOf(s)))) {
        expect({ name, permissions: job.permissions }).toEqual({
          name,
          permissions: { contents: 'read' }
        })
      }
    }
  })
})

describe('scripts/release-notes.sh', () => {
  const changelog = `# Changelog

## [Unreleased]

- not yet

## [1.2.3] - 2026-12-04

### Fixed

- the fix

## [1.2.2] - 2026-11-01

- older
`
  const notes = (version: string, input = changelog) =>
    spawnSync('bash', [join(ROOT, 'scripts/release-notes.sh'), version], {
      input,
      encoding: 'utf8'
    })
  const testIfBash = spawnSync('bash', ['--version']).status === 0 ? test : test.skip

  testIfBash("cuts the tag's section (without its heading or the next one)", () => {
    const r = notes('v1.2.3')
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('### Fixed\n\n- the fix\n')
  })

  testIfBash('fails on a missing, empty or still Unreleased section', () => {
    for (const [version, input] of [
      ['1.2.4', changelog],
      ['1.2.3', '## [1.2.3] - 2026-12-04\n\n## [1.2.2] - 2026-11-01\n- older\n'],
      ['1.2.3', '## [1.2.3] - Unreleased\n\n- soon\n']
    ]) {
      const r = notes(version, input)
      expect(r.status).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(/CHANGELOG\.md/)
    }
  })
})

describe('the Scorecard workflow', () => {
  const scorecard = workflows
    .map(w => ({ ...w, workflow: parse(w.text) as Workflow & { on?: { schedule?: unknown[] } } }))
    .find(w => parsedUses(w.workflow).some(u => u.startsWith('ossf/scorecard-action@')))

  test('runs weekly, publishes, and uploads its SARIF with the permissions it needs', () => {
    expect(scorecard).toBeDefined()
    const { workflow } = scorecard!
    expect(workflow.on?.schedule).toEqual([
      { cron: expect.stringMatching(/^\S+ \S+ \* \* [0-6]$/) }
    ])
    const [job] = Object.values(workflow.jobs ?? {}).filter(j =>
      (j.steps ?? []).some(s => s.uses?.startsWith('ossf/scorecard-action@'))
    )
    expect(job.permissions).toMatchObject({ 'security-events': 'write', 'id-token': 'write' })
    const scan = job.steps!.find(s => s.uses?.startsWith('ossf/scorecard-action@'))!
    expect(scan.with).toMatchObject({ results_format: 'sarif', publish_results: true })
    const upload = job.steps!.find(s => s.uses?.startsWith('github/codeql-action/upload-sarif@'))
    expect(upload?.with?.sarif_file).toBe(scan.with?.results_file)
  })
})
