/** src/upload/transfer.ts: the part URL split (secrets stay whole in it). */
import { describe, expect, test } from '@jest/globals'
import { splitUrl } from '../../../src/upload/transfer.js'

describe('secrets', () => {
  const url =
    'https://bucket.s3.amazonaws.com/org/id/My%20App.zip?partNumber=1&uploadId=abc&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101&X-Amz-Signature=deadbeef'
  test('splitUrl keeps every byte of the path', () => {
    const { origin, path } = splitUrl(url)
    expect(origin).toBe('https://bucket.s3.amazonaws.com')
    expect(origin + path).toBe(url)
  })
})
