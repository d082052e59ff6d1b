/** `/_emulator/…` control routes on the API port: no auth, never logged, never faulted. */
import { controlHandler, type ControlHandler } from '../common/control.js'
import type { Reply } from '../common/http-util.js'
import { faultFromJson } from './faults.js'
import type { AddAsset, GitHubEmulator } from './types.js'

type Controls = Omit<GitHubEmulator, 'apiUrl' | 'storageUrl' | 'serverUrl' | 'token' | 'close'>

type AssetBody = Omit<AddAsset, 'content'> & { content?: { path?: string; base64?: string } }

function assetFromJson(v: AssetBody): AddAsset {
  const c = v?.content
  if (typeof c?.path === 'string') return { ...v, content: { path: c.path } }
  if (typeof c?.base64 === 'string') return { ...v, content: Buffer.from(c.base64, 'base64') }
  throw new Error('content must be {"path": "..."} or {"base64": "..."}')
}

async function route(
  emu: Controls,
  method: string,
  path: string,
  body: () => Promise<unknown>
): Promise<Reply | undefined> {
  const state = /^\/_emulator\/assets\/(\d+)\/state$/.exec(path)
  if (state && method === 'POST') {
    emu.setAssetState(Number(state[1]), ((await body()) as { state: never })?.state)
    return { status: 204 }
  }
  switch (`${method} ${path}`) {
    case 'POST /_emulator/repos':
      return {
        status: 201,
        json: emu.addRepo((await body()) as Parameters<Controls['addRepo']>[0])
      }
    case 'POST /_emulator/releases':
      return {
        status: 201,
        json: emu.addRelease((await body()) as Parameters<Controls['addRelease']>[0])
      }
    case 'POST /_emulator/assets':
      return { status: 201, json: await emu.addAsset(assetFromJson((await body()) as AssetBody)) }
    case 'POST /_emulator/tokens':
      return { status: 201, json: { token: emu.createToken((await body()) ?? {}) } }
    default:
      return undefined
  }
}

/** Returns false when `path` is not a control route (the API handles it). */
export function createControl(emu: Controls): ControlHandler {
  return controlHandler(emu, faultFromJson, (method, path, body) => route(emu, method, path, body))
}
