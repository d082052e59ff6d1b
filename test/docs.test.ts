/**
 * Drift tests: the README, the example workflows and the repository's own workflows must agree
 * with action.yml (the source of truth for inputs and outputs), and the version must agree
 * with src/version.ts.
 */
import { describe, expect, test } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, parseAllDocuments } from 'yaml'
import { ACTION_VERSION } from '../src/version.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

interface ActionYml {
  inputs: Record<string, { required?: boolean; default?: unknown }>
  outputs: Record<string, unknown>
}
const action = parse(read('action.yml')) as ActionYml
const declaredInputs = new Set(Object.keys(action.inputs))
const declaredOutputs = new Set(Object.keys(action.outputs))
const README = read('README.md')

/** Rows of the first Markdown table after the `## <heading>` line, as trimmed cells. */
function tableAfter(markdown: string, heading: string): string[][] {
  const lines = markdown.split(/\r?\n/)
  const start = lines.findIndex(l => l.trim() === `## ${heading}`)
  if (start < 0) throw new Error(`README has no "## ${heading}" section`)
  const rows: string[][] = []
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break
    if (line.trimStart().startsWith('|')) {
      rows.push(
        line
          .trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map(c => c.trim())
      )
    } else if (rows.length > 0) {
      break
    }
  }
  // Drop the header row and the |---| separator.
  return rows.filter((r, i) => i > 0 && !r.every(c => /^:?-+:?$/.test(c)))
}

