/**
 * The repository's own workflows, beyond what docs.test.ts checks (YAML syntax, this action's
 * inputs and outputs): GitHub Actions cannot run here, so catch what would only fail there.
 */
import { describe, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIR = '.github/workflows'

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  shell?: string
}
interface Job {
  steps: Step[]
  defaults?: { run?: { shell?: string } }
  'runs-on'?: string
}

const workflows = readdirSync(join(ROOT, DIR))
  .filter(f => /\.ya?ml$/.test(f))
  .map(f => ({ file: `${DIR}/${f}`, text: readFileSync(join(ROOT, DIR, f), 'utf8') }))

const jobs = workflows.flatMap(({ file, text }) =>
  Object.entries((parse(text) as { jobs: Record<string, Job> }).jobs).map(([name, job]) => ({
    label: `${file} job ${name}`,
    job
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
