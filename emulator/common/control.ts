/** The `/_emulator/…` control-route handler both emulators mount on their API port. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, writeReply, type Reply } from './http-util.js'

/**
 * One emulator's own control routes: `body()` reads and parses the JSON body (undefined if
 * empty); undefined for a path it does not know.
 */
export type ControlRoutes = (
  method: string,
  path: string,
  body: () => Promise<unknown>
) => Promise<Reply | undefined>

/** What both emulators control the same way: their request log and their fault queue. */
export interface LogAndFaults<F> {
  log(): unknown[]
  clearLog(): void
  injectFault(fault: F): void
  clearFaults(): void
}

/** The `/_emulator/…` handler on an API server: false when `path` is not a control route. */
export type ControlHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean

/**
 * The log and fault routes, then the emulator's own `routes` (undefined: no such route, 404);
 * `faultFromJson` checks a fault the way its emulator defines faults.
 */
export function controlHandler<F>(
  emu: LogAndFaults<F>,
  faultFromJson: (value: unknown) => F,
  routes: ControlRoutes
): ControlHandler {
  const all = async (
    method: string,
    path: string,
    body: () => Promise<unknown>
  ): Promise<Reply> => {
    switch (`${method} ${path}`) {
      case 'GET /_emulator/log':
        return { status: 200, json: emu.log() }
      case 'DELETE /_emulator/log':
        emu.clearLog()
        return { status: 204 }
      case 'POST /_emulator/faults':
        emu.injectFault(faultFromJson(await body()))
        return { status: 204 }
      case 'DELETE /_emulator/faults':
        emu.clearFaults()
        return { status: 204 }
      default:
        return (
          (await routes(method, path, body)) ?? {
            status: 404,
            json: { error: 'unknown emulator control route', path }
          }
        )
    }
  }
  return (req, res, path) => {
    if (!path.startsWith('/_emulator/')) return false
    const body = async (): Promise<unknown> => {
      const raw = await readBody(req)
      return raw.length ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined
    }
    all(req.method ?? 'GET', path, body)
      .catch((err: unknown): Reply => ({
        status: 400,
        json: { error: err instanceof Error ? err.message : String(err) }
      }))
      .then(reply => {
        req.resume() // routes that ignore the body must still consume it
        writeReply(res, reply)
      })
      .catch(() => res.destroy())
    return true
  }
}
