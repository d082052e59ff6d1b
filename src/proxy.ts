/**
 * Dispatchers that honour the runner's proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, in
 * either case), as GitHub's toolkit does. A value without a scheme (`proxy.corp:3128`) is taken as
 * http://, as @actions/http-client takes it, rather than failing every run. Loopback hosts are
 * never proxied: plain http is allowed only there, so a proxy would see the token in clear (and it
 * could not reach the runner's own 127.0.0.1 anyway).
 */
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici'

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]']

export function proxyAwareDispatcher(
  options: Agent.Options,
  env: NodeJS.ProcessEnv = process.env
): Dispatcher {
  const read = (name: string) => withScheme(env[name.toLowerCase()] ?? env[name] ?? '')
  const httpProxy = read('HTTP_PROXY')
  const httpsProxy = read('HTTPS_PROXY')
  if (!httpProxy && !httpsProxy) return new Agent(options)
  const noProxy = [env.no_proxy ?? env.NO_PROXY ?? '', ...LOOPBACK].filter(Boolean).join(',')
  // An https URL goes through HTTPS_PROXY, else HTTP_PROXY (undici's rule); NO_PROXY bypasses.
  return new EnvHttpProxyAgent({ ...options, httpProxy, httpsProxy, noProxy })
}

function withScheme(value: string): string {
  const v = value.trim()
  return !v || /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`
}
