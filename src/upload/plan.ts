/**
 * Resolves the patterns into the files to upload and checks everything that can be checked
 * without the network: each pattern line matched a file, each file exists, is a regular
 * readable file, fits in 10,000 parts, and renders a valid name that no other matched file
 * also renders.
 */
import * as glob from '@actions/glob'
import { braceExpand } from 'minimatch'
import { open, stat } from 'node:fs/promises'
import * as path from 'node:path'
import { errorMessage, InputError, PlanError } from '../errors.js'
import type { FileHashes } from './hash.js'
import { claimName, renderName } from './names.js'
import { tooLarge } from './parts.js'

export interface PlannedFile {
  /** Absolute path on disk; '' for a release asset reused without being downloaded. */
  path: string
  /** Relative to working-directory, with forward slashes (for outputs); a release asset's name. */
  relativePath: string
  name: string
  size: number
  mimeType: string
  /** The content's SHA-256 when known before hashing (GitHub's digest of a release asset). */
  sha256?: string
  /** Every hash the upload needs, when computed already (a release asset, as it downloaded). */
  hashes?: FileHashes
}

/** The MIME type Polar gets: by the file name, then its path. */
export async function mimeTypeOf(...names: string[]): Promise<string> {
  // Loaded here, not at start-up: parsing its database need not delay the first API call
  // (see BENCHMARKS.md).
  const { default: mime } = await import('mime-types')
  for (const name of names) {
    const type = mime.lookup(name)
    if (type) return type
  }
  return 'application/octet-stream'
}

export interface PlanOptions {
  patterns: string[]
  workingDirectory: string
  nameTemplate: string
  version: string | null
  includeHiddenFiles: boolean
  ifNoFilesFound: 'error' | 'warn' | 'ignore'
}

export interface Plan {
  files: PlannedFile[]
  /** Pattern lines (not `!`) that matched no file to upload; only with warn/ignore. */
  unmatched: string[]
  /** Matched files left out because they or a folder of theirs start with `.`. */
  hiddenSkipped: number
  /** The message about `unmatched`, for the log (warning with warn, info with ignore). */
  unmatchedMessage: string | null
  /** Things that work but are likely mistakes (a folder as a pattern, an empty file). */
  warnings: string[]
}

export async function planFiles(options: PlanOptions): Promise<Plan> {
  const { workingDirectory } = options
  const dir = await stat(workingDirectory).catch(() => null)
  if (!dir?.isDirectory()) {
    throw new InputError(
      'working-directory',
      `'${workingDirectory}' is not a directory. Check the path (it is relative to the workspace).`
    )
  }

  const matched = await matchPaths(options.patterns, workingDirectory, options.includeHiddenFiles)
  const unmatchedMessage = matched.unmatched.length
    ? unmatchedText(matched, options.patterns, workingDirectory)
    : null
  if (unmatchedMessage && options.ifNoFilesFound === 'error') {
    throw new InputError(
      'files',
      `${unmatchedMessage} Check the paths and the build steps, or set if-no-files-found: warn.`
    )
  }
  const paths = matched.paths
  const warnings = matched.folders.map(
    p =>
      `'${p}' in \`files\` is a folder: every file below it, in every subfolder, is published. ` +
      `Write '${p.replace(/\/+$/, '')}/*' for the files directly in it.`
  )
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
    if (size === 0) {
      warnings.push(
        `${relativePath} is empty (0 bytes), usually a build step that failed; published as is.`
      )
    }
    if (tooLarge(size)) {
      problems.push(`${relativePath}: ${size} bytes is larger than 10,000 parts of 5 GiB`)
      continue
    }
    const name = renderName(options.nameTemplate, filePath, options.version)
    const clash = claimName(
      name,
      relativePath,
      byName,
      'Narrow `files`, or use a `name` template that tells them apart.'
    )
    if (clash) {
      problems.push(clash)
      continue
    }
    planned.push({
      path: filePath,
      relativePath,
      name,
      size,
      mimeType: await mimeTypeOf(name, filePath)
    })
  }
  if (problems.length > 0) {
    throw new PlanError(
      `${problems.length} matched file(s) cannot be uploaded:\n  - ${problems.join('\n  - ')}`
    )
  }
  return {
    files: planned,
    unmatched: matched.unmatched,
    hiddenSkipped: matched.hidden.size,
    unmatchedMessage,
    warnings
  }
}

