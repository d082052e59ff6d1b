import { describe, expect, test } from '@jest/globals'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { InputError } from '../../src/errors.js'
import { defaultVersion, INPUTS, MODE_ONLY, parseInputs } from '../../src/inputs.js'
import { tempDir } from '../support/temp.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ORG = '1dbfc517-0bbf-4301-9ba8-555ca42b9737'
const reader = (values: Record<string, string>) => (name: string) => values[name] ?? ''
const base = { token: 'polar_oat_abc', files: 'dist/*.zip' }
const env = { GITHUB_WORKSPACE: '/work/space' }

describe('parseInputs', () => {
  test('defaults follow the design (every parsed value of a step with only token and files)', () => {
    expect(parseInputs(reader(base), env)).toEqual({
      token: 'polar_oat_abc',
      mode: 'upload',
      patterns: ['dist/*.zip'],
      release: null,
      githubToken: '',
      releaseWaitMs: 0,
      checksumsManifest: null,
      includeHiddenFiles: false,
      workingDirectory: '/work/space',
      ifNoFilesFound: 'error',
      nameTemplate: '{basename}',
      version: null,
      replace: true,
      ifUnchanged: 'skip',
      benefitIds: [],
      organizationId: null,
      server: 'production',
      apiUrl: 'https://api.polar.sh',
      apiVersion: null,
      concurrency: 8,
      partSize: 16 * 1024 * 1024,
      retries: 5,
      rateLimit: 500,
      dryRun: false,
      keep: 1,
      olderThanMs: 0,
      olderThanText: '0',
      names: ['*'],
      protectBenefitFiles: true,
      allowDeleteAll: false,
      warnings: []
    })
  })

  test('rate-limit set: taken whatever the server', () => {
    const read = reader({ ...base, server: 'sandbox', 'rate-limit': '250' })
    expect(parseInputs(read, env).rateLimit).toBe(250)
  })

  test('a release: its tag is the version, and the working directory resolves in the workspace', () => {
    const read = reader({ ...base, release: 'acme/app@v4.0.0', 'working-directory': 'out' })
    expect(parseInputs(read, env)).toMatchObject({
      release: { owner: 'acme', repo: 'app', tag: 'v4.0.0' },
      version: 'v4.0.0',
      workingDirectory: '/work/space/out'
    })
    const noFiles = reader({ token: 'polar_oat_abc', release: 'v1.0.0' })
    expect(parseInputs(noFiles, { ...env, GITHUB_REPOSITORY: 'acme/app' }).patterns).toEqual([])
  })

  test('one input wrong alone is reported before a combination', () => {
    // No files (a combination: files is needed unless release is set) and a bad part-size.
    const read = reader({ token: 'polar_oat_abc', 'part-size': 'big' })
    expect(() => parseInputs(read, env)).toThrow("Input 'part-size'")
  })

  test('concurrency: auto (any case) or 1–64', () => {
    const c = (v: string) => parseInputs(reader({ ...base, concurrency: v }), env).concurrency
    expect(c('auto')).toBe('auto')
    expect(c(' AUTO ')).toBe('auto')
    expect(c('1')).toBe(1)
    expect(c('64')).toBe(64)
  })

  test('sandbox changes the URL and the pace', () => {
    const i = parseInputs(reader({ ...base, server: 'sandbox' }), env)
    expect(i.apiUrl).toBe('https://sandbox-api.polar.sh')
    expect(i.rateLimit).toBe(100)
  })

  test('multi-line patterns keep excludes and drop blanks and comments', () => {
    const i = parseInputs(reader({ ...base, files: 'a/*.zip\n\n# note\n!a/skip.zip\n' }), env)
    expect(i.patterns).toEqual(['a/*.zip', '!a/skip.zip'])
  })

  test('sizes with units and benefit IDs split on commas and newlines', () => {
    const b1 = '11111111-1111-4111-8111-111111111111'
    const b2 = '22222222-2222-4222-8222-222222222222'
    const i = parseInputs(
      reader({ ...base, 'part-size': '64MiB', 'benefit-ids': `${b1}, ${b2}\n${b1}` }),
      env
    )
    expect(i.partSize).toBe(64 * 1024 * 1024)
    expect(i.benefitIds).toEqual([b1, b2])
  })

  test('loopback http is allowed for the emulator', () => {
    expect(parseInputs(reader({ ...base, 'api-url': 'http://127.0.0.1:8080/' }), env).apiUrl).toBe(
      'http://127.0.0.1:8080'
    )
  })

  test.each([
    [{ token: '' }, 'token', /is required/],
    [{ token: 'polar_oat_a b' }, 'token', /whitespace/],
    [{ mode: 'sync' }, 'mode', /upload, cleanup/],
    [{ files: '' }, 'files', /required in upload mode/],
    [{ 'organization-id': ORG }, 'organization-id', /must not be set with an organization/],
    [{ token: 'polar_pat_x' }, 'organization-id', /required with a personal/],
    [{ 'organization-id': 'nope', token: 'polar_pat_x' }, 'organization-id', /not a UUID/],
    [{ 'part-size': '3MiB' }, 'part-size', /5MiB to 5GiB/],
    [{ 'part-size': 'big' }, 'part-size', /not a size/],
    [{ concurrency: '0' }, 'concurrency', /auto or a whole number from 1 to 64/],
    [{ concurrency: '65' }, 'concurrency', /auto or a whole number from 1 to 64/],
    [{ concurrency: 'fast' }, 'concurrency', /auto or a whole number/],
    [{ retries: 'many' }, 'retries', /whole number/],
    [{ 'api-url': 'http://api.example.com' }, 'api-url', /https/],
    [{ 'api-url': 'not a url' }, 'api-url', /not a URL/],
    [{ 'dry-run': 'yes' }, 'dry-run', /not a boolean/],
    [{ name: '{basename}-{arch}' }, 'name', /unknown placeholder \{arch\}/],
    [{ name: '{stem}-{version}{ext}' }, 'name', /no version is set/],
    [{ 'benefit-ids': 'abc' }, 'benefit-ids', /not a benefit ID/],
    [{ 'older-than': '3 months' }, 'older-than', /not a duration/],
    [{ 'if-unchanged': 'maybe' }, 'if-unchanged', /skip, upload/],
    [{ 'if-no-files-found': 'never' }, 'if-no-files-found', /error, warn, ignore/],
    [{ server: 'staging' }, 'server', /production, sandbox/],
    [{ 'include-hidden-files': 'yes' }, 'include-hidden-files', /not a boolean/],
    [{ replace: 'no' }, 'replace', /not a boolean/],
    [{ 'protect-benefit-files': 'no' }, 'protect-benefit-files', /not a boolean/],
    [{ 'allow-delete-all': 'no' }, 'allow-delete-all', /not a boolean/],
    [{ 'part-size': '6GiB' }, 'part-size', /Use 5MiB to 5GiB \(default 16MiB\)\.$/],
    [{ retries: '21' }, 'retries', /from 0 to 20\.$/],
    [{ 'rate-limit': '0' }, 'rate-limit', /from 1 to 100000\.$/],
    [{ keep: '-1' }, 'keep', /from 0 to 1000000\.$/],
    [{ 'release-wait': 'soon' }, 'release-wait', /not a duration/],
    [{ 'checksums-manifest': 'a/b' }, 'checksums-manifest', /manifest's file name/],
    [{ 'api-version': 'latest' }, 'api-version', /not a Polar API version/],
    [{ release: 'has space' }, 'release', /not a tag or owner\/repo@tag/],
    [{ release: 'v1.0.0' }, 'release', /GITHUB_REPOSITORY is not set/],
    [{ mode: 'cleanup', files: '', names: '!a.zip' }, 'names', /at least one pattern/]
  ])('rejects %j naming the input', (values, input, message) => {
    let error: unknown
    try {
      parseInputs(reader({ ...base, ...values }), env)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe(input)
    expect((error as Error).message).toMatch(`Input '${input}'`)
    expect((error as Error).message).toMatch(message)
  })

  test('cleanup refuses to delete everything unless confirmed or dry run', () => {
    const cleanup = { token: 'polar_oat_x', mode: 'cleanup', keep: '0', 'older-than': '0' }
    expect(() => parseInputs(reader(cleanup), env)).toThrow(/allow-delete-all/)
    expect(parseInputs(reader({ ...cleanup, 'dry-run': 'true' }), env).keep).toBe(0)
    expect(parseInputs(reader({ ...cleanup, 'allow-delete-all': 'true' }), env).keep).toBe(0)
    expect(parseInputs(reader({ ...cleanup, 'older-than': '30d' }), env).olderThanMs).toBe(
      30 * 86_400_000
    )
    expect(parseInputs(reader({ ...cleanup, names: '*\n!keep.zip' }), env).keep).toBe(0)
    expect(parseInputs(reader({ ...cleanup, names: 'app-*.zip' }), env).names).toEqual([
      'app-*.zip'
    ])
  })
})

describe('defaultVersion', () => {
  test('the tag of a tag push', () => {
    expect(defaultVersion({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.3' })).toBe(
      'v1.2.3'
    )
  })
  test('the tag from GITHUB_REF_TYPE/GITHUB_REF_NAME too', () => {
    expect(defaultVersion({ GITHUB_REF_TYPE: 'tag', GITHUB_REF_NAME: 'v3' })).toBe('v3')
  })
  test('no version on a branch', () => {
    expect(defaultVersion({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' })).toBeNull()
  })
  test("a release event's tag_name", () => {
    const dir = tempDir('evt-')
    const file = join(dir, 'event.json')
    writeFileSync(file, JSON.stringify({ release: { tag_name: 'v2.0.0' } }))
    expect(
      defaultVersion({ GITHUB_EVENT_NAME: 'release', GITHUB_EVENT_PATH: file, GITHUB_REF: '' })
    ).toBe('v2.0.0')
  })
})

describe('inputs the mode does not read', () => {
  test('set away from their default: a warning each; at their default: silence', () => {
    const upload = parseInputs(reader({ ...base, keep: '3', names: '*', 'older-than': '0' }), env)
    expect(upload.warnings).toEqual([
      "Input 'keep' applies only to mode: cleanup; it is ignored in upload mode."
    ])
    const cleanup = parseInputs(
      reader({ token: 'polar_oat_abc', mode: 'cleanup', concurrency: '16', files: '' }),
      env
    )
    expect(cleanup.warnings).toEqual([
      "Input 'concurrency' applies only to mode: upload; it is ignored in cleanup mode."
    ])
  })
  test.each([
    ['files', 'dist/*.zip'],
    ['name', 'app-{version}.zip'],
    ['release', 'v1.0.0'],
    ['version', 'v2.0.0'],
    ['benefit-ids', '11111111-2222-4333-8444-555555555555']
  ])(
    'cleanup with %s (which would read as "only these files"): an error pointing to names',
    (name, value) => {
      const read = reader({ token: 'polar_oat_abc', mode: 'Cleanup', [name]: value })
      expect(() => parseInputs(read, { ...env, GITHUB_REPOSITORY: 'acme/app' })).toThrow(
        new RegExp(`^Input '${name}': '.*' is set, but cleanup does not read it: .*\\bnames\\b`)
      )
    }
  )
  test('cleanup with upload inputs at their defaults (as the runner passes them): no error', () => {
    const read = reader({ token: 'polar_oat_abc', mode: 'cleanup', name: '{basename}' })
    expect(parseInputs(read, env).mode).toBe('cleanup')
  })
  test('every upload input set in cleanup mode: a warning each, in the order of the table', () => {
    const read = reader({
      token: 'polar_oat_abc',
      mode: 'cleanup',
      'include-hidden-files': 'true',
      'working-directory': 'sub',
      'if-no-files-found': 'warn',
      replace: 'false',
      'if-unchanged': 'upload',
      concurrency: 'auto',
      'part-size': '64MiB',
      'release-wait': '10m',
      'checksums-manifest': 'SHA256SUMS',
      // Its default is an expression the runner evaluates: a token is always set.
      'github-token': 'ghs_abc'
    })
    const ignored = parseInputs(read, env).warnings.map(w => /^Input '([^']+)'/.exec(w)?.[1])
    expect(ignored).toEqual([
      'include-hidden-files',
      'working-directory',
      'if-no-files-found',
      'replace',
      'if-unchanged',
      'concurrency',
      'part-size',
      'release-wait',
      'checksums-manifest'
    ])
  })
  test('every cleanup input set in upload mode: a warning each', () => {
    const read = reader({
      ...base,
      keep: '2',
      'older-than': '30d',
      names: '*.zip',
      'protect-benefit-files': 'false',
      'allow-delete-all': 'true'
    })
    expect(parseInputs(read, env).warnings).toEqual(
      ['keep', 'older-than', 'names', 'protect-benefit-files', 'allow-delete-all'].map(
        name => `Input '${name}' applies only to mode: cleanup; it is ignored in upload mode.`
      )
    )
  })
  test('an ignored input is still checked: a bad value fails', () => {
    const cleanup = { token: 'polar_oat_abc', mode: 'cleanup' }
    expect(() => parseInputs(reader({ ...cleanup, 'part-size': 'big' }), env)).toThrow(
      "Input 'part-size': 'big' is not a size."
    )
    expect(() => parseInputs(reader({ ...base, keep: 'x' }), env)).toThrow(
      "Input 'keep': 'x' must be a whole number from 0 to 1000000."
    )
  })
})

describe('the INPUTS table', () => {
  const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { description: string; default?: unknown }>
  }
  const table: [string, { mode: string; default: string }][] = Object.entries(INPUTS)

  test('lists the inputs of action.yml, with the same defaults', () => {
    expect(Object.fromEntries(table.map(([name, spec]) => [name, spec.default]))).toEqual(
      Object.fromEntries(
        Object.entries(action.inputs).map(([name, spec]) => [name, String(spec.default ?? '')])
      )
    )
  })
  test("a mode that action.yml's description names is the table's", () => {
    for (const [name, spec] of table) {
      const description = action.inputs[name].description
      const said =
        /^(upload|cleanup):/.exec(description) ?? /\b(upload|cleanup) mode\b/.exec(description)
      if (said) expect([name, spec.mode]).toEqual([name, said[1]])
      // Cleanup's inputs all say so: a reader of action.yml sees which ones upload ignores.
      if (spec.mode === 'cleanup')
        expect([name, description]).toEqual([name, expect.stringMatching(/^cleanup: /)])
    }
  })
  test('MODE_ONLY: the mode-specific inputs with a literal default, in table order', () => {
    expect(MODE_ONLY).toEqual({
      upload: {
        files: '',
        'include-hidden-files': 'false',
        'working-directory': '',
        'if-no-files-found': 'error',
        name: '{basename}',
        version: '',
        replace: 'true',
        'if-unchanged': 'skip',
        'benefit-ids': '',
        concurrency: '8',
        'part-size': '16MiB',
        release: '',
        'release-wait': '0',
        'checksums-manifest': ''
      },
      cleanup: {
        keep: '1',
        'older-than': '0',
        names: '*',
        'protect-benefit-files': 'true',
        'allow-delete-all': 'false'
      }
    })
  })
  test.each(['upload', 'cleanup'])(
    '%s: every default passed as the runner does reads as the input left empty',
    mode => {
      const given = mode === 'upload' ? base : { token: 'polar_oat_abc', mode }
      // Expression defaults (github-token) reach the action evaluated: not passed here.
      const defaults = Object.fromEntries(
        table.filter(([, spec]) => !spec.default.startsWith('${{')).map(([n, s]) => [n, s.default])
      )
      const empty = parseInputs(reader(given), env)
      expect(parseInputs(reader({ ...defaults, ...given }), env)).toEqual(empty)
      expect(empty.warnings).toEqual([])
    }
  )
})

describe('hints for common slips', () => {
  test('release: refs/tags/v1.0.0 (github.ref): the tag to use', () => {
    const read = reader({ ...base, release: 'refs/tags/v1.0.0' })
    expect(() => parseInputs(read, { ...env, GITHUB_REPOSITORY: 'acme/app' })).toThrow(
      "Input 'release': 'refs/tags/v1.0.0' is a ref, not a tag (github.ref instead of github.ref_name). Use the tag: release: v1.0.0"
    )
  })
  test('api-url that is not a URL: the value quoted (tokens masked), and the emulator form', () => {
    expect(() => parseInputs(reader({ ...base, 'api-url': 'api.polar.sh' }), env)).toThrow(
      "Input 'api-url': 'api.polar.sh' is not a URL. Give a base URL with its scheme: https://api.polar.sh"
    )
    const leaked = reader({ ...base, 'api-url': 'polar_oat_abcdefghijklmnop' })
    expect(() => parseInputs(leaked, env)).toThrow("'polar_oat_***' is not a URL")
  })
  test('the /v1 advice for a plain-http host suggests https (a URL the action takes)', () => {
    const read = reader({ ...base, 'api-url': 'http://api.polar.sh/v1' })
    expect(() => parseInputs(read, env)).toThrow(/Give the base URL: https:\/\/api\.polar\.sh$/)
    const loopback = reader({ ...base, 'api-url': 'http://127.0.0.1:8080/v1' })
    expect(() => parseInputs(loopback, env)).toThrow(
      /Give the base URL: http:\/\/127\.0\.0\.1:8080$/
    )
  })
})

describe('api-url', () => {
  test.each(['https://api.polar.sh/v1', 'https://proxy.example/polar/v1/'])(
    '%s: the /v1 suffix is refused with the base URL to use',
    url => {
      expect(() => parseInputs(reader({ ...base, 'api-url': url }), env)).toThrow(
        /ends in \/v1, which the action adds itself. Give the base URL: https:\/\/(api\.polar\.sh|proxy\.example\/polar)$/
      )
    }
  )
})
