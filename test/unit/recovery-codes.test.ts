import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import {
  generateRecoveryCodes,
  looksLikeRecoveryCode,
  normalizeRecoveryCode,
  recoveryCodeCount,
} from '../../src/domain/recovery-codes.js'

const codeFormat = /^[a-z0-9]{5}-[a-z0-9]{5}$/

describe('generateRecoveryCodes', () => {
  test('ten codes in xxxxx-xxxxx form', () => {
    assert.equal(recoveryCodeCount, 10)
    const codes = generateRecoveryCodes()
    assert.equal(codes.length, 10)
    for (const code of codes) assert.match(code, codeFormat)
  })

  test('a set has no duplicates, and honours count', () => {
    for (const count of [1, 10, 500]) {
      const codes = generateRecoveryCodes(count)
      assert.equal(codes.length, count)
      assert.equal(new Set(codes).size, count)
    }
  })

  test('codes are already canonical', () => {
    for (const code of generateRecoveryCodes()) assert.equal(normalizeRecoveryCode(code), code)
  })

  test('draws from the whole alphabet', () => {
    const seen = new Set<string>()
    for (const code of generateRecoveryCodes(400)) for (const ch of code.replace('-', '')) seen.add(ch)
    // 4000 uniform draws over 36 characters cover them all; a narrower alphabet would not.
    assert.equal(seen.size, 36)
  })

  test('two sets differ', () => {
    const a = generateRecoveryCodes()
    const b = generateRecoveryCodes()
    assert.equal(a.filter((code) => b.includes(code)).length, 0)
  })
})

describe('normalizeRecoveryCode', () => {
  const accepted: ReadonlyArray<readonly [string, string]> = [
    ['abcde-fghij', 'abcde-fghij'],
    ['ABCDE FGHIJ', 'abcde-fghij'],
    ['AbCdE-fGhIj', 'abcde-fghij'],
    [' a b c d e - f g h i j ', 'abcde-fghij'],
    ['abcdefghij', 'abcde-fghij'],
    ['ab-cd-ef-gh-ij', 'abcde-fghij'],
    ['12345-67890', '12345-67890'],
    ['a1b2c\t3d4e5\n', 'a1b2c-3d4e5'],
  ]
  for (const [input, expected] of accepted) {
    test(`accepts ${JSON.stringify(input)}`, () => {
      assert.equal(normalizeRecoveryCode(input), expected)
      assert.equal(looksLikeRecoveryCode(input), true)
    })
  }

  const refused = [
    '',
    'abcde-fghi', // 9
    'abcde-fghijk', // 11
    'abcd',
    'abcde_fghij',
    'abcde.fghij',
    'abcde-fghi!',
    'abcde-fghíj',
    'abcde-fghi\u212A', // KELVIN SIGN lower-cases to ASCII "k"; still not a code character
    'ａｂｃｄｅ-ｆｇｈｉｊ', // full-width
    '123456', // a TOTP code
    '123 456',
  ]
  for (const input of refused) {
    test(`refuses ${JSON.stringify(input)}`, () => {
      assert.equal(normalizeRecoveryCode(input), null)
      assert.equal(looksLikeRecoveryCode(input), false)
    })
  }
})