/** The single `code` span a cell holds, or null for a cell without one (e.g. "—"). */
function codeSpan(cell: string): string | null {
  const spans = [...cell.matchAll(/`([^`]+)`/g)].map(m => m[1])
  if (spans.length > 1) throw new Error(`cell "${cell}" holds more than one code span`)
  return spans[0] ?? null
}

describe('README tables match action.yml', () => {
  const inputRows = tableAfter(README, 'Inputs')
  const outputRows = tableAfter(README, 'Outputs')

  test('the inputs table lists exactly the declared inputs', () => {
    const documented = inputRows.map(r => codeSpan(r[0]))
    expect(documented).not.toContain(null)
    expect(new Set(documented).size).toBe(documented.length) // no duplicates
    expect([...documented].sort()).toEqual([...declaredInputs].sort())
  })

  test('the inputs table shows the same defaults', () => {
    const documented = Object.fromEntries(inputRows.map(r => [codeSpan(r[0]), codeSpan(r[1])]))
    const declared = Object.fromEntries(
      Object.entries(action.inputs).map(([name, spec]) => [
        name,
        spec.default === undefined ? null : String(spec.default)
      ])
    )
    expect(documented).toEqual(declared)
  })

  test('required inputs are marked required, and only those', () => {
    const marked = inputRows.filter(r => /\brequired\b/i.test(r[1])).map(r => codeSpan(r[0]))
    const required = Object.entries(action.inputs)
      .filter(([, spec]) => spec.required === true)
      .map(([name]) => name)
    expect(marked.sort()).toEqual(required.sort())
  })

  test('the outputs table lists exactly the declared outputs', () => {
    const documented = outputRows.map(r => codeSpan(r[0]))
    expect(documented).not.toContain(null)
    expect(new Set(documented).size).toBe(documented.length)
    expect([...documented].sort()).toEqual([...declaredOutputs].sort())
  })
})

interface Step {
  id?: string
  uses?: string
  with?: Record<string, unknown>
}

const isThisAction = (uses: unknown) =>
  typeof uses === 'string' && (/(^|\/)polar-files-action@/.test(uses) || uses === './')

/** Every mapping with a `uses:` of this action, anywhere in a parsed document. */
function actionSteps(node: unknown, found: Step[] = []): Step[] {
  if (Array.isArray(node)) node.forEach(n => actionSteps(n, found))
  else if (node && typeof node === 'object') {
    const step = node as Step
    if (isThisAction(step.uses)) found.push(step)
    Object.values(node).forEach(n => actionSteps(n, found))
  }
  return found
}

/** `steps.<id>.outputs.<name>` references inside `${{ }}` expressions. */
function outputReferences(text: string): { id: string; output: string }[] {
  const refs: { id: string; output: string }[] = []
  for (const expr of text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) {
    for (const m of expr[1].matchAll(/steps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g)) {
      refs.push({ id: m[1], output: m[2] })
    }
  }
  return refs
}

function checkUsage(label: string, text: string, docs: unknown[]): string[] {
  const problems: string[] = []
  const steps = docs.flatMap(d => actionSteps(d))
  for (const step of steps) {
    const keys = Object.keys(step.with ?? {})
    for (const key of keys) {
      if (!declaredInputs.has(key)) problems.push(`${label}: undeclared input '${key}'`)
    }
    if (!keys.includes('token')) problems.push(`${label}: a step without the required 'token'`)
    const mode = String(step.with?.mode ?? 'upload')
    if (mode === 'upload' && !keys.includes('files')) {
      problems.push(`${label}: an upload step without 'files'`)
    }
  }
  const ids = new Set(steps.map(s => s.id).filter(Boolean))
  for (const ref of outputReferences(text)) {
    if (ids.has(ref.id) && !declaredOutputs.has(ref.output)) {
      problems.push(`${label}: steps.${ref.id}.outputs.${ref.output} is not a declared output`)
    }
  }
  return problems
}

const listYaml = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter(f => /\.ya?ml$/.test(f))
    .map(f => `${dir}/${f}`)

const EXAMPLES = listYaml('examples')
const WORKFLOWS = listYaml('.github/workflows')

describe('workflows use only what action.yml declares', () => {
  test('the expected examples exist', () => {
    expect(EXAMPLES.sort()).toEqual(
      ['attest', 'benefit-chain', 'cleanup', 'matrix', 'release-mirror', 'release', 'sandbox'].map(
        n => `examples/${n}.yml`
      )
    )
  })

  test.each([...EXAMPLES, ...WORKFLOWS, '.github/dependabot.yml'])('%s parses as YAML', file => {
    const docs = parseAllDocuments(read(file))
    expect(docs.flatMap(d => d.errors.map(e => e.message))).toEqual([])
    expect(docs).toHaveLength(1)
  })

  test.each([...EXAMPLES, ...WORKFLOWS])('%s: with: keys and outputs are declared', file => {
    const text = read(file)
    const workflow = parse(text) as { on?: unknown; jobs?: Record<string, unknown> }
    expect(workflow.jobs).toBeDefined()
    // A job's steps can only see their own job's step ids: check job by job.
    const problems = Object.entries(workflow.jobs ?? {}).flatMap(([name, job]) =>
      checkUsage(`${file} job ${name}`, JSON.stringify(job), [job])
    )
    expect(problems).toEqual([])
  })

  test.each(EXAMPLES)('%s uses the action as your-org/polar-files-action@v1', file => {
    const steps = actionSteps(parse(read(file)))
    expect(steps.length).toBeGreaterThan(0)
    expect(steps.map(s => s.uses)).toEqual(steps.map(() => 'your-org/polar-files-action@v1'))
  })

  test("the README's YAML snippets use only declared inputs and outputs", () => {
    const blocks = [...README.matchAll(/```ya?ml\r?\n([\s\S]*?)```/g)].map(m => m[1])
    expect(blocks.length).toBeGreaterThan(0)
    const docs = blocks.map(b => parse(b) as unknown)
    expect(docs.flatMap(d => actionSteps(d)).length).toBeGreaterThan(0)
    expect(checkUsage('README', blocks.join('\n'), docs)).toEqual([])
  })

  test('the checker itself catches an undeclared input and output', () => {
    const bad = `
jobs:
  j:
    steps:
      - uses: your-org/polar-files-action@v1
        id: p
        with: { token: x, files: a, no-such-input: 1 }
      - run: echo \${{ steps.p.outputs.no-such-output }}
`
    expect(checkUsage('bad', bad, [parse(bad)])).toEqual([
      "bad: undeclared input 'no-such-input'",
      'bad: steps.p.outputs.no-such-output is not a declared output'
    ])
  })
})

describe('versions agree', () => {
  const pkg = JSON.parse(read('package.json')) as { version: string }

  test('package.json version equals ACTION_VERSION in src/version.ts', () => {
    expect(pkg.version).toBe(ACTION_VERSION)
  })

  test('CHANGELOG.md has a section for the package version', () => {
    const escaped = pkg.version.replace(/\./g, '\\.')
    expect(read('CHANGELOG.md')).toMatch(new RegExp(`^## \\[${escaped}\\]`, 'm'))
  })
})

