/**
 * Threat: an observed TOTP code (shoulder-surfing, phishing proxy) is replayed while it is still
 * inside the accepted window, possibly racing the owner, possibly against another instance.
 * The last accepted step is guarded in Postgres, so exactly one use can ever win.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTwoInstances, type TestApp, type TwoInstances } from '../support/app.js'
import { call, fails, ok, type Reply } from '../support/calls.js'
import { codeAt, enrolledAccount, pendingToken } from '../support/two-factor.js'

// Replay is the subject here; the per-account lock must not mask it.
const env = { TWO_FACTOR_LOCK_THRESHOLD: '1000' }

let a: TestApp
let b: TestApp
let instances: TwoInstances | undefined
before(async () => {
  instances = await startTwoInstances(env)
  ;({ a, b } = instances)
})
after(() => instances?.close())

function assertExactlyOneSuccess(replies: Reply[]): void {
  const successes = replies.filter((r) => r.ok)
  assert.equal(successes.length, 1, JSON.stringify(replies.filter((r) => !r.ok).map((r) => (r.ok ? null : r.reason))))
  for (const reply of replies) {
    if (reply.ok) continue
    assert.equal(reply.reason, 'INVALID_2FA_CODE')
    assert.equal(reply.data['attemptsLeft'], 4)
  }
}

describe('TOTP replay', () => {
  test('10 parallel Verify2FACode with one code on 10 pending tokens: exactly one session', async () => {
    const account = await enrolledAccount(a)
    const tokens = await Promise.all(
      Array.from({ length: 10 }, () => pendingToken(a, 'api', account.login, account.password)),
    )
    const code = await codeAt(account.secret, 0)
    const replies = await Promise.all(
      tokens.map((twoFactorToken, i) =>
        call(a, i % 2 === 0 ? 'api' : 'rpc', 'Verify2FACode', { twoFactorToken, code }),
      ),
    )
    assertExactlyOneSuccess(replies)
  })

  test('the same race split across two instances sharing Postgres and Redis: exactly one session', async () => {
    const account = await enrolledAccount(a)
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pendingToken(i < 5 ? a : b, 'api', account.login, account.password)),
    )
    const code = await codeAt(account.secret, 0)
    const replies = await Promise.all(
      tokens.map((twoFactorToken, i) => call(i % 2 === 0 ? a : b, 'api', 'Verify2FACode', { twoFactorToken, code })),
    )
    assertExactlyOneSuccess(replies)
  })

  test('one pending token raced with its right code: one session, the token is then gone', async () => {
    const account = await enrolledAccount(b)
    const twoFactorToken = await pendingToken(b, 'rpc', account.login, account.password)
    const code = await codeAt(account.secret, 0)
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(i % 2 === 0 ? a : b, 'rpc', 'Verify2FACode', { twoFactorToken, code })),
    )
    assert.equal(replies.filter((r) => r.ok).length, 1)
    await fails(a, 'api', 'Verify2FACode', 'UNAUTHENTICATED', { twoFactorToken, code: await codeAt(account.secret, 1) })
  })

  test('a code from a step at or before the last accepted one is refused', async () => {
    const account = await enrolledAccount(a)
    const next = await codeAt(account.secret, 1)
    const current = await codeAt(account.secret, 0)
    await ok(a, 'api', 'Verify2FACode', {
      twoFactorToken: await pendingToken(a, 'api', account.login, account.password),
      code: next,
    })
    // The current step is still inside the window, but it is before the accepted one.
    await fails(b, 'api', 'Verify2FACode', 'INVALID_2FA_CODE', {
      twoFactorToken: await pendingToken(b, 'api', account.login, account.password),
      code: current,
    })
    await fails(b, 'api', 'Verify2FACode', 'INVALID_2FA_CODE', {
      twoFactorToken: await pendingToken(b, 'api', account.login, account.password),
      code: next,
    })
  })
})
