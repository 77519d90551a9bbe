import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonicalLogin, loginPattern } from '../../src/domain/logins.js'

const pattern = new RegExp(loginPattern)

test('login pattern: 3–254 of letters, digits and . _ - @ +', () => {
  for (const ok of ['abc', 'Alice', 'jane.doe+ops@example.com', 'a_b-c', 'x'.repeat(254)]) {
    assert.ok(pattern.test(ok), ok)
  }
  for (const bad of ['ab', 'x'.repeat(255), 'jane doe', 'jané', 'a/b', 'a:b', 'abc\n', '', 'a%b']) {
    assert.ok(!pattern.test(bad), JSON.stringify(bad))
  }
})

test('canonicalLogin folds case so Alice and alice are one account', () => {
  assert.equal(canonicalLogin('Alice'), 'alice')
  assert.equal(canonicalLogin('JANE.Doe+X@Example.COM'), 'jane.doe+x@example.com')
  assert.equal(canonicalLogin('bob'), 'bob')
})