interface Matches {
  paths: string[]
  /** Include lines that matched no file to upload. */
  unmatched: string[]
  /** Hidden files left out, and which of the unmatched lines matched only such files. */
  hidden: Set<string>
  onlyHidden: Set<string>
  /** Include lines that name a folder (its files are matched recursively). */
  folders: string[]
}

/**
 * Each include line on its own (with every `!` line), so a line that matched nothing can be
 * named: one missing platform artifact must not pass unnoticed. Braces are expanded here
 * (@actions/glob does not); patterns are relative to working-directory; directories are
 * dropped; paths sorted.
 */
async function matchPaths(
  patterns: string[],
  workingDirectory: string,
  includeHidden: boolean
): Promise<Matches> {
  const root = (p: string) =>
    path.isAbsolute(p) || p.startsWith('~') ? p : path.join(workingDirectory, p)
  const expand = (p: string) => braceExpand(p).map(root)
  const excludes = patterns
    .filter(p => p.startsWith('!'))
    .flatMap(p => expand(p.slice(1)))
    .map(p => `!${p}`)
  const files = new Set<string>()
  const result: Matches = {
    paths: [],
    unmatched: [],
    hidden: new Set(),
    onlyHidden: new Set(),
    folders: []
  }
  for (const line of patterns.filter(p => !p.startsWith('!'))) {
    const alternatives = expand(line)
    if (!/[*?[\]{}]/.test(line) && (await stat(root(line)).catch(() => null))?.isDirectory()) {
      result.folders.push(line)
    }
    const globber = await glob.create([...alternatives, ...excludes].join('\n'), {
      matchDirectories: false
    })
    let visible = 0
    let hidden = 0
    for (const found of await globber.glob()) {
      if (!(await stat(found).catch(() => null))?.isFile()) continue
      if (!includeHidden && isHidden(found, workingDirectory, alternatives)) {
        result.hidden.add(found)
        hidden++
      } else {
        files.add(found)
        visible++
      }
    }
    if (visible === 0) {
      result.unmatched.push(line)
      if (hidden > 0) result.onlyHidden.add(line)
    }
  }
  result.paths = [...files].sort(compareStrings)
  return result
}

/**
 * Hidden as actions/upload-artifact means it: the file's name, or a folder's between the base
 * and the file, starts with `.`. The base is working-directory for files inside it, else the
 * fixed leading folders of the pattern that found it (so `/home/me/.cache/out/*.zip` can
 * still name an explicitly chosen folder).
 */
export function isHidden(file: string, workingDirectory: string, patterns: string[]): boolean {
  const inside = path.relative(workingDirectory, file)
  let rel = inside
  if (inside.startsWith('..') || path.isAbsolute(inside)) {
    const base = patterns
      .map(fixedPrefix)
      .filter(prefix => file.startsWith(prefix + path.sep))
      .sort((a, b) => b.length - a.length)[0]
    rel = base ? path.relative(base, file) : path.basename(file)
  }
  return rel.split(/[\\/]/).some(segment => segment.startsWith('.') && segment !== '..')
}

/** The folders of a pattern before its first wildcard (the whole dirname of a literal path). */
function fixedPrefix(pattern: string): string {
  const segments = pattern.split(/[\\/]/)
  const firstMagic = segments.findIndex(s => /[*?[\]]/.test(s))
  const fixed = firstMagic < 0 ? segments.slice(0, -1) : segments.slice(0, firstMagic)
  return fixed.join(path.sep) || path.sep
}

function unmatchedText(m: Matches, patterns: string[], workingDirectory: string): string {
  const lines = m.unmatched.map(p =>
    m.onlyHidden.has(p) ? `'${p}' (only hidden files)` : `'${p}'`
  )
  const includes = patterns.filter(p => !p.startsWith('!')).length
  const list = lines.join(', ')
  const hiddenHint = m.onlyHidden.size
    ? ' Hidden files (a name or folder starting with `.`) are skipped unless include-hidden-files: true.'
    : ''
  // On Linux and macOS a backslash escapes the next character in a glob; a slash works anywhere.
  const slash = m.unmatched.find(p => p.includes('\\'))
  const fixed = slash?.split('\\').join('/')
  const slashHint =
    fixed && path.sep === '/'
      ? ` A backslash in a pattern escapes the next character: write '${fixed}' (/ works on every OS).`
      : ''
  return m.unmatched.length === includes
    ? `No file matched \`files\` under ${workingDirectory}: ${list}.${hiddenHint}${slashHint}`
    : `${m.unmatched.length} of ${includes} patterns in \`files\` matched no file under ${workingDirectory}: ${list}.${hiddenHint}${slashHint}`
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
