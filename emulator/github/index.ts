/**
 * Local GitHub REST stand-in for the `release` source: releases and assets under a GHES-style
 * prefix, downloads through a 302 to a storage server on another hostname. See README.md (the
 * behaviour it follows, section by section).
 */
import type { Server } from 'node:http'
import { closeServer, listen, urlHost } from '../common/server.js'
import { createControl } from './control.js'
import { GitHubFaults } from './faults.js'
import { GitHubLog } from './log.js'
import { HourlyLimits } from './ratelimit.js'
import { createApiServer, type ApiConfig } from './server-api.js'
import { createStorageServer } from './server-storage.js'
import { Signer } from './signing.js'
import { GitHubState } from './state.js'
import type { GitHubEmulator, GitHubEmulatorOptions } from './types.js'

export type {
  AddAsset,
  AssetServe,
  AssetState,
  CreateToken,
  GitHubEmulator,
  GitHubEmulatorOptions,
  GitHubFault,
  GitHubLogEntry
} from './types.js'
export { HTML_ERROR_PAGE } from './server-storage.js'

function positiveInt(name: string, value: number, max = Infinity): number {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new Error(`${name} must be an integer in 1..${max}, got ${value}`)
  return value
}

/**
 * Bind the storage server. Without an explicit storageHost, 127.0.0.2 is tried first; where it
 * cannot be bound (macOS has only 127.0.0.1 on lo0), the server binds apiHost and is reached
 * as 'localhost': still another hostname, which is what @actions/http-client compares.
 */
async function listenStorage(
  server: Server,
  apiHost: string,
  explicit: string | undefined,
  port: number
): Promise<string> {
  const host = explicit ?? '127.0.0.2'
  try {
    return `http://${urlHost(host)}:${await listen(server, host, port)}`
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (explicit !== undefined || code !== 'EADDRNOTAVAIL' || apiHost !== '127.0.0.1') throw err
    console.warn('GitHub emulator: 127.0.0.2 cannot be bound here; storage is http://localhost')
    return `http://localhost:${await listen(server, apiHost, port)}`
  }
}

export async function startGitHubEmulator(
  options: GitHubEmulatorOptions = {}
): Promise<GitHubEmulator> {
  const apiHost = options.apiHost ?? '127.0.0.1'
  const prefix = (options.apiPrefix ?? '/api/v3').replace(/\/+$/, '')
  if (prefix !== '' && !prefix.startsWith('/')) throw new Error('apiPrefix must start with /')
  const config: ApiConfig = {
    prefix,
    urls: { apiUrl: '', serverUrl: '' },
    storageUrl: '',
    signedUrlTtlSeconds: positiveInt('signedUrlTtlSeconds', options.signedUrlTtlSeconds ?? 300),
    perPageDefault: positiveInt('perPageDefault', options.perPageDefault ?? 30, 100),
    embeddedAssetsLimit: options.embeddedAssetsLimit ?? 10
  }
  const state = new GitHubState()
  const faults = new GitHubFaults()
  const log = new GitHubLog()
  const signer = new Signer()
  const limits = new HourlyLimits(positiveInt('rateLimitPerHour', options.rateLimitPerHour ?? 5000))

  const storageServer = createStorageServer({ state, faults, log, signer })
  config.storageUrl = await listenStorage(
    storageServer,
    apiHost,
    options.storageHost,
    options.storagePort ?? 0
  )

  const emulator: GitHubEmulator = {
    apiUrl: '',
    storageUrl: config.storageUrl,
    serverUrl: '',
    token: state.createToken(),
    createToken: o => state.createToken(o),
    addRepo: o => state.addRepo(o),
    addRelease: o => state.addRelease(o),
    addAsset: o => state.addAsset(o),
    setAssetState: (id, s) => state.setAssetState(id, s),
    injectFault: f => faults.add(f),
    clearFaults: () => faults.clear(),
    log: () => log.all(),
    clearLog: () => log.clear(),
    close: async () => {
      state.close()
      await Promise.all([closeServer(apiServer), closeServer(storageServer)])
    }
  }
  const apiServer = createApiServer({
    state,
    faults,
    log,
    limits,
    signer,
    config,
    control: createControl(emulator)
  })
  try {
    const port = await listen(apiServer, apiHost, options.apiPort ?? 0)
    const origin = `http://${urlHost(apiHost)}:${port}`
    config.urls.serverUrl = emulator.serverUrl = origin
    config.urls.apiUrl = emulator.apiUrl = `${origin}${prefix}`
  } catch (err) {
    await closeServer(storageServer)
    throw err
  }
  return emulator
}
