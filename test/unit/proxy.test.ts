/**
 * proxyAwareDispatcher: the runner's proxy variables, as GitHub's toolkit reads them; proxySecrets:
 * the credentials they may carry.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import { Agent, request } from 'undici'
import { proxyAwareDispatcher, proxySecrets } from '../../src/proxy.js'
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

describe('proxySecrets', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64')

  test('no proxy, or a proxy without a password: nothing to hide', () => {
    expect(proxySecrets({})).toEqual([])
    expect(proxySecrets({ HTTPS_PROXY: 'http://proxy.corp:3128', http_proxy: 'proxy:80' })).toEqual(
      []
    )
    expect(proxySecrets({ HTTPS_PROXY: 'http://user@proxy.corp:3128' })).toEqual([])
  })

  test('a percent-encoded password: as written, decoded, and both Basic headers', () => {
    const secrets = proxySecrets({ https_proxy: 'http://bot:p%40ss%2Fw0rd@proxy.corp:3128/' })
    expect(secrets).toEqual(
      expect.arrayContaining([
        'p%40ss%2Fw0rd',
        'p@ss/w0rd',
        b64('bot:p@ss/w0rd'), // undici decodes before it encodes the header
        b64('bot:p%40ss%2Fw0rd') // @actions/http-client does not
      ])
    )
  })

  test('a raw `@` in the password, without a scheme, in any of the four variables', () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
      const secrets = proxySecrets({ [name]: 'bot:s3cr@t!@proxy.corp:3128' })
      expect(secrets).toContain('s3cr@t!')
      expect(secrets).toContain(b64('bot:s3cr@t!'))
      expect(secrets.join('\n')).not.toMatch(/proxy\.corp/)
    }
  })
})
