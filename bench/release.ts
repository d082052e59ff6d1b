/**
 * release_N: the bundled action publishing a GitHub release's N-byte asset (the GitHub
 * emulator's API and storage in the emulator process), against its two parts measured alone
 * in the same rounds: the download (curl following the redirect, into a file) and the upload
 * (the action publishing the same bytes from a local file).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { runAction } from './action.js'
import type { EmulatorProcess } from './emulator.js'
import { uploadRun, type Ctx, type Workspace } from './scenarios.js'
import { progress, timeCommandOk } from './util.js'

export interface ReleaseRound {
  /** The action with `release`: download + publish, spawn to exit. */
  releaseMs: number
  releaseRssKiB: number
  /** curl of the asset alone, and the action's local upload of the same bytes alone. */
  downloadMs: number
  uploadMs: number
}

export async function releaseRounds(
  ctx: Ctx,
  emu: EmulatorProcess,
  ws: Workspace,
  rounds: number
): Promise<ReleaseRound[]> {
  const gh = emu.github!
  const [owner, repo] = gh.repository.split('/')
  const tag = `v${Date.now()}`
  await emu.githubControl('POST', 'releases', { repo: gh.repository, tag })
  const asset = await emu.githubControl<{ id: number }>('POST', 'assets', {
    repo: gh.repository,
    tag,
    name: ws.file,
    content: { path: join(ws.dir, ws.file) }
  })
  const inputs = {
    token: emu.token,
    'api-url': emu.apiUrl,
    release: tag,
    'github-token': gh.token,
    replace: 'false',
    'if-unchanged': 'upload'
  }
  const env = { GITHUB_API_URL: gh.apiUrl, GITHUB_REPOSITORY: gh.repository }
  const out: ReleaseRound[] = []
  for (let i = 0; i < rounds; i++) {
    const downloaded = join(ctx.tmp, 'release-download.bin')
    const download = await timeCommandOk('curl', [
      ...['-sS', '--fail', '-L', '-o', downloaded],
      ...['-H', 'Accept: application/octet-stream', '-H', `Authorization: token ${gh.token}`],
      `${gh.apiUrl}/repos/${owner}/${repo}/releases/assets/${asset.id}`
    ])
    rmSync(downloaded, { force: true })
    const upload = await uploadRun(ctx, emu, ws)
    const release = await runAction(ctx.bundle, inputs, ctx.tmp, ctx.tmp, env)
    progress(
      `release run ${i + 1}: ${(release.ms / 1000).toFixed(2)} s (download alone ${(download.ms / 1000).toFixed(2)} s, ` +
        `upload alone ${(upload.ms / 1000).toFixed(2)} s), peak RSS ${(release.maxRssKiB / 1024).toFixed(0)} MiB`
    )
    out.push({
      releaseMs: release.ms,
      releaseRssKiB: release.maxRssKiB,
      downloadMs: download.ms,
      uploadMs: upload.ms
    })
  }
  return out
}
