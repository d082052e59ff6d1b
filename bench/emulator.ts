/**
 * The emulator in its own process (`node --import emulator/register.mjs emulator/cli.ts`),
 * so its CPU cost — an MD5 and a SHA-256 of every byte received — is the same for every
 * contender and never competes with the bench process's event loop. Driven over HTTP only.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface LogEntry {
  target: 'api' | 's3'
  method: string
  path: string
  status: number
  contentLength?: number
  /** ms since the epoch, by the emulator's clock (the same machine's). */
  startedAt: number
  endedAt: number
}

/** With `--github`: the GitHub emulator started beside it. */
export interface GitHubSide {
  apiUrl: string
  token: string
  repository: string
}

export class EmulatorProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly apiUrl: string,
    readonly token: string,
    readonly s3Url: string,
    readonly github?: GitHubSide
  ) {}

  /** Starts the CLI with `args` (e.g. --rate-limit 1200) and waits for its four lines. */
  static async start(root: string, args: string[] = []): Promise<EmulatorProcess> {
    const child = spawn(
      process.execPath,
      ['--import', './emulator/register.mjs', join('emulator', 'cli.ts'), ...args],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] }
    )
    const github = args.includes('--github')
    const vars = await readVars(child, [
      'POLAR_API_URL',
      'POLAR_TOKEN',
      'S3_URL',
      ...(github ? ['GITHUB_API_URL', 'GITHUB_TOKEN', 'GITHUB_REPOSITORY'] : [])
    ])
    return new EmulatorProcess(
      child,
      vars.POLAR_API_URL,
      vars.POLAR_TOKEN,
      vars.S3_URL,
      github
        ? {
            apiUrl: vars.GITHUB_API_URL,
            token: vars.GITHUB_TOKEN,
            repository: vars.GITHUB_REPOSITORY
          }
        : undefined
    )
  }

  /** A call to a control route of the GitHub emulator (no auth). */
  async githubControl<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const base = this.github!.apiUrl.replace(/\/api\/v3$/, '')
    const response = await fetch(`${base}/_emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await response.text()
    if (!response.ok)
      throw new Error(
        `github emulator ${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`
      )
    return (text ? JSON.parse(text) : undefined) as T
  }

  /** A call to a `/_emulator/` control route (no auth). */
  async control<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return this.fetchJson<T>(method, `/_emulator/${path}`, body, {})
  }

  /** A Polar API call with the emulator's organization token. */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return this.fetchJson<T>(method, path, body, { authorization: `Bearer ${this.token}` })
  }

  log(): Promise<LogEntry[]> {
    return this.control<LogEntry[]>('GET', 'log')
  }

  clearLog(): Promise<unknown> {
    return this.control('DELETE', 'log')
  }

  /** The release a run replaces: `names` as hour-old files of `size` bytes, one benefit listing them. */
  async seedRelease(names: string[], size: number): Promise<{ old: string[]; benefitId: string }> {
    const hourAgo = new Date(Date.now() - 3600_000).toISOString()
    const old: string[] = []
    for (const name of names) {
      const f = await this.control<{ id: string }>('POST', 'seed/file', {
        name,
        size,
        createdAt: hourAgo
      })
      old.push(f.id)
    }
    const benefit = await this.control<{ id: string }>('POST', 'seed/benefit', { files: old })
    return { old, benefitId: benefit.id }
  }

  /** The inputs of a run that uploads `*.bin` into `benefitId` within `ratePerMinute`. */
  benefitInputs(benefitId: string, ratePerMinute: number): Record<string, string> {
    return {
      token: this.token,
      'api-url': this.apiUrl,
      files: '*.bin',
      'if-unchanged': 'upload',
      'benefit-ids': benefitId,
      'rate-limit': String(ratePerMinute)
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise(resolve => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    await exited
  }

  private async fetchJson<T>(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>
  ): Promise<T> {
    const response = await fetch(this.apiUrl + path, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await response.text()
    if (!response.ok) {
      throw new Error(`emulator ${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`)
    }
    return (text ? JSON.parse(text) : undefined) as T
  }
}

/** Reads KEY=value lines from the child's stdout until every key in `keys` was seen. */
function readVars(child: ChildProcess, keys: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const vars: Record<string, string> = {}
    const lines = createInterface({ input: child.stdout! })
    const onExit = (code: number | null): void =>
      reject(new Error(`the emulator exited (${code}) before printing its URLs`))
    child.once('exit', onExit)
    child.once('error', reject)
    lines.on('line', line => {
      const eq = line.indexOf('=')
      if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1)
      if (keys.every(k => k in vars)) {
        child.off('exit', onExit)
        // Keep draining stdout so the emulator can never block on a full pipe.
        lines.removeAllListeners('line')
        child.stdout!.resume()
        resolve(vars)
      }
    })
  })
}
