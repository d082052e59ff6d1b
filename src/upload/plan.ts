/**
 * Resolves the patterns into the files to upload and checks everything that can be checked
 * without the network: each file exists, is a regular readable file, fits in 10,000 parts,
 * and renders a valid name that no other matched file also renders.
 */
import * as glob from '@actions/glob'
import { open, stat } from 'node:fs/promises'
import * as path from 'node:path'
import { errorMessage, InputError, PlanError } from '../errors.js'
import { nameProblem, renderName } from './names.js'
import { tooLarge } from './parts.js'

export interface PlannedFile {
  /** Absolute path on disk. */
  path: string
  /** Relative to working-directory, with forward slashes (for outputs). */
  relativePath: string
  name: string
  size: number
  mimeType: string
}

export interface PlanOptions {
  patterns: string[]
  workingDirectory: string
  nameTemplate: string
  version: string | null
}

export async function planFiles(options: PlanOptions): Promise<PlannedFile[]> {
  const { workingDirectory } = options
  const dir = await stat(workingDirectory).catch(() => null)
  if (!dir?.isDirectory()) {
    throw new InputError(
      'working-directory',
      `'${workingDirectory}' is not a directory. Check the path (it is relative to the workspace).`
    )
  }

  // Loaded here, not at start-up: its database costs ~15 ms that the first API call need not wait for.
  const { default: mime } = await import('mime-types')
  const paths = await matchPaths(options.patterns, workingDirectory)
  const planned: PlannedFile[] = []
  const problems: string[] = []
  const byName = new Map<string, string>()

  for (const filePath of paths) {
    const relativePath = path.relative(workingDirectory, filePath).split(path.sep).join('/')
    let size: number
    try {
      const handle = await open(filePath, 'r') // proves it is readable now, not only present
      try {
        size = (await handle.stat()).size
      } finally {
        await handle.close()
      }
    } catch (error) {
      problems.push(`${relativePath}: cannot be read (${errorMessage(error)})`)
      continue
    }
    if (tooLarge(size)) {
      problems.push(`${relativePath}: ${size} bytes is larger than 10,000 parts of 5 GiB`)
      continue
    }
    const name = renderName(options.nameTemplate, filePath, options.version)
    const problem = nameProblem(name)
    if (problem) {
      problems.push(`${relativePath}: its name '${name}' ${problem}; check the \`name\` input`)
      continue
    }
    const other = byName.get(name)
    if (other !== undefined) {
      problems.push(
        `${other} and ${relativePath} would both be named '${name}'. ` +
          'Narrow `files`, or use a `name` template that tells them apart.'
      )
      continue
    }
    byName.set(name, relativePath)
    planned.push({
      path: filePath,
      relativePath,
      name,
      size,
      mimeType: mime.lookup(name) || mime.lookup(filePath) || 'application/octet-stream'
    })
  }
  if (problems.length > 0) {
    throw new PlanError(
      `${problems.length} matched file(s) cannot be uploaded:\n  - ${problems.join('\n  - ')}`
    )
  }
  return planned
}

/** Patterns are relative to working-directory; directories are dropped; paths sorted. */
async function matchPaths(patterns: string[], workingDirectory: string): Promise<string[]> {
  const rooted = patterns.map(p => {
    const negated = p.startsWith('!')
    const body = negated ? p.slice(1) : p
    const absolute =
      path.isAbsolute(body) || body.startsWith('~') ? body : path.join(workingDirectory, body)
    return (negated ? '!' : '') + absolute
  })
  const globber = await glob.create(rooted.join('\n'), { matchDirectories: false })
  const found = await globber.glob()
  const files: string[] = []
  for (const p of found) {
    const s = await stat(p).catch(() => null)
    if (s?.isFile()) files.push(p)
  }
  return [...new Set(files)].sort(compareStrings)
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
