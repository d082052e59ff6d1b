/** Start-up scaffolding shared by the Polar and GitHub emulators: bind, close, URL host. */
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

/** Listen on host:port (0 = any free port); resolves with the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

export function closeServer(server: Server): Promise<void> {
  return new Promise(resolve => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
    server.closeAllConnections() // keep-alive sockets would otherwise hold jest open
  })
}

/** The host as it stands in a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}
