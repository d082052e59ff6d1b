/** Results: the markdown table (stdout, BENCHMARKS.md) and the JSON file CI can compare. */
import { writeFileSync } from 'node:fs'

export interface Result {
  name: string
  value: number
  unit: string
  /** What the value is compared with (null: none). */
  baseline: number | null
  ratio: number | null
  /** The target, for reading; `met` says whether this run meets it. */
  target?: string
  met?: boolean
}

function cell(n: number | null): string {
  return n === null ? '—' : String(n)
}

export function markdownTable(results: Result[]): string {
  const rows = results.map(
    r =>
      `| ${r.name} | ${r.value} | ${r.unit} | ${cell(r.baseline)} | ${cell(r.ratio)} | ` +
      `${r.target ?? '—'} | ${r.met === undefined ? '—' : r.met ? 'yes' : '**no**'} |`
  )
  return [
    '| name | value | unit | baseline | ratio | target | met |',
    '|---|---:|---|---:|---:|---|---|',
    ...rows
  ].join('\n')
}

export function writeResults(path: string, results: Result[]): void {
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`)
}
