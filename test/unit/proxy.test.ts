/** proxyAwareDispatcher: the runner's proxy variables, as GitHub's toolkit reads them. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import { Agent, request } from 'undici'
import { proxyAwareDispatcher } from '../../src/proxy.js'
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js'

let server: Server
let port = 0
let proxy: ConnectProxy
beforeAll(async () => {
  server = createServer((_req, res) => res.end('ok'))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  port = typeof address === 'object' && address ? address.port : 0
  proxy = await startConnectProxy(['mapped.test'])
})
afterAll(async () => {
  await proxy.close()
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

async function get(url: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dispatcher = proxyAwareDispatcher({ connectTimeout: 2_000 }, env)
  try {
    const res = await request(url, { dispatcher })
    return await res.body.text()
  } finally {
    await dispatcher.close()
  }
}

describe('proxyAwareDispatcher', () => {
  test('no proxy variables: a plain Agent', () => {
    expect(proxyAwareDispatcher({}, {})).toBeInstanceOf(Agent)
  })

  test('a proxy given without a scheme is taken as http://, and carries other hosts', async () => {
    proxy.tunnels.length = 0
    const hostPort = proxy.url.replace('http://', '')
    expect(await get(`http://mapped.test:${port}/`, { HTTP_PROXY: hostPort })).toBe('ok')
    expect(
      await get(`http://mapped.test:${port}/`, { https_proxy: proxy.url, http_proxy: hostPort })
    ).toBe('ok')
    expect(proxy.tunnels).toEqual([`mapped.test:${port}`, `mapped.test:${port}`])
  })

  test('loopback is never proxied, whatever NO_PROXY says', async () => {
    proxy.tunnels.length = 0
    const env = { HTTP_PROXY: 'http://127.0.0.1:1', NO_PROXY: 'example.com' } // unreachable proxy
    expect(await get(`http://127.0.0.1:${port}/`, env)).toBe('ok')
    expect(proxy.tunnels).toEqual([])
  })

  test('NO_PROXY entries go direct', async () => {
    proxy.tunnels.length = 0
    const env = { HTTP_PROXY: proxy.url, NO_PROXY: 'other.test,mapped.test' }
    await expect(get(`http://mapped.test:${port}/`, env)).rejects.toThrow()
    expect(proxy.tunnels).toEqual([])
  })
})
