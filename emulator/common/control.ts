/** The `/_emulator/…` control-route handler both emulators mount on their API port. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, writeReply, type Reply } from './http-util.js'

/** One emulator's control routes: `body()` reads and parses the JSON body (undefined if empty). */
export type ControlRoutes = (
  method: string,
  path: string,
  body: () => Promise<unknown>
) => Promise<Reply>

/** Returns false when `path` is not a control route (the API handles it). */
export function controlHandler(
  routes: ControlRoutes
): (req: IncomingMessage, res: ServerResponse, path: string) => boolean {
  return (req, res, path) => {
    if (!path.startsWith('/_emulator/')) return false
    const body = async (): Promise<unknown> => {
      const raw = await readBody(req)
      return raw.length ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined
    }
    routes(req.method ?? 'GET', path, body)
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
