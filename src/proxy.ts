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

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']

/**
 * The credential in an authenticated proxy URL (`http://user:password@proxy:3128`), in every form
 * a log could carry it: as written, as the URL parser normalizes it, percent-decoded (what the
 * proxy receives), and the Basic `user:password` base64 that undici (decoded) and
 * @actions/http-client (as written) send. The caller registers each as a secret.
 */
export function proxySecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const found = new Set<string>()
  for (const name of PROXY_VARIABLES) {
    const value = withScheme(env[name] ?? '')
    // userinfo ends at the last `@` of the authority (the URL parser's rule); a raw `@` or `/`
    // in a password is what the parser would otherwise split or re-encode.
    const authority = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/?#]/)[0]
    const at = authority.lastIndexOf('@')
    if (at < 0) continue
    const userinfo = authority.slice(0, at)
    const colon = userinfo.indexOf(':')
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon)
    const password = colon < 0 ? '' : userinfo.slice(colon + 1)
    if (!password) continue
    let parsed: { username: string; password: string } = { username: user, password }
    try {
      parsed = new URL(value)
    } catch {
      // Not a URL undici would use either; still hide what looks like a password.
    }
    for (const [u, p] of [
      [user, password],
      [parsed.username, parsed.password],
      [decode(parsed.username), decode(parsed.password)]
    ]) {
      if (!p) continue
      found.add(p)
      found.add(Buffer.from(`${u}:${p}`).toString('base64'))
    }
  }
  return [...found]
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
