import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { generateKeyMaterial, parseKeyring } from '../../src/crypto/keyring.js'
import { createSecretBox } from '../../src/crypto/secret-box.js'

const oldKey = generateKeyMaterial()
const newKey = generateKeyMaterial()
const secret = randomBytes(20)

describe('parseKeyring', () => {
  test('base64 (padded, unpadded, URL-safe) and hex all give the same key', () => {
    const bytes = randomBytes(32)
    const forms = [
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
    ]
    const ids = forms.map((form) => parseKeyring(form).current.id)
    assert.equal(new Set(ids).size, 1)
    assert.ok(parseKeyring(forms[0] ?? '').current.bytes.equals(bytes))
  })

  test('key id is the first 8 hex chars of sha256("latchkey-key-id:" + key)', () => {
    const bytes = randomBytes(32)
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('latchkey-key-id:'), bytes]))
      .digest('hex')
      .slice(0, 8)
    assert.equal(parseKeyring(bytes.toString('base64')).current.id, expected)
  })

  test('current first; spaces around commas are ignored', () => {
    const ring = parseKeyring(` ${newKey} , ${oldKey} `)
    assert.equal(ring.keys.length, 2)
    assert.equal(ring.current.id, ring.keys[0]?.id)
    assert.equal(ring.keys[1]?.id, parseKeyring(oldKey).current.id)
  })

  test('bad input is refused without echoing the key', () => {
    const short = randomBytes(16).toString('base64')
    const long = randomBytes(33).toString('base64')
    const junk = 'not a key at all!!'
    for (const value of [
      '',
      short,
      long,
      junk,
      `${newKey},`,
      `${newKey},${short}`,
      `${newKey},${newKey}`,
      'zz'.repeat(32),
    ]) {
      assert.throws(
        () => parseKeyring(value),
        (error: unknown) => {
          assert.ok(error instanceof Error)
          assert.match(error.message, /SECRETS_KEY/)
          for (const part of value.split(','))
            if (part.length > 3) assert.ok(!error.message.includes(part), 'the message echoes the key')
          return true
        },
      )
    }
  })

  test('generateKeyMaterial gives distinct, parseable 32-byte keys', () => {
    const a = generateKeyMaterial()
    assert.equal(Buffer.from(a, 'base64').length, 32)
    assert.notEqual(a, generateKeyMaterial())
  })
})

describe('createSecretBox', () => {
  const box = createSecretBox(parseKeyring(newKey))

  test('round trip; the nonce is fresh each time', () => {
    const a = box.seal(secret, 'totp:acct-1')
    const b = box.seal(secret, 'totp:acct-1')
    assert.equal(a.keyId, box.currentKeyId)
    assert.equal(a.box.length, 12 + secret.length + 16)
    assert.ok(!a.box.equals(b.box))
    assert.ok(!a.box.includes(secret))
    assert.ok(box.open(a, 'totp:acct-1').equals(secret))
    assert.ok(box.open(b, 'totp:acct-1').equals(secret))
  })

  test('wrong associated data fails (a box moved to another row does not open)', () => {
    const sealed = box.seal(secret, 'totp:acct-1')
    assert.throws(() => box.open(sealed, 'totp:acct-2'), /failed authentication/)
    assert.throws(() => box.open(sealed, 'recovery:acct-1'), /failed authentication/)
  })

  test('tampering with nonce, ciphertext or tag fails; truncation fails', () => {
    const sealed = box.seal(secret, 'aad')
    for (const index of [0, 11, 12, 12 + secret.length - 1, sealed.box.length - 1]) {
      const tampered = Buffer.from(sealed.box)
      tampered[index] = (tampered[index] ?? 0) ^ 0x01
      assert.throws(() => box.open({ keyId: sealed.keyId, box: tampered }, 'aad'), /failed authentication/)
    }
    assert.throws(() => box.open({ keyId: sealed.keyId, box: sealed.box.subarray(0, 20) }, 'aad'), /truncated/)
  })

  test('an unknown key id is refused', () => {
    const sealed = box.seal(secret, 'aad')
    assert.throws(() => box.open({ keyId: 'deadbeef', box: sealed.box }, 'aad'), /unknown key id/)
  })

  test('digests are keyed, deterministic, and not the key-id hash', () => {
    assert.ok(box.digest('abcde-12345').equals(box.digest('abcde-12345')))
    assert.ok(!box.digest('abcde-12345').equals(box.digest('abcde-12346')))
    const other = createSecretBox(parseKeyring(oldKey))
    assert.ok(!box.digest('abcde-12345').equals(other.digest('abcde-12345')))
    assert.ok(!box.digest('x').equals(createHash('sha256').update('x').digest()))
  })

  test('rotation: sealed under the old key opens with "new,old"; digests list current first', () => {
    const before = createSecretBox(parseKeyring(oldKey))
    const sealed = before.seal(secret, 'recovery:row-1')
    const oldDigest = before.digest('abcde-12345')

    const after = createSecretBox(parseKeyring(`${newKey},${oldKey}`))
    assert.notEqual(after.currentKeyId, before.currentKeyId)
    assert.ok(after.open(sealed, 'recovery:row-1').equals(secret))
    const resealed = after.seal(after.open(sealed, 'recovery:row-1'), 'recovery:row-1')
    assert.equal(resealed.keyId, after.currentKeyId)

    const digests = after.digestsUnderAllKeys('abcde-12345')
    assert.equal(digests.length, 2)
    assert.ok(digests[0]?.equals(after.digest('abcde-12345')))
    assert.ok(digests[1]?.equals(oldDigest))

    // Once the old key is dropped, only re-sealed values open.
    const onlyNew = createSecretBox(parseKeyring(newKey))
    assert.throws(() => onlyNew.open(sealed, 'recovery:row-1'), /unknown key id/)
    assert.ok(onlyNew.open(resealed, 'recovery:row-1').equals(secret))
  })
})
