/** The connection inputs: the token, the Polar server and API, and the request pace. */
import { InputError } from '../errors.js'
import { scrub } from '../log.js'
import { isVersion, PINNED_VERSION } from '../polar/api-version.js'
import { type Get, integer, oneOf, UUID } from './fields.js'

export const SERVERS = {
  production: { url: 'https://api.polar.sh', rateLimit: 500 },
  sandbox: { url: 'https://sandbox-api.polar.sh', rateLimit: 100 }
} as const

export type Server = keyof typeof SERVERS

export interface ConnectionInputs {
  organizationId: string | null
  server: Server
  apiUrl: string
  /** `api-version`: strict when set; null = the action's pin (with a fallback if retired). */
  apiVersion: string | null
  retries: number
  rateLimit: number
}

/** `rateLimit` null: not set, the server's budget (a rule across inputs, see checkCombinations). */
export type ParsedConnection = Omit<ConnectionInputs, 'rateLimit'> & { rateLimit: number | null }

/** The connection besides the token (parseToken, read before the mode: the one required input). */
export function parseConnection(get: Get): ParsedConnection {
  const server = oneOf(get, 'server', ['production', 'sandbox'] as const)
  const organizationId = get('organization-id') || null
  if (organizationId !== null && !UUID.test(organizationId)) {
    throw new InputError(
      'organization-id',
      `'${organizationId}' is not a UUID. Copy the organization ID from Polar's settings.`
    )
  }
  const apiUrl = parseApiUrl(get('api-url'), server)
  const apiVersion = get('api-version') || null
  if (apiVersion !== null && !isVersion(apiVersion)) {
    throw new InputError(
      'api-version',
      `'${apiVersion}' is not a Polar API version. Use YYYY-MM (e.g. ${PINNED_VERSION}), or ` +
        "leave it empty for the action's pin."
    )
  }
  const retries = integer(get, 'retries', 0, 20)
  const rateLimit = get('rate-limit') ? integer(get, 'rate-limit', 1, 100_000) : null
  return { organizationId, server, apiUrl, apiVersion, retries, rateLimit }
}

export function parseToken(token: string): string {
  if (!token) {
    throw new InputError(
      'token',
      'is required. Pass a Polar organization access token kept as a secret, e.g. ' +
        '`token: ${{ secrets.POLAR_TOKEN }}`.'
    )
  }
  if (/\s/.test(token)) {
    throw new InputError(
      'token',
      'contains whitespace. Check that the secret holds only the token.'
    )
  }
  return token
}

/** `api-url`, or the server's URL when empty. */
function parseApiUrl(text: string, server: Server): string {
  if (!text) return SERVERS[server].url
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // Quoted scrubbed: a mistyped value could hold a credential (tokens by their shape).
    throw new InputError(
      'api-url',
      `'${scrub(text)}' is not a URL. Give a base URL with its scheme: https://api.polar.sh, ` +
        'or the emulator’s http://127.0.0.1:<port>'
    )
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new InputError('api-url', 'must not contain credentials, a query or a fragment.')
  }
  const loopback = isLoopback(url.hostname)
  if (/\/v1\/?$/.test(url.pathname)) {
    // The advice must be a URL the action takes: https:// unless the host is loopback.
    const origin = url.protocol === 'http:' && !loopback ? `https://${url.host}` : url.origin
    throw new InputError(
      'api-url',
      `'${url.origin}${url.pathname}' ends in /v1, which the action adds itself. Give the base ` +
        `URL: ${origin}${url.pathname.replace(/\/v1\/?$/, '') || ''}`
    )
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new InputError(
      'api-url',
      `'${url.origin}' must use https:// (plain http is allowed only for a loopback host such as ` +
        '127.0.0.1, for the local emulator). The token would otherwise travel unencrypted.'
    )
  }
  return url.href.replace(/\/+$/, '')
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}
