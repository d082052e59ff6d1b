/**
 * An authenticated proxy (HTTPS_PROXY=http://user:password@host): its password is a credential.
 * The action registers it with the runner (`::add-mask::`, in every form it may take on the wire)
 * before any request, and it shows nowhere else: not in the log, the outputs or the job summary,
 * also when the proxy refuses it and the run fails on a proxied request.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.js'
import { runAction, useEmulator, workspace, type ActionRun } from './harness.js'

const MIB = 1024 * 1024
const USER = 'ci-bot'
// `@` and `/` must be percent-encoded in a URL: the runner's variable holds the encoded form, the
// proxy receives the decoded one (base64 in Proxy-Authorization).
const PASSWORD = 'pr0xy/S3cret@pass'
const ENCODED = encodeURIComponent(PASSWORD)

// Part URLs name a host only the proxy can reach: every part upload crosses it.
const emu = useEmulator({ s3PublicHost: 's3.proxied.test' })
let proxy: ConnectProxy

beforeAll(async () => {
  proxy = await startConnectProxy(['s3.proxied.test'], { user: USER, password: PASSWORD })
})
afterAll(async () => {
  await proxy.close()
})

function proxyUrl(password: string): string {
  return proxy.url.replace('http://', `http://${USER}:${encodeURIComponent(password)}@`)
}

function upload(env: Record<string, string>): Promise<ActionRun> {
  return runAction(
    { token: emu.token, 'api-url': emu.apiUrl, retries: '0', files: '*.bin', 'part-size': '5MiB' },
    { workspace: workspace({ 'p.bin': randomBytes(6 * MIB) }), env: { NO_PROXY: '', ...env } }
  )
}

/** Every form of the password a log could carry: as in the URL, decoded, in a Basic header. */
function forms(password: string): string[] {
  return [
    password,
    encodeURIComponent(password),
    Buffer.from(`${USER}:${password}`).toString('base64'),
    `${USER}:${password}`
  ]
}

/** The run registered each form before printing anything else; none shows elsewhere. */
function expectMasked(run: ActionRun, password: string): void {
  const lines = run.stdout.split('\n')
  const firstOther = lines.findIndex(l => !l.startsWith('::add-mask::'))
  // The runner reads a command's data with %25, %0D and %0A escaped (@actions/core's encoding).
  const registered = lines
    .slice(0, firstOther)
    .map(l => l.slice('::add-mask::'.length))
    .map(d => d.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'))
  expect(registered).toEqual(
    expect.arrayContaining([
      password,
      encodeURIComponent(password),
      Buffer.from(`${USER}:${password}`).toString('base64')
    ])
  )
  // `::add-mask::` is the runner's masking command itself, never shown in a log.
  const visible = run.everything.replace(/^::add-mask::.*$/gm, '')
  for (const form of forms(password)) expect(visible).not.toContain(form)
}

describe('an authenticated proxy', () => {
  test('its password is masked before any request and shows nowhere', async () => {
    const url = proxyUrl(PASSWORD)
    expect(url).toContain(`:${ENCODED}@`)
    const run = await upload({ HTTPS_PROXY: url, HTTP_PROXY: url })
    expect(run.code).toBe(0)
    expect(proxy.tunnels).toContain(new URL(emu.s3Url).host)
    expectMasked(run, PASSWORD)
  })

  test('refused credentials (407): the run fails naming the proxy, the password still hidden', async () => {
    const wrong = 'wr0ng/Passw0rd@proxy'
    const url = proxyUrl(wrong)
    const refusedBefore = proxy.refused.length
    // Lower case, as some runners set them.
    const run = await upload({ https_proxy: url, http_proxy: url })
    expect(run.code).toBe(1)
    expect(proxy.refused.length).toBeGreaterThan(refusedBefore)
    expect(run.stdout).toMatch(/::error::.*Proxy.*407/)
    expectMasked(run, wrong)
  })
})
