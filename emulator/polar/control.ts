/** `/_emulator/…` control routes on the API port: no auth, never logged, never faulted. */
import { pathFromJson } from '../common/faults.js'
import { faultFromJson } from './faults.js'
import { controlHandler, type ControlHandler } from '../common/control.js'
import type { Reply } from '../common/http-util.js'
import type { MalwareRule } from './malware.js'
import type { Emulator, Hold, S3NetworkSettings, SeedBenefit, SeedFile } from './types.js'
import { versionsAt, type VersionSettings } from './versions.js'

type Controls = Pick<
  Emulator,
  | 'log'
  | 'clearLog'
  | 'files'
  | 'benefits'
  | 'injectFault'
  | 'clearFaults'
  | 'setRateLimit'
  | 'setApiLatency'
  | 'setUrlExpiry'
  | 'setApiJitter'
  | 'holdRequests'
  | 'clearHolds'
  | 'setS3Network'
  | 'seedFile'
  | 'seedBenefit'
  | 'createToken'
  | 'setVersions'
  | 'versions'
  | 'flagMalicious'
  | 'clearMalwareRules'
  | 'flagFile'
>

interface ConfigBody extends Partial<S3NetworkSettings> {
  rateLimitPerMinute?: number | null
  apiLatencyMs?: number
  apiJitterMs?: number
  urlExpirySeconds?: number
}

async function route(
  emu: Controls,
  method: string,
  path: string,
  body: () => Promise<unknown>
): Promise<Reply | undefined> {
  switch (`${method} ${path}`) {
    case 'GET /_emulator/files':
      return { status: 200, json: emu.files() }
    case 'GET /_emulator/benefits':
      return { status: 200, json: emu.benefits() }
    case 'POST /_emulator/config': {
      const c = ((await body()) ?? {}) as ConfigBody
      if (c.rateLimitPerMinute !== undefined) emu.setRateLimit(c.rateLimitPerMinute)
      if (c.apiLatencyMs !== undefined) emu.setApiLatency(c.apiLatencyMs)
      if (c.urlExpirySeconds !== undefined) emu.setUrlExpiry(c.urlExpirySeconds)
      if (c.apiJitterMs !== undefined) emu.setApiJitter(c.apiJitterMs)
      emu.setS3Network({
        s3ConnectionBytesPerSec: c.s3ConnectionBytesPerSec,
        s3TotalBytesPerSec: c.s3TotalBytesPerSec,
        s3RttMs: c.s3RttMs,
        s3TrustChecksums: c.s3TrustChecksums
      })
      return { status: 204 }
    }
    case 'POST /_emulator/holds': {
      const h = (await body()) as Hold & { path?: unknown }
      emu.holdRequests({ ...h, path: pathFromJson(h.path) })
      return { status: 204 }
    }
    case 'DELETE /_emulator/holds':
      emu.clearHolds()
      return { status: 204 }
    case 'POST /_emulator/seed/file':
      return { status: 201, json: emu.seedFile((await body()) as SeedFile) }
    case 'POST /_emulator/seed/benefit':
      return { status: 201, json: emu.seedBenefit((await body()) as SeedBenefit) }
    case 'POST /_emulator/tokens': {
      const o = ((await body()) ?? {}) as Parameters<Emulator['createToken']>[0]
      return { status: 201, json: { token: emu.createToken(o) } }
    }
    case 'GET /_emulator/versions':
      return { status: 200, json: emu.versions() }
    case 'POST /_emulator/versions': {
      // {served, current}, or {quarter: '2027-04'} for Polar right after that release.
      const v = (await body()) as VersionSettings & { quarter?: string }
      emu.setVersions(v.quarter ? versionsAt(v.quarter) : v)
      return { status: 200, json: emu.versions() }
    }
    case 'POST /_emulator/malware':
      emu.flagMalicious((await body()) as MalwareRule)
      return { status: 204 }
    case 'DELETE /_emulator/malware':
      emu.clearMalwareRules()
      return { status: 204 }
    default: {
      const flag = /^\/_emulator\/files\/([^/]+)\/flag$/.exec(path)
      if (method === 'POST' && flag) return { status: 200, json: emu.flagFile(flag[1]) }
      return undefined
    }
  }
}

/** Returns false when `path` is not a control route (the API handles it). */
export function createControl(emu: Controls): ControlHandler {
  return controlHandler(emu, faultFromJson, (method, path, body) => route(emu, method, path, body))
}
