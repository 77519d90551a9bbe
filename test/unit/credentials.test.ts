import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import {
  credentialDigest,
  credentialKind,
  credentialPrefixes,
  newPendingCredential,
  newPersonalAccessToken,
  newSessionCredential,
  tokenChecksum,
  tokenHint,
} from '../../src/domain/credentials.js'

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const validSecret = 'abcdefghijklmnopqrstuvwxyzABCDEF'

describe('tokenChecksum', () => {
  test('CRC32 check value of "123456789" is 0xCBF43926', () => {
    assert.equal(crc32('123456789'), 0xcbf43926)
  })

  // Expected digits worked out by hand: 0xCBF43926 = 3421780262
  //   = 3·62^5 + 45·62^4 + 35·62^3 + 27·62^2 + 22·62 + 14 → 3 j Z R M E
  test('writes CRC32 in base62, most significant digit first', () => {
    assert.equal(tokenChecksum('123456789'), '3jZRME')
  })

  test('left-pads with 0 to six characters', () => {
    // CRC32("") = 0
    assert.equal(tokenChecksum(''), '000000')
    // 0x099A3BDA = 161102810 = 10·62^4 + 55·62^3 + 60·62^2 + 12·62 + 26 → (0) A t y C Q
    assert.equal(crc32('0123456789abcdefghijklmnopqrstu2'), 0x099a3bda)
    assert.equal(tokenChecksum('0123456789abcdefghijklmnopqrstu2'), '0AtyCQ')
  })

  test('fixed 32-character secrets', () => {
    // 0x6154D22A = 1632948778 = 1·62^5 + 48·62^4 + 31·62^3 + 42·62^2 + 35·62 + 32
    assert.equal(tokenChecksum(validSecret), '1mVgZW')
    // 0xF6B9A94A = 4139362634 = 4·62^5 + 32·62^4 + 8·62^3 + 21·62^2 + 19·62 + 28
    assert.equal(tokenChecksum('z'.repeat(32)), '4W8LJS')
  })
})

describe('new credentials', () => {
  const makers = [
    ['session', newSessionCredential, credentialPrefixes.session, 36],
    ['pending', newPendingCredential, credentialPrefixes.pending, 36],
    ['token', newPersonalAccessToken, credentialPrefixes.token, 42],
  ] as const

  for (const [kind, make, prefix, length] of makers) {
    test(`${kind}: prefix, length and kind round-trip`, () => {
      const value = make()
      assert.ok(value.startsWith(prefix))
      assert.equal(value.length, length)
      assert.equal(credentialKind(value), kind)
    })
  }

  test('generated tokens carry a verifying checksum', () => {
    for (let i = 0; i < 200; i++) {
      const token = newPersonalAccessToken()
      assert.equal(token.slice(36), tokenChecksum(token.slice(4, 36)))
      assert.equal(credentialKind(token), 'token')
    }
  })

  test('1000 secrets are distinct and use only the base62 alphabet', () => {
    const secrets = new Set<string>()
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const secret = newSessionCredential().slice(4)
      assert.match(secret, /^[0-9A-Za-z]{32}$/)
      secrets.add(secret)
      for (const ch of secret) seen.add(ch)
    }
    assert.equal(secrets.size, 1000)
    // 32 000 uniform draws cover all 62 characters; a biased or truncated alphabet would not.
    assert.equal(seen.size, 62)
  })
})

describe('credentialKind', () => {
  const token = credentialPrefixes.token + validSecret + '1mVgZW'

  test('accepts well-formed values of each kind', () => {
    assert.equal(credentialKind('lks_' + validSecret), 'session')
    assert.equal(credentialKind('lk2_' + validSecret), 'pending')
    assert.equal(credentialKind(token), 'token')
  })

  test('any single changed character of a token fails the check', () => {
    const generated = newPersonalAccessToken()
    for (const value of [token, generated]) {
      for (let i = 4; i < value.length; i++) {
        for (const ch of base62) {
          if (ch === value[i]) continue
          const altered = value.slice(0, i) + ch + value.slice(i + 1)
          assert.equal(credentialKind(altered), null, `position ${i} changed to ${ch}`)
        }
      }
    }
  })

  test('wrong or unknown prefix', () => {
    for (const prefix of ['lkx_', 'LKS_', 'lks-', 'lks', '', 'xlks_']) {
      assert.equal(credentialKind(prefix + validSecret), null, prefix)
    }
    // A session secret with a token prefix has no checksum.
    assert.equal(credentialKind('lkp_' + validSecret), null)
  })

  test('wrong length', () => {
    assert.equal(credentialKind('lks_' + validSecret.slice(1)), null)
    assert.equal(credentialKind('lks_' + validSecret + 'a'), null)
    assert.equal(credentialKind('lk2_'), null)
    assert.equal(credentialKind(token.slice(0, -1)), null)
    assert.equal(credentialKind(token + '0'), null)
    assert.equal(credentialKind(''), null)
  })

  test('non-base62 body', () => {
    for (const bad of ['-', '_', '+', '/', '=', ' ', 'é', '\n']) {
      assert.equal(credentialKind('lks_' + bad + validSecret.slice(1)), null, JSON.stringify(bad))
    }
    assert.equal(credentialKind('lks_' + validSecret.slice(1) + '\n'), null)
  })

  test('a token with a checksum computed over other characters is refused', () => {
    const other = 'z'.repeat(32)
    assert.equal(credentialKind('lkp_' + validSecret + tokenChecksum(other)), null)
  })
})

describe('digests and hints', () => {
  test('credentialDigest is the hex SHA-256 of the whole credential', () => {
    assert.equal(credentialDigest('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    const value = newSessionCredential()
    assert.equal(credentialDigest(value), createHash('sha256').update(value).digest('hex'))
    assert.match(credentialDigest(value), /^[0-9a-f]{64}$/)
  })

  test('different credentials have different digests', () => {
    assert.notEqual(credentialDigest('lks_' + validSecret), credentialDigest('lk2_' + validSecret))
  })

  test('tokenHint is the last four characters', () => {
    assert.equal(tokenHint('lkp_' + validSecret + '1mVgZW'), 'VgZW')
    assert.equal(tokenHint('lkp_abcdWXYZ'), 'WXYZ')
  })
})
