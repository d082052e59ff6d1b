// ncc writes its chunks next to the old ones and never removes any: a renumbered lazy chunk
// would stay in dist/ unused (and committed). Remove the bundle's .js files before each build,
// so a stale chunk shows up in `git diff dist/` (CI) as a deleted file.
import { existsSync, readdirSync, rmSync } from 'node:fs'

if (existsSync('dist')) {
  for (const entry of readdirSync('dist', { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.js')) rmSync(`dist/${entry.name}`)
  }
}
