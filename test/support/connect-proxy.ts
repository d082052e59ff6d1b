/**
 * A CONNECT proxy for tests (undici tunnels every proxied request through CONNECT): records each
 * tunnel's target, and can map host names to 127.0.0.1 — so a URL naming a host that does not
 * resolve works only through the proxy. With `auth`, it requires those Basic credentials (a 407
 * otherwise, as a corporate proxy answers).
 */
import { createServer } from 'node:http'
import { connect } from 'node:net'

export interface ConnectProxy {
  url: string
  /** `host:port` of every CONNECT received. */
  tunnels: string[]
  /** `host:port` of every CONNECT refused for missing or wrong credentials. */
  refused: string[]
  close(): Promise<void>
}

export async function startConnectProxy(
  mapToLoopback: string[] = [],
  auth?: { user: string; password: string }
): Promise<ConnectProxy> {
  const tunnels: string[] = []
  const refused: string[] = []
  const expected =
    auth && `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
  const server = createServer((_req, res) => res.writeHead(405).end())
  server.on('connect', (req, client, head) => {
    const target = req.url ?? ''
    if (expected && req.headers['proxy-authorization'] !== expected) {
      refused.push(target)
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\n' +
          'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
      )
      return
    }
    tunnels.push(target)
    const at = target.lastIndexOf(':')
    const host = target.slice(0, at)
    const upstream = connect(
      Number(target.slice(at + 1)),
      mapToLoopback.includes(host) ? '127.0.0.1' : host,
      () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      }
    )
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    refused,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
