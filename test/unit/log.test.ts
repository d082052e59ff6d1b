/** src/log.ts: secrets never reach the log. */
import { describe, expect, test } from '@jest/globals'
import { redact } from '../../src/log.js'

describe('secrets', () => {
  const url =
    'https://bucket.s3.amazonaws.com/org/id/My%20App.zip?partNumber=1&uploadId=abc&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101&X-Amz-Signature=deadbeef'
  test('redact removes presigned query strings', () => {
    const text = redact(`connect failed for ${url} (retrying)`)
    expect(text).not.toContain('deadbeef')
    expect(text).not.toContain('AKIA')
    expect(text).toContain('(retrying)')
  })
})
