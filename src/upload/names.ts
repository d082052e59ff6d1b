/** Polar file names from the `name` template. Pure. */
import * as path from 'node:path'

const PLACEHOLDERS = ['basename', 'stem', 'ext', 'version'] as const
// Extensions that belong together, so `{stem}-{version}{ext}` gives app-1.0.tar.gz.
const COMPOUND_EXTENSIONS = /\.tar\.(gz|bz2|xz|zst|lz|lz4|lzma|Z)$/i

/** A problem with the template, or null when it is usable. */
export function validateTemplate(template: string): string | null {
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1])) {
      return (
        `unknown placeholder {${m[1]}} in '${template}'. ` +
        `Use ${PLACEHOLDERS.map(p => `{${p}}`).join(', ')}.`
      )
    }
  }
  return null
}

export function splitName(basename: string): { stem: string; ext: string } {
  const compound = COMPOUND_EXTENSIONS.exec(basename)
  const ext = compound && compound.index > 0 ? compound[0] : path.extname(basename)
  return { stem: basename.slice(0, basename.length - ext.length), ext }
}

/**
 * `{basename}` = `{stem}{ext}`; `{ext}` keeps its dot (`.zip`, `.tar.gz`). `.{ext}` is read as
 * `{ext}`, so templates written either way give one dot (and none for a file without one).
 */
export function renderName(template: string, filePath: string, version: string | null): string {
  const basename = path.basename(filePath)
  const { stem, ext } = splitName(basename)
  const values: Record<string, string> = { basename, stem, ext, version: version ?? '' }
  return template
    .replace(/\.\{ext\}/g, '{ext}')
    .replace(/\{(basename|stem|ext|version)\}/g, (_, key: string) => values[key])
}

/** Why a rendered name cannot be a Polar file name, or null. */
export function nameProblem(name: string): string | null {
  if (!name.trim()) return 'is empty'
  if (name.includes('\0')) return 'contains a NUL character'
  if (name.includes('/')) return "contains '/' (Polar uses the name as the last part of a path)"
  return null
}

/**
 * Gives `name` to `source` (a path, or a release asset's name) unless it cannot be a Polar file
 * name or another source already has it: then returns the problem (the caller collects them, so
 * every one is reported at once). `taken` maps names to their sources. `tellApart` is the
 * advice for a clash.
 */
export function claimName(
  name: string,
  source: string,
  taken: Map<string, string>,
  tellApart: string
): string | null {
  const problem = nameProblem(name)
  if (problem) return `${source}: its name '${name}' ${problem}; check the \`name\` input`
  const other = taken.get(name)
  if (other !== undefined)
    return `${other} and ${source} would both be named '${name}'. ${tellApart}`
  taken.set(name, source)
  return null
}
