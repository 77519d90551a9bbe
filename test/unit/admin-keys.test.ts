import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { adminKeyEntry, matchAdminKey, parseAdminKeys } from '../../src/domain/admin-keys.js'
import { credentialKind, credentialPrefixes, newAdminKey } from '../../src/domain/credentials.js'
import { twoFactorSetupDeadline, twoFactorSetupOverdue } from '../../src/domain/two-factor-requirement.js'

test('operator keys: lka_ + 32 base62 characters (≈190 bits), told apart by prefix', () => {
  const keys = new Set(Array.from({ length: 200 }, newAdminKey))
  assert.equal(keys.size, 200)
  for (const key of keys) {
    assert.match(key, /^lka_[0-9A-Za-z]{32}$/)
    assert.equal(credentialKind(key), 'admin')
  }
  assert.equal(credentialPrefixes.admin, 'lka_')
  assert.equal(credentialKind('lka_short'), null)
  assert.equal(credentialKind(`lka_${'a'.repeat(31)}!`), null)
})

test('an entry is name:SHA-256 of the whole key, in hex', () => {
  const key = newAdminKey()
  assert.equal(adminKeyEntry('ops', key), `ops:${createHash('sha256').update(key).digest('hex')}`)
})

test('parseAdminKeys: unset or blank is no key; entries trimmed; malformed and duplicate names refused', () => {
  assert.deepEqual(parseAdminKeys(undefined), [])
  assert.deepEqual(parseAdminKeys('  '), [])
  const [one, two] = [newAdminKey(), newAdminKey()]
  // Hex digits in either case.
  const upper = adminKeyEntry('bob.b@ops', two).replace(/:(.*)$/, (_, hex: string) => `:${hex.toUpperCase()}`)
  const parsed = parseAdminKeys(` ${adminKeyEntry('alice', one)} ,${upper}`)
  assert.deepEqual(
    parsed.map((e) => e.name),
    ['alice', 'bob.b@ops'],
  )
  for (const bad of [
    'alice',
    'alice:',
    `:${'a'.repeat(64)}`,
    `a b:${'a'.repeat(64)}`,
    `x:${'g'.repeat(64)}`,
    `x:${'a'.repeat(63)}`,
  ])
    assert.throws(() => parseAdminKeys(bad), /entry 1/)
  assert.throws(() => parseAdminKeys(`${adminKeyEntry('x', one)},${adminKeyEntry('x', two)}`), /twice/)
})

test('matchAdminKey names the entry of the key, and nothing for any other', () => {
  const [one, two] = [newAdminKey(), newAdminKey()]
  const entries = parseAdminKeys(`${adminKeyEntry('alice', one)},${adminKeyEntry('bob', two)}`)
  assert.equal(matchAdminKey(entries, one), 'alice')
  assert.equal(matchAdminKey(entries, two), 'bob')
  assert.equal(matchAdminKey(entries, newAdminKey()), null)
  assert.equal(matchAdminKey(entries, one.slice(0, -1)), null)
  assert.equal(matchAdminKey([], one), null)
})

test('2FA setup is overdue from the deadline on, only while 2FA is off', () => {
  const at = 1_800_000_000_000
  const off = (requiredBy: number | null) => ({ twoFactorEnabled: false, twoFactorRequiredBy: requiredBy })
  assert.equal(twoFactorSetupOverdue(off(null), at), false)
  assert.equal(twoFactorSetupOverdue(off(at + 1), at), false)
  assert.equal(twoFactorSetupOverdue(off(at), at), true)
  assert.equal(twoFactorSetupOverdue(off(at - 1), at), true)
  assert.equal(twoFactorSetupOverdue({ twoFactorEnabled: true, twoFactorRequiredBy: at - 1 }, at), false)
  assert.equal(twoFactorSetupDeadline(off(at)), at)
  assert.equal(twoFactorSetupDeadline({ twoFactorEnabled: true, twoFactorRequiredBy: at }), null)
})
