/**
 * Threat: an account under attack stays usable after an operator locks it. Instance `a` locks;
 * instance `b`, sharing Postgres and Redis and holding the account's PAT in its cache and its
 * sessions live, must refuse them on the very next call. Sign-ins racing the lock, a pending
 * second factor from before it, and a PAT lookup that read Postgres before it get nothing either.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { credentialDigest } from '../../src/domain/credentials.js'
import { startTestApp, startTwoInstances, testRedisUrl, type TestApp } from '../support/app.js'
import { fails, ok, transports } from '../support/calls.js'
import { deleteKeysWithPrefix } from '../support/redis.js'
import { createToken, keyOf, operators } from '../support/operators.js'
import { codeAt, enrolledAccount, pendingToken } from '../support/two-factor.js'

const ops = operators('incident')
const operator = { bearer: keyOf(ops, 'incident') }
const lock = (app: TestApp, login: string) =>
  ok(app, 'api', 'AdminLockAccount', { login, reason: 'INC-1: account takeover' }, operator)
const unlock = (app: TestApp, login: string) =>
  ok(app, 'api', 'AdminUnlockAccount', { login, reason: 'INC-1 closed' }, operator)

let a: TestApp
let b: TestApp
let close: () => Promise<void>
before(async () => {
  // A long cache lifetime: only eviction can make these tests pass.
  const pair = await startTwoInstances({ ...ops.env, TOKEN_CACHE_SECONDS: '300' })
  a = pair.a
  b = pair.b
  close = pair.close
})
after(() => close())

for (const transport of transports) {
  describe(`a lock on one instance, seen on the other over ${transport}`, () => {
    test('cached PATs and live sessions are refused at once; sign-in with the right password is FORBIDDEN', async () => {
      const { login, password, session } = await a.signUpAndIn()
      const other = await b.signIn(login, password)
      const pat = await createToken(a, session, password)
      for (let i = 0; i < 2; i++) await ok(b, transport, 'GetSession', {}, { bearer: pat.token })

      await lock(a, login)
      for (const bearer of [pat.token, session, other])
        await fails(b, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer })
      const refused = await fails(b, transport, 'SignIn', 'FORBIDDEN', { login, password })
      assert.equal(refused.data['locked'], true)
      await fails(b, transport, 'SignIn', 'INVALID_CREDENTIALS', { login, password: `${password}x` })
      // Still refused once the refusal itself is cached.
      await fails(b, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: pat.token })

      await unlock(a, login)
      assert.equal((await ok(b, transport, 'GetSession', {}, { bearer: pat.token }))['authType'], 'token')
      const fresh = String((await ok(b, transport, 'SignIn', { login, password }))['session'])
      await ok(b, transport, 'GetSessions', {}, { bearer: fresh })
      // Sessions the lock ended stay ended.
      for (const bearer of [session, other]) await fails(b, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer })
    })

    test('a pending second factor from before the lock opens no session and spends no code', async () => {
      const user = await enrolledAccount(a, transport)
      const pending = await pendingToken(b, transport, user.login, user.password)
      await lock(a, user.login)
      for (const code of [await codeAt(user.secret, 0), user.recoveryCodes[0]]) {
        const refused = await fails(b, transport, 'Verify2FACode', 'FORBIDDEN', { twoFactorToken: pending, code }, {})
        assert.equal(refused.data['locked'], true)
      }
      const account = await ok(a, transport, 'AdminGetAccount', { login: user.login }, operator)
      assert.deepEqual([account['sessions'], account['recoveryCodesLeft']], [0, 10])
      await unlock(a, user.login)
      // The same token and code work once the lock is lifted.
      const verified = await ok(b, transport, 'Verify2FACode', { twoFactorToken: pending, code: user.recoveryCodes[0] })
      assert.equal(verified['recoveryCodesLeft'], 9)
    })
  })
}

test('sign-ins racing the lock: every session handed out is dead once the lock returns', async () => {
  const { login, password } = await a.signUp()
  // Fewer than SIGNIN_MAX_PER_LOGIN_IP: every attempt reserves its place before its check.
  const attempts = Array.from({ length: 8 }, (_, i) =>
    (i % 2 === 0 ? a : b).api('SignIn', { login, password }).then((reply) => reply.body),
  )
  const locking = lock(b, login)
  const replies = await Promise.all(attempts)
  await locking
  const sessions = replies.flatMap((body) => (typeof body['session'] === 'string' ? [body['session']] : []))
  for (const body of replies) {
    if (typeof body['session'] !== 'string') assert.equal(body.error?.data['reason'], 'FORBIDDEN', JSON.stringify(body))
  }
  for (const session of sessions) {
    for (const app of [a, b]) await fails(app, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
  }
  const account = await ok(a, 'api', 'AdminGetAccount', { login }, operator)
  assert.equal(account['sessions'], 0)
})

test('a PAT lookup that read Postgres before the lock cannot cache the token as valid afterwards', async () => {
  const { login, password, session } = await a.signUpAndIn()
  const pat = await createToken(a, session, password)
  const digest = credentialDigest(pat.token)
  // The slow lookup: its Postgres read happens before the lock commits ...
  const stale = await b.services.stores.tokens.findByDigest(digest)
  assert.ok(stale !== null && !stale.locked)
  await lock(a, login)
  // ... and its cache write lands after it.
  await b.services.stores.tokenCache.put(
    digest,
    {
      id: stale.id,
      accountId: stale.accountId,
      login: stale.login,
      twoFactorEnabled: stale.twoFactorEnabled,
      twoFactorRequiredBy: null,
      locked: false,
      apiList: stale.apiList,
      expiresAt: null,
    },
    300_000,
  )
  for (const app of [a, b]) await fails(app, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: pat.token })
})

test('an instance with nothing cached reads the lock from Postgres, then refuses from its cache', async () => {
  const prefix = `test:${randomBytes(6).toString('hex')}:`
  const cold = await startTestApp({ ...ops.env, REDIS_KEY_PREFIX: prefix }, { share: a })
  try {
    const { login, password, session } = await a.signUpAndIn()
    const pat = await createToken(a, session, password)
    await lock(a, login)
    await fails(cold, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: pat.token })
    // The refusal is cached: with Postgres reads failing, the answer is still UNAUTHENTICATED.
    const { tokens } = cold.services.stores
    const findByDigest = tokens.findByDigest
    tokens.findByDigest = async () => {
      throw new Error('Postgres must not be read for a cached token')
    }
    try {
      await fails(cold, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: pat.token })
    } finally {
      tokens.findByDigest = findByDigest
    }
  } finally {
    await cold.close()
    await deleteKeysWithPrefix(testRedisUrl, prefix)
  }
})
