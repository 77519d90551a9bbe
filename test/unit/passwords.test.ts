import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { dictionary } from '@zxcvbn-ts/language-common'
import {
  normalizePassword,
  passwordMaxLength,
  passwordMinLength,
  passwordPrehash,
  passwordProblems,
} from '../../src/domain/passwords.js'

const login = 'alice'
const fine = 'violet-harbour-kettle'

describe('normalizePassword', () => {
  test('NFKC: full-width and ligature forms equal their ASCII form', () => {
    assert.equal(normalizePassword('ｐａｓｓ'), 'pass')
    assert.equal(normalizePassword('\uFB01ve'), 'five')
    assert.equal(passwordPrehash('ｐａｓｓｗｏｒｄ！９'), passwordPrehash('password!9'))
    assert.equal(passwordPrehash('\uFB01sh-and-chips'), passwordPrehash('fish-and-chips'))
  })

  test('composed and decomposed accents are the same password', () => {
    assert.equal(passwordPrehash('caf\u00e9-au-lait'), passwordPrehash('cafe\u0301-au-lait'))
  })
})

describe('passwordPrehash', () => {
  test('is HMAC-SHA-256 under the fixed key, base64, 44 ASCII characters', () => {
    const expected = createHmac('sha256', 'latchkey.password.v1').update('correct horse').digest('base64')
    assert.equal(passwordPrehash('correct horse'), expected)
    assert.equal(expected.length, 44)
    assert.match(passwordPrehash('ünïcödé-παράδειγμα-🙂'), /^[A-Za-z0-9+/]{43}=$/)
  })

  test("every character counts, also past bcrypt's 72 bytes", () => {
    const shared = 'x'.repeat(80)
    const a = shared + 'a'.repeat(20)
    const b = shared + 'b'.repeat(20)
    assert.equal(a.length, 100)
    assert.notEqual(passwordPrehash(a), passwordPrehash(b))
    assert.ok(Buffer.byteLength(passwordPrehash(a)) < 72)
    // Multi-byte characters reach byte 72 sooner; the tail still counts.
    const wide = '€'.repeat(30)
    assert.notEqual(passwordPrehash(wide + 'one'), passwordPrehash(wide + 'two'))
  })

  test('is case-sensitive', () => {
    assert.notEqual(passwordPrehash('Violet-Harbour'), passwordPrehash('violet-harbour'))
  })
})

describe('passwordProblems', () => {
  test('a good password has no problems', () => {
    assert.deepEqual(passwordProblems(fine, login), [])
  })

  test('length bounds are in code points of the NFKC form', () => {
    assert.equal(passwordMinLength, 8)
    assert.equal(passwordMaxLength, 256)
    const tooShort = passwordProblems('q7#vZ2!', login)
    assert.equal(tooShort.length, 1)
    assert.match(tooShort[0] ?? '', /at least 8/)
    assert.deepEqual(passwordProblems('q7#vZ2!k', login), [])
    // Seven emoji are 14 UTF-16 units but 7 code points: too short.
    assert.equal(passwordProblems('🐙🦊🐢🦉🐝🦀🐬', login).length, 1)
    assert.deepEqual(passwordProblems('🐙🦊🐢🦉🐝🦀🐬🐌', login), [])
    // 256 emoji are 512 UTF-16 units but allowed; 257 are not.
    assert.deepEqual(passwordProblems('🐙'.repeat(256), login), [])
    const tooLong = passwordProblems('🐙'.repeat(257), login)
    assert.equal(tooLong.length, 1)
    assert.match(tooLong[0] ?? '', /at most 256/)
    // NFKC expands the ligature: four input code points become eight.
    assert.deepEqual(
      passwordProblems('\uFB01\uFB01\uFB01\uFB01', login).filter((p) => /at least/.test(p)),
      [],
    )
  })

  test('common passwords are refused, whatever their case', () => {
    const common = new Set(dictionary['passwords-common'])
    for (const password of ['123456789', 'password123', 'iloveyou', 'qwertyuiop']) {
      assert.ok(common.has(password), `${password} is on the list`)
      assert.deepEqual(passwordProblems(password, login), ['Password is too common.'])
    }
    assert.deepEqual(passwordProblems('PassWord123', login), ['Password is too common.'])
    assert.deepEqual(passwordProblems('１２３４５６７８９', login), ['Password is too common.'])
    assert.ok(!common.has(fine))
  })

  test('containing the login is refused, case-insensitively', () => {
    const message = 'Password must not contain the login.'
    assert.deepEqual(passwordProblems('my-alice-secret-42', 'alice'), [message])
    assert.deepEqual(passwordProblems('my-ALICE-secret-42', 'alice'), [message])
    assert.deepEqual(passwordProblems('my-alice-secret-42', 'Alice'), [message])
    assert.deepEqual(passwordProblems('my-ａｌｉｃｅ-secret-42', 'alice'), [message])
    assert.deepEqual(passwordProblems('my-alic-e-secret-42', 'alice'), [])
  })

  test('reports every problem at once', () => {
    assert.deepEqual(passwordProblems('zbobq', 'bob'), [
      'Password must be at least 8 characters long.',
      'Password must not contain the login.',
    ])
    assert.equal(passwordProblems('bob', 'bob').length, 3)
  })

  test('lone surrogates are refused (UTF-8 encoding would merge them)', () => {
    assert.equal(passwordProblems('violet-\uD800-harbour', login).length, 1)
    assert.equal(passwordProblems('violet-\uDC00-harbour', login).length, 1)
  })

  test('messages never contain the password', () => {
    const password = 'Alice-Zq9'
    for (const problem of passwordProblems(password, 'alice')) {
      assert.ok(!problem.toLowerCase().includes(password.toLowerCase()))
    }
    for (const problem of passwordProblems('password123', 'alice')) {
      assert.ok(!problem.includes('password123'))
    }
  })
})