describe('README troubleshooting rows quote real messages', () => {
  // Every string literal of src/, in order, template holes as \0: a message split over
  // concatenated literals or built around values still reads through.
  const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter(f => f.endsWith('.ts'))
    .map(f => read(join('src', f)))
  const literal = /'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g
  const corpus = sources
    .flatMap(text =>
      [...text.matchAll(literal)].map(m =>
        (m[1] ?? m[2] ?? m[3]).replace(/\$\{[^}]*\}/g, '\0').replace(/\\(.)/g, '$1')
      )
    )
    .join('')
  const rows = tableAfter(README, 'Troubleshooting')
  /**
   * A quoted message cut at its placeholders (…, <name>, N, M) into the literal runs to look
   * for; the prefixes that error classes add (`Input 'x': `, `Polar API … failed: HTTP n code`)
   * are checked once, in errors.ts, not per message.
   */
  const fragments = (message: string) =>
    message
      .replace(/^Input '[^']+': /, '')
      .replace(/^(Polar|GitHub) API … failed: (HTTP \S+( [a-z_]+)?|no response)( …)?/, '')
      .split(/v…|…|<[^>]+>|\bN\b|\bM\b|'…'/)
      .map(f =>
        f
          .trim()
          .replace(/^[.:,;)(]+|[.:,;(]+$/g, '')
          .trim()
      )
      .filter(f => f.length >= 12)

  test.each(rows.map(r => [r[0]]))('%s', cell => {
    const spans = [...cell.matchAll(/(`+)(.+?)\1/g)].map(m => m[2])
    expect(spans.length).toBeGreaterThan(0)
    const missing = spans.flatMap(fragments).filter(f => !corpus.includes(f))
    expect(missing).toEqual([])
  })
  test('the prefixes the error classes add', () => {
    expect(corpus).toContain("Input '\0': ")
    expect(corpus).toContain('Polar API \0 \0 failed: ')
    expect(corpus).toContain('GitHub API \0 \0 failed: ')
  })
})

describe('no pointer outside the repository', () => {
  // A clone has no shared folder beside it: a comment or a README pointing there sends readers
  // nowhere. The emulator's check of its vendored OpenAPI copy against it (when present) may.
  const allowed = ['emulator/polar/openapi.ts', 'emulator/polar/controls.test.ts']
  const files = ['src', 'scripts', 'test', 'emulator', 'bench', 'examples', '.github']
    .flatMap(dir =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map(f => `${dir}/${f}`)
    )
    .concat(
      readdirSync(ROOT).filter(f => /\.(md|js|mjs|json|yml)$/.test(f) && f !== 'package-lock.json')
    )
    .map(f => f.split('\\').join('/'))
    .filter(f => /\.(ts|js|mjs|md|yml|json)$/.test(f) && !allowed.includes(f))
  test.each(files)('%s', file => {
    expect(read(file).match(/.*\.\.\/shared\/.*/g) ?? []).toEqual([])
  })
})
