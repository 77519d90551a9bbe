/**
 * The operators' methods on both transports, each change as the user sees it in their own
 * sign-in history (`detail: {admin, reason}`).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, uniqueLogin, type TestApp } from '../support/app.js'
import { assertNear, fails, isoMs, list, ok, transports } from '../support/calls.js'
import { createToken, keyOf, newest, operators, ownHistory } from '../support/operators.js'
import { codeAt, enrolledAccount } from '../support/two-factor.js'

const day = 24 * 60 * 60 * 1000
const ops = operators('alice-oncall', 'bob-support')
const alice = { bearer: keyOf(ops, 'alice-oncall') }
const bob = { bearer: keyOf(ops, 'bob-support') }

let t: TestApp
before(async () => {
  t = await startTestApp(ops.env)
})
after(() => t.close())

for (const transport of transports) {
  describe(`admin methods over ${transport}`, () => {
    test('AdminGetAccount: the account by login, any case; an unknown login is NOT_FOUND', async () => {
      const { login, password, accountId, session } = await t.signUpAndIn()
      await t.signIn(login, password)
      await createToken(t, session, password)
      const got = await ok(t, transport, 'AdminGetAccount', { login: login.toUpperCase() }, alice)
      assert.deepEqual(Object.keys(got).sort(), [
        'accountId',
        'createdAt',
        'email',
        'lastSignInAt',
        'locked',
        'login',
        'recoveryCodesLeft',
        'sessions',
        'tokens',
        'twoFactorEnabled',
        'twoFactorRequired',
        'twoFactorRequiredBy',
      ])
      assert.equal(got['accountId'], accountId)
      assert.equal(got['login'], login.toLowerCase())
      assert.equal(got['email'], null)
      assert.equal(got['twoFactorEnabled'], false)
      assert.equal(got['twoFactorRequired'], false)
      assert.equal(got['twoFactorRequiredBy'], null)
      assert.equal(got['recoveryCodesLeft'], 0)
      assert.equal(got['locked'], false)
      assert.equal(got['sessions'], 2)
      assert.equal(got['tokens'], 1)
      assertNear(isoMs(got['lastSignInAt']), Date.now(), 60_000, 'lastSignInAt')
      assertNear(isoMs(got['createdAt']), Date.now(), 60_000, 'createdAt')

      const enrolled = await enrolledAccount(t, transport)
      const on = await ok(t, transport, 'AdminGetAccount', { login: enrolled.login }, bob)
      assert.equal(on['twoFactorEnabled'], true)
      assert.equal(on['recoveryCodesLeft'], 10)

      await fails(t, transport, 'AdminGetAccount', 'NOT_FOUND', { login: uniqueLogin('nobody') }, alice)
    })

    test('AdminDisable2FA: the lost-phone procedure; sessions end, PATs stay, the user enrols again', async () => {
      const user = await enrolledAccount(t, transport)
      const pat = await createToken(t, user.session, user.password)
      const reason = 'ticket SUP-1234: identity verified by video call'
      assert.deepEqual(await ok(t, transport, 'AdminDisable2FA', { login: user.login, reason }, alice), {})

      await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: user.session })
      const viaPat = await ok(t, transport, 'GetSession', {}, { bearer: pat.token })
      assert.equal(viaPat['twoFactorEnabled'], false)

      // Password alone signs in now: no pending token.
      const signedIn = await ok(t, transport, 'SignIn', { login: user.login, password: user.password })
      assert.equal(typeof signedIn['session'], 'string')
      assert.equal(signedIn['twoFactorRequired'], undefined)
      const session = String(signedIn['session'])
      const event = newest(await ownHistory(t, transport, session), 'admin.2fa.disabled')
      assert.deepEqual(event['detail'], { admin: 'alice-oncall', reason })

      await fails(t, transport, 'AdminDisable2FA', 'CONFLICT', { login: user.login, reason }, alice)
      const status = await ok(t, transport, 'Get2FAStatus', {}, { bearer: session })
      assert.equal(status['enabled'], false)
      assert.equal(status['recoveryCodesLeft'], 0)

      // Enrolling again works and yields a fresh set.
      const config = await ok(t, transport, 'Get2FAConfig', { password: user.password }, { bearer: session })
      const secret = String(config['secret'])
      assert.notEqual(secret, user.secret)
      const enabled = await ok(t, transport, 'Enable2FA', { code: await codeAt(secret, 0) }, { bearer: session })
      const codes = enabled['recoveryCodes']
      assert.ok(Array.isArray(codes) && codes.length === 10)
    })

    test('AdminRequire2FA: a deadline graceDays from now (default 7), reported to the user; lifted with required: false', async () => {
      const { login, session } = await t.signUpAndIn()
      const reason = 'policy: all staff accounts need 2FA'
      const set = await ok(t, transport, 'AdminRequire2FA', { login, required: true, reason }, alice)
      assert.equal(set['twoFactorRequired'], true)
      const requiredBy = isoMs(set['twoFactorRequiredBy'])
      assertNear(requiredBy, Date.now() + 7 * day, 60_000, 'default grace')

      const status = await ok(t, transport, 'Get2FAStatus', {}, { bearer: session })
      assert.equal(status['required'], true)
      assert.equal(isoMs(status['requiredBy']), requiredBy)
      const described = await ok(t, transport, 'GetSession', {}, { bearer: session })
      assert.equal(isoMs(described['twoFactorSetupRequiredBy']), requiredBy)
      assert.equal(described['twoFactorSetupRequired'], undefined)
      assert.deepEqual(newest(await ownHistory(t, transport, session), 'admin.2fa.required')['detail'], {
        admin: 'alice-oncall',
        reason,
      })

      const longer = await ok(t, transport, 'AdminRequire2FA', { login, required: true, graceDays: 90, reason }, bob)
      assertNear(isoMs(longer['twoFactorRequiredBy']), Date.now() + 90 * day, 60_000, 'graceDays 90')
      for (const graceDays of [-1, 91, 1.5])
        await fails(
          t,
          transport,
          'AdminRequire2FA',
          'INVALID_PARAMS',
          { login, required: true, graceDays, reason },
          bob,
        )

      const lifted = await ok(t, transport, 'AdminRequire2FA', { login, required: false, reason: 'exempt' }, bob)
      assert.deepEqual(lifted, { twoFactorRequired: false, twoFactorRequiredBy: null })
      const after = await ok(t, transport, 'Get2FAStatus', {}, { bearer: session })
      assert.deepEqual([after['required'], after['requiredBy']], [false, null])
      assert.equal(
        (await ok(t, transport, 'GetSession', {}, { bearer: session }))['twoFactorSetupRequiredBy'],
        undefined,
      )
      const account = await ok(t, transport, 'AdminGetAccount', { login }, bob)
      assert.deepEqual([account['twoFactorRequired'], account['twoFactorRequiredBy']], [false, null])
      await fails(
        t,
        transport,
        'AdminRequire2FA',
        'NOT_FOUND',
        { login: uniqueLogin('nobody'), required: true, reason },
        bob,
      )
    })

    test('AdminLockAccount and AdminUnlockAccount', async () => {
      const { login, password, session } = await t.signUpAndIn()
      const pat = await createToken(t, session, password)
      await ok(t, transport, 'GetSession', {}, { bearer: pat.token })
      const reason = 'INC-77: credential stuffing from 198.51.100.0/24'
      assert.deepEqual(await ok(t, transport, 'AdminLockAccount', { login, reason }, alice), {})

      await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
      await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: pat.token })
      const refused = await fails(t, transport, 'SignIn', 'FORBIDDEN', { login, password })
      assert.equal(refused.data['locked'], true)
      await fails(t, transport, 'SignIn', 'INVALID_CREDENTIALS', { login, password: `${password}x` })
      const locked = await ok(t, transport, 'AdminGetAccount', { login }, alice)
      assert.deepEqual([locked['locked'], locked['sessions']], [true, 0])
      // Repeating the lock is harmless (a retry after UNAVAILABLE).
      assert.deepEqual(await ok(t, transport, 'AdminLockAccount', { login, reason }, alice), {})

      assert.deepEqual(await ok(t, transport, 'AdminUnlockAccount', { login, reason: 'INC-77 closed' }, bob), {})
      const fresh = await t.signIn(login, password)
      assert.equal((await ok(t, transport, 'GetSession', {}, { bearer: pat.token }))['authType'], 'token')
      await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
      const events = await ownHistory(t, transport, fresh)
      assert.deepEqual(newest(events, 'admin.locked')['detail'], { admin: 'alice-oncall', reason })
      assert.deepEqual(newest(events, 'admin.unlocked')['detail'], { admin: 'bob-support', reason: 'INC-77 closed' })
      const lockedRefusal = events.find(
        (e) => e['type'] === 'signin.failure' && (e['detail'] as { locked?: boolean } | undefined)?.locked === true,
      )
      assert.ok(lockedRefusal, 'the refused right password is in the history')
      assert.equal((await ok(t, transport, 'AdminGetAccount', { login }, alice))['locked'], false)
      await fails(t, transport, 'AdminLockAccount', 'NOT_FOUND', { login: uniqueLogin('nobody'), reason }, alice)
      await fails(t, transport, 'AdminUnlockAccount', 'NOT_FOUND', { login: uniqueLogin('nobody'), reason }, alice)
    })

    test('AdminSignOut ends every session; with tokens: true deletes every PAT too', async () => {
      const { login, password, session } = await t.signUpAndIn()
      const second = await t.signIn(login, password)
      const one = await createToken(t, session, password)
      const two = await createToken(t, session, password)
      for (const pat of [one, two]) await ok(t, transport, 'GetSession', {}, { bearer: pat.token })

      const reason = 'user reported a stolen laptop'
      assert.deepEqual(await ok(t, transport, 'AdminSignOut', { login, reason }, alice), { sessions: 2, tokens: 0 })
      for (const bearer of [session, second]) await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer })
      for (const pat of [one, two]) await ok(t, transport, 'GetSession', {}, { bearer: pat.token })

      const third = await t.signIn(login, password)
      assert.deepEqual(await ok(t, transport, 'AdminSignOut', { login, tokens: true, reason }, bob), {
        sessions: 1,
        tokens: 2,
      })
      for (const bearer of [third, one.token, two.token])
        await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer })
      assert.deepEqual(await ok(t, transport, 'AdminSignOut', { login, tokens: true, reason }, bob), {
        sessions: 0,
        tokens: 0,
      })

      const events = await ownHistory(t, transport, await t.signIn(login, password))
      const signedOut = events.filter((e) => e['type'] === 'admin.signed_out')
      assert.deepEqual(
        signedOut.map((e) => e['detail']),
        [
          { admin: 'bob-support', reason },
          { admin: 'bob-support', reason },
          { admin: 'alice-oncall', reason },
        ],
      )
      await fails(t, transport, 'AdminSignOut', 'NOT_FOUND', { login: uniqueLogin('nobody'), reason }, alice)
    })

    test('AdminGetSigninHistory answers exactly what the user sees', async () => {
      const { login, password, session } = await t.signUpAndIn()
      await fails(t, transport, 'SignIn', 'INVALID_CREDENTIALS', { login, password: `${password}x` })
      await ok(t, transport, 'AdminRequire2FA', { login, required: true, reason: 'audit' }, alice)
      for (const limit of [2, 20]) {
        const own = await ok(t, transport, 'GetSigninHistory', { limit }, { bearer: session })
        const seen = await ok(t, transport, 'AdminGetSigninHistory', { login: login.toUpperCase(), limit }, bob)
        assert.deepEqual(seen, own)
      }
      const all = list((await ok(t, transport, 'AdminGetSigninHistory', { login }, bob))['events'])
      assert.deepEqual(
        all.map((e) => e['type']),
        ['admin.2fa.required', 'signin.failure', 'signin.success', 'signup'],
      )
      await fails(t, transport, 'AdminGetSigninHistory', 'INVALID_PARAMS', { login, limit: 101 }, bob)
      await fails(t, transport, 'AdminGetSigninHistory', 'NOT_FOUND', { login: uniqueLogin('nobody') }, bob)
    })

    test('every change takes a reason of 1–500 characters', async () => {
      const { login } = await t.signUpAndIn()
      const changes: Array<[string, Record<string, unknown>]> = [
        ['AdminDisable2FA', { login }],
        ['AdminRequire2FA', { login, required: true }],
        ['AdminLockAccount', { login }],
        ['AdminUnlockAccount', { login }],
        ['AdminSignOut', { login }],
      ]
      for (const [method, params] of changes) {
        await fails(t, transport, method, 'INVALID_PARAMS', params, alice)
        await fails(t, transport, method, 'INVALID_PARAMS', { ...params, reason: '' }, alice)
        await fails(t, transport, method, 'INVALID_PARAMS', { ...params, reason: 'x'.repeat(501) }, alice)
      }
      const longest = 'r'.repeat(500)
      await ok(t, transport, 'AdminUnlockAccount', { login, reason: longest }, alice)
      const events = list((await ok(t, transport, 'AdminGetSigninHistory', { login, limit: 1 }, alice))['events'])
      assert.deepEqual(events[0]?.['detail'], { admin: 'alice-oncall', reason: longest })
    })
  })
}
