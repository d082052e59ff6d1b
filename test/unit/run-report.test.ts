/** The run report's checksums text (checksumsText, today in src/report.ts). */
import { describe, expect, test } from '@jest/globals'
import { checksumsText } from '../../src/run-report.js'

describe('checksumsText', () => {
  test('sha256sum format: sorted by name, two spaces, LF, a final LF; GNU escapes', () => {
    const a = 'a'.repeat(64)
    const b = 'b'.repeat(64)
    const c = 'c'.repeat(64)
    expect(
      checksumsText([
        { name: 'b.zip', sha256: b },
        { name: 'A.zip', sha256: a },
        { name: 'odd\\name\n.txt', sha256: c }
      ])
    ).toBe(`${a}  A.zip\n${b}  b.zip\n\\${c}  odd\\\\name\\n.txt\n`)
    expect(checksumsText([])).toBe('')
  })
})
