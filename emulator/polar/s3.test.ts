/** One test per row of the contract's S3 table, over raw HTTP against the emulator. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { startEmulator, presignPart, type Emulator } from './index.js'
import {
  api,
  createFile,
  md5hex,
  MiB,
  putAll,
  putPart,
  s3Code,
  s3Message,
  sha256b64
} from './helpers.js'

let emu: Emulator
beforeAll(async () => {
  emu = await startEmulator({ keepBodies: true })
})
afterAll(async () => {
  await emu.close()
})

const small = Buffer.from('hello, polar\n')

describe('S3 part endpoint', () => {
  test('S3: part PUT with Polar signed checksum headers → 200, ETag md5, echoed checksum, SSE AES256', async () => {
    const created = await createFile(emu, 'ok.bin', small)
    const part = created.upload.parts[0]
    expect(new URL(part.url).searchParams.get('X-Amz-SignedHeaders')).toBe(
      'host;x-amz-checksum-sha256;x-amz-sdk-checksum-algorithm'
    )
    expect(part.headers).toEqual({
      'x-amz-checksum-sha256': sha256b64(small),
      'x-amz-sdk-checksum-algorithm': 'SHA256'
    })
    const res = await putPart(part.url, part.headers, small)
    expect(res.status).toBe(200)
    expect(res.headers.etag).toBe(`"${md5hex(small)}"`)
    expect(res.headers['x-amz-checksum-sha256']).toBe(sha256b64(small))
    expect(res.headers['x-amz-server-side-encryption']).toBe('AES256')
    const stored = emu.files().find(f => f.id === created.id)
    expect(stored?.parts).toEqual([
      { number: 1, size: small.length, etag: `"${md5hex(small)}"`, sha256Base64: sha256b64(small) }
    ])
  })

  test('S3: a re-PUT of the same part number replaces the part', async () => {
    const created = await createFile(emu, 'replace.bin', small)
    const part = created.upload.parts[0]
    expect((await putPart(part.url, part.headers, small)).status).toBe(200)
    expect((await putPart(part.url, part.headers, small)).status).toBe(200)
    expect(emu.files().find(f => f.id === created.id)?.parts).toHaveLength(1)
  })

  test('S3: BadDigest when body SHA-256 differs from the signed checksum', async () => {
    const created = await createFile(emu, 'bad-digest.bin', small)
    const part = created.upload.parts[0]
    const res = await putPart(part.url, part.headers, Buffer.from('hello, polaR\n'))
    expect(res.status).toBe(400)
    expect(s3Code(res.text)).toBe('BadDigest')
    expect(s3Message(res.text)).toBe(
      'The SHA256 you specified did not match the calculated checksum.'
    )
    expect(emu.files().find(f => f.id === created.id)?.parts).toEqual([])
  })

  describe('S3: SignatureDoesNotMatch (403)', () => {
    test('S3: SignatureDoesNotMatch when a signed header value is changed', async () => {
      const created = await createFile(emu, 'sig1.bin', small)
      const part = created.upload.parts[0]
      const other = sha256b64(Buffer.from('other'))
      const res = await putPart(
        part.url,
        { ...part.headers, 'x-amz-checksum-sha256': other },
        Buffer.from('other')
      )
      expect(res.status).toBe(403)
      expect(s3Code(res.text)).toBe('SignatureDoesNotMatch')
    })

    test('S3: SignatureDoesNotMatch when a signed header is missing', async () => {
      const created = await createFile(emu, 'sig2.bin', small)
      const part = created.upload.parts[0]
      const res = await putPart(
        part.url,
        { 'x-amz-checksum-sha256': part.headers['x-amz-checksum-sha256'] },
        small
      )
      expect(res.status).toBe(403)
      expect(s3Code(res.text)).toBe('SignatureDoesNotMatch')
    })

    test('S3: SignatureDoesNotMatch when the URL is tampered (other part number)', async () => {
      const created = await createFile(emu, 'sig3.bin', small)
      const part = created.upload.parts[0]
      const res = await putPart(
        part.url.replace('partNumber=1', 'partNumber=2'),
        part.headers,
        small
      )
      expect(res.status).toBe(403)
      expect(s3Code(res.text)).toBe('SignatureDoesNotMatch')
    })

    test('S3: SignatureDoesNotMatch when the URL is re-encoded (decoded key)', async () => {
      const created = await createFile(emu, 'a b+c.bin', small)
      const part = created.upload.parts[0]
      const u = new URL(part.url)
      // What a client does when it "normalises" the URL: %20 → +, %2B → + (a different key for S3).
      const reencoded = `${u.origin}${u.pathname.replace('%20', '+').replace('%2B', '+')}${u.search}`
      expect(reencoded).not.toBe(part.url)
      const res = await putPart(reencoded, part.headers, small)
      expect(res.status).toBe(403)
      expect(s3Code(res.text)).toBe('SignatureDoesNotMatch')
      // the query too: re-encoding '/' in the credential scope
      const q = part.url.replace(
        /X-Amz-Credential=([^&]*)/,
        (_m, v: string) => `X-Amz-Credential=${decodeURIComponent(v)}`
      )
      expect((await putPart(q, part.headers, small)).status).toBe(403)
    })

    test('S3: SignatureDoesNotMatch on the wrong method', async () => {
      const created = await createFile(emu, 'sig5.bin', small)
      const part = created.upload.parts[0]
      const res = await putPart(part.url, part.headers, small, { method: 'POST' })
      expect(res.status).toBe(403)
      expect(s3Code(res.text)).toBe('SignatureDoesNotMatch')
    })
  })

  test('S3: AccessDenied for an extra x-amz-* header not in X-Amz-SignedHeaders', async () => {
    const created = await createFile(emu, 'unsigned.bin', small)
    const part = created.upload.parts[0]
    const res = await putPart(part.url, { ...part.headers, 'x-amz-meta-note': 'hi' }, small)
    expect(res.status).toBe(403)
    expect(s3Code(res.text)).toBe('AccessDenied')
    expect(s3Message(res.text)).toBe(
      'There were headers present in the request which were not signed'
    )
  })

  test('S3: InvalidArgument "Only one auth mechanism allowed" when an Authorization header is sent', async () => {
    const created = await createFile(emu, 'auth.bin', small)
    const part = created.upload.parts[0]
    const res = await putPart(
      part.url,
      { ...part.headers, authorization: `Bearer ${emu.token}` },
      small
    )
    expect(res.status).toBe(400)
    expect(s3Code(res.text)).toBe('InvalidArgument')
    expect(s3Message(res.text)).toMatch(/^Only one auth mechanism allowed/)
  })

  test('S3: AccessDenied "Request has expired" past X-Amz-Date + X-Amz-Expires', async () => {
    const created = await createFile(emu, 'expired.bin', small)
    const signed = await presignPart({
      s3Url: emu.s3Url,
      key: created.path,
      uploadId: created.upload.id,
      partNumber: 1,
      checksumSha256Base64: sha256b64(small),
      expiresIn: 60,
      signingDate: new Date(Date.now() - 61_000)
    })
    const res = await putPart(signed.url, signed.headers, small)
    expect(res.status).toBe(403)
    expect(s3Code(res.text)).toBe('AccessDenied')
    expect(s3Message(res.text)).toBe('Request has expired')
    // the same part signed now is accepted: only the time differs
    const fresh = await presignPart({
      s3Url: emu.s3Url,
      key: created.path,
      uploadId: created.upload.id,
      partNumber: 1,
      checksumSha256Base64: sha256b64(small),
      expiresIn: 60
    })
    expect((await putPart(fresh.url, fresh.headers, small)).status).toBe(200)
  })

  test('S3: InvalidRequest "Checksum Type mismatch" for a part without checksum into a SHA256 upload', async () => {
    // Polar presigns a part created without checksum_sha256_base64 without the checksum headers.
    const created = await createFile(emu, 'no-checksum.bin', small, {
      parts: [{ number: 1, chunk_start: 0, chunk_end: small.length }]
    })
    const part = created.upload.parts[0]
    expect(part.headers).toEqual({})
    expect(new URL(part.url).searchParams.get('X-Amz-SignedHeaders')).toBe('host')
    const res = await putPart(part.url, part.headers, small)
    expect(res.status).toBe(400)
    expect(s3Code(res.text)).toBe('InvalidRequest')
    expect(s3Message(res.text)).toMatch(/^Checksum Type mismatch occurred/)
  })

  test('S3: MissingContentLength (411) for a chunked body without Content-Length', async () => {
    const created = await createFile(emu, 'chunked.bin', small)
    const part = created.upload.parts[0]
    const res = await putPart(part.url, part.headers, small, { chunked: true })
    expect(res.status).toBe(411)
    expect(s3Code(res.text)).toBe('MissingContentLength')
  })

  test('S3: NoSuchUpload (404) for an unknown uploadId', async () => {
    const created = await createFile(emu, 'unknown-upload.bin', small)
    const signed = await presignPart({
      s3Url: emu.s3Url,
      key: created.path,
      uploadId: 'not-an-upload',
      partNumber: 1,
      checksumSha256Base64: sha256b64(small),
      expiresIn: 60
    })
    const res = await putPart(signed.url, signed.headers, small)
    expect(res.status).toBe(404)
    expect(s3Code(res.text)).toBe('NoSuchUpload')
  })

  test('S3: NoSuchUpload (404) for an aborted upload (file deleted before the PUT)', async () => {
    const created = await createFile(emu, 'aborted.bin', small)
    expect((await api(emu, 'DELETE', `/v1/files/${created.id}`)).status).toBe(204)
    const part = created.upload.parts[0]
    const res = await putPart(part.url, part.headers, small)
    expect(res.status).toBe(404)
    expect(s3Code(res.text)).toBe('NoSuchUpload')
  })

  test('S3: InvalidArgument (400) for partNumber outside 1–10000', async () => {
    const created = await createFile(emu, 'part-number.bin', small, {
      parts: [
        {
          number: 0,
          chunk_start: 0,
          chunk_end: small.length,
          checksum_sha256_base64: sha256b64(small)
        },
        {
          number: 10001,
          chunk_start: 0,
          chunk_end: small.length,
          checksum_sha256_base64: sha256b64(small)
        }
      ]
    })
    for (const part of created.upload.parts) {
      const res = await putPart(part.url, part.headers, small)
      expect(res.status).toBe(400)
      expect(s3Code(res.text)).toBe('InvalidArgument')
    }
  })

  describe('S3: CompleteMultipartUpload failures surface as Polar 500', () => {
    const valid = Buffer.concat([Buffer.alloc(5 * MiB, 1), Buffer.alloc(1024, 2)])

    /** A valid two-part upload: only the mutation a test applies can make completion fail. */
    async function twoPartUpload(name: string, content: Buffer = valid, partSize = 5 * MiB) {
      const created = await createFile(emu, name, content, { partSize })
      return { created, completed: await putAll(created, content) }
    }

    /** The untouched body completes afterwards: the failure changed nothing. */
    async function expectCompletes(id: string, body: unknown): Promise<void> {
      expect((await api(emu, 'POST', `/v1/files/${id}/uploaded`, { body })).status).toBe(200)
    }

    async function expect500(id: string, body: unknown): Promise<void> {
      const res = await api(emu, 'POST', `/v1/files/${id}/uploaded`, { body })
      expect(res.status).toBe(500)
      expect(res.headers['content-type']).toMatch(/^text\/plain/)
      expect(res.text).toBe('Internal Server Error')
      expect(emu.files().find(f => f.id === id)?.isUploaded).toBe(false)
    }

    test('S3: EntityTooSmall when a non-last part is < 5 MiB → Polar 500', async () => {
      const small2 = Buffer.concat([Buffer.alloc(1024, 1), Buffer.alloc(1024, 2)])
      const { created, completed } = await twoPartUpload('too-small.bin', small2, 1024)
      await expect500(created.id, completed)
      expect(emu.log().at(-1)?.error).toMatch(/EntityTooSmall/)
    })

    test('S3: InvalidPart when an ETag is wrong → Polar 500', async () => {
      const { created, completed } = await twoPartUpload('wrong-etag.bin')
      const good = completed.parts[1].checksum_etag
      completed.parts[1].checksum_etag = `"${md5hex(Buffer.from('x'))}"`
      await expect500(created.id, completed)
      expect(emu.log().at(-1)?.error).toMatch(/InvalidPart/)
      completed.parts[1].checksum_etag = good.replace(/"/g, '') // S3 compares ETags without quotes
      await expectCompletes(created.id, completed)
    })

    test('S3: InvalidPart when a checksum is wrong → Polar 500', async () => {
      const { created, completed } = await twoPartUpload('wrong-checksum.bin')
      const good = completed.parts[1].checksum_sha256_base64
      completed.parts[1].checksum_sha256_base64 = sha256b64(Buffer.from('x'))
      await expect500(created.id, completed)
      expect(emu.log().at(-1)?.error).toMatch(/InvalidPart/)
      completed.parts[1].checksum_sha256_base64 = good
      await expectCompletes(created.id, completed)
    })

    test('S3: InvalidPart when a listed part was never uploaded → Polar 500', async () => {
      const content = Buffer.alloc(5 * MiB + 10, 7)
      const created = await createFile(emu, 'missing-part.bin', content)
      const first = created.upload.parts[0]
      const put = await putPart(first.url, first.headers, content.subarray(0, 5 * MiB))
      await expect500(created.id, {
        id: created.upload.id,
        path: created.upload.path,
        parts: [
          {
            number: 1,
            checksum_etag: put.headers.etag,
            checksum_sha256_base64: first.checksum_sha256_base64
          },
          {
            number: 2,
            checksum_etag: `"${md5hex(content.subarray(5 * MiB))}"`,
            checksum_sha256_base64: created.upload.parts[1].checksum_sha256_base64
          }
        ]
      })
    })

    test('S3: InvalidPartOrder when parts are not ascending → Polar 500', async () => {
      const { created, completed } = await twoPartUpload('order.bin')
      await expect500(created.id, { ...completed, parts: [...completed.parts].reverse() })
      expect(emu.log().at(-1)?.error).toMatch(/InvalidPartOrder/)
      await expectCompletes(created.id, completed)
    })

    test('S3: MalformedXML when completing with zero parts → Polar 500', async () => {
      const { created, completed } = await twoPartUpload('zero.bin')
      await expect500(created.id, { ...completed, parts: [] })
      expect(emu.log().at(-1)?.error).toMatch(/MalformedXML/)
      await expectCompletes(created.id, completed)
    })
  })

  test('S3: transient 500 InternalError and 503 SlowDown (injected) then success on retry', async () => {
    const created = await createFile(emu, 'transient.bin', small)
    const part = created.upload.parts[0]
    emu.injectFault({ target: 's3', kind: 'status', status: 500 })
    emu.injectFault({ target: 's3', kind: 'status', status: 503 })
    const first = await putPart(part.url, part.headers, small)
    expect([first.status, s3Code(first.text)]).toEqual([500, 'InternalError'])
    const second = await putPart(part.url, part.headers, small)
    expect([second.status, s3Code(second.text)]).toEqual([503, 'SlowDown'])
    expect((await putPart(part.url, part.headers, small)).status).toBe(200)
  })

  test('S3: the request log never holds the presigned query or signature', async () => {
    const created = await createFile(emu, 'log.bin', small)
    const part = created.upload.parts[0]
    await putPart(part.url, part.headers, small)
    const entries = emu.log().filter(e => e.target === 's3')
    expect(entries.length).toBeGreaterThan(0)
    for (const e of entries) {
      expect(e.query).toBe('')
      expect(JSON.stringify(e)).not.toMatch(/X-Amz-Signature|X-Amz-Credential|uploadId/)
    }
  })
})
