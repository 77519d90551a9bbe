/**
 * Threat: a store failing in the middle of a call leaves a change half-done: a recovery code
 * spent without the session it paid for, 2FA switched on with codes the user never received, a
 * `signin.success` on record for a sign-in that did not happen, a token nobody was shown. Redis
 * is a private redis-server killed at the worst moment; Postgres is reached through a TCP proxy
 * paused at the worst moment. Either the change is complete and reported, or nothing happened
 * (or, for a commit whose answer is lost, what happened is visible: a token listed by GetTokens).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  startBehindPostgresProxy,
  startOnPrivateRedis,
  type CallResult,
  type PrivateRedisApp,
  type ProxiedPostgresApp,
  type TestApp,
} from '../support/app.js'
import type { TcpProxy } from '../support/tcp-proxy.js'
import type { PrivateRedis } from '../support/redis-server.js'
import { eventually, list, ok } from '../support/calls.js'
import { enrolledAccount, pendingToken, totpCode } from '../support/two-factor.js'

const reasonOf = (reply: CallResult) =>
  reply.body.error === undefined ? 'ok' : String(reply.body.error.data['reason'])

/** Replaces `object[name]` for one call: `around` runs the original in the middle of a fault. */
async function during<T extends object, K extends keyof T>(
  object: T,
  name: K,
  around: (original: () => Promise<unknown>) => Promise<unknown>,
  run: () => Promise<CallResult>,
): Promise<CallResult> {
  const original = object[name]
  if (typeof original !== 'function') throw new TypeError(`${String(name)} is not a method`)
  const patched = (...args: unknown[]) => around(() => Reflect.apply(original, object, args) as Promise<unknown>)
  object[name] = patched as T[K]
  try {
    return await run()
  } finally {
    object[name] = original
  }
}

/** A fresh session with the second factor (Redis lost every session when it died). */
async function signInWith2FA(t: TestApp, login: string, password: string, code: string): Promise<CallResult> {
  const twoFactorToken = await pendingToken(t, 'api', login, password)
  return t.api('Verify2FACode', { twoFactorToken, code })
}

describe('Redis killed in the middle of a call', () => {
  let onPrivate: PrivateRedisApp | undefined
  let redis: PrivateRedis
  let t: TestApp
  before(async () => {
    onPrivate = await startOnPrivateRedis()
    ;({ t, redis } = onPrivate)
  })
  after(() => onPrivate?.close())

  /** Restarts Redis and waits until the app uses it again. */
  async function revive(): Promise<void> {
    await redis.start()
    await eventually(async () => (await t.app.inject({ url: '/readyz' })).statusCode === 200, 8_000, 'Redis back')
  }

  test('Verify2FACode with a recovery code, Redis dies before the session is written: UNAVAILABLE and the code unspent', async () => {
    const account = await enrolledAccount(t)
    const code = account.recoveryCodes[0] ?? ''
    const twoFactorToken = await pendingToken(t, 'api', account.login, account.password)
    const reply = await during(
      t.services.stores.sessions,
      'create',
      async (create) => {
        await redis.kill()
        return create()
      },
      () => t.api('Verify2FACode', { twoFactorToken, code }),
    )
    await revive()
    assert.equal(reasonOf(reply), 'UNAVAILABLE')
    const again = await signInWith2FA(t, account.login, account.password, code)
    assert.equal(reasonOf(again), 'ok', 'the recovery code was spent by a call that answered UNAVAILABLE')
    assert.equal(again.body['recoveryCodesLeft'], 9)
  })

  test('Verify2FACode, Redis dies right after the code is spent: the done sign-in is answered, not an error', async () => {
    const account = await enrolledAccount(t)
    const code = account.recoveryCodes[1] ?? ''
    const twoFactorToken = await pendingToken(t, 'api', account.login, account.password)
    const reply = await during(
      t.services.stores.twoFactor,
      'useRecoveryCode',
      async (spend) => {
        const left = await spend()
        await redis.kill()
        return left
      },
      () => t.api('Verify2FACode', { twoFactorToken, code }),
    )
    await revive()
    assert.equal(reasonOf(reply), 'ok', JSON.stringify(reply.body))
    assert.equal(reply.body['recoveryCodesLeft'], 9)
  })

  test('Enable2FA, Redis dies right after 2FA is switched on: the codes are returned and work', async () => {
    const { login, password, session } = await t.signUpAndIn()
    const config = await ok(t, 'api', 'Get2FAConfig', { password }, { bearer: session })
    const secret = String(config['secret'])
    const reply = await during(
      t.services.stores.twoFactor,
      'enable',
      async (enable) => {
        await enable()
        await redis.kill()
      },
      () => t.api('Enable2FA', { code: totpCode(secret, Date.now() - 30_000) }, { bearer: session }),
    )
    await revive()
    assert.equal(reasonOf(reply), 'ok', '2FA switched on but answered as an error (codes never shown)')
    const codes = reply.body['recoveryCodes'] as string[]
    assert.equal(codes.length, 10)
    const signedIn = await signInWith2FA(t, login, password, codes[3] ?? '')
    assert.equal(reasonOf(signedIn), 'ok')
  })

  test('Enable2FA, Redis dies before the commit: nothing is switched on unseen', async () => {
    const { login, password, session } = await t.signUpAndIn()
    const config = await ok(t, 'api', 'Get2FAConfig', { password }, { bearer: session })
    const secret = String(config['secret'])
    const reply = await during(
      t.services.stores.enrolments,
      'reserve',
      async (reserve) => {
        await redis.kill()
        return reserve()
      },
      () => t.api('Enable2FA', { code: totpCode(secret, Date.now()) }, { bearer: session }),
    )
    await revive()
    assert.equal(reasonOf(reply), 'UNAVAILABLE')
    // 2FA still off: the password alone signs in.
    const signIn = await t.api('SignIn', { login, password })
    assert.equal(typeof signIn.body['session'], 'string', JSON.stringify(signIn.body))
  })

  test('SignIn, Redis dies before the session is written: no signin.success on record', async () => {
    const { login, password } = await t.signUp()
    const reply = await during(
      t.services.stores.sessions,
      'create',
      async (create) => {
        await redis.kill()
        return create()
      },
      () => t.api('SignIn', { login, password }),
    )
    await revive()
    assert.equal(reasonOf(reply), 'UNAVAILABLE')
    const session = await t.signIn(login, password)
    const events = list((await ok(t, 'api', 'GetSigninHistory', {}, { bearer: session }))['events'])
    assert.equal(events.filter((e) => e['type'] === 'signin.success').length, 1, JSON.stringify(events))
  })

  for (const when of ['before', 'after'] as const) {
    test(`CreateToken, Redis dies ${when} the commit: the token exists exactly when it was shown`, async () => {
      const { login, password, session } = await t.signUpAndIn()
      const { stores } = t.services
      const killFirst = async (work: () => Promise<unknown>) => {
        await redis.kill()
        return work()
      }
      const killAfter = async (work: () => Promise<unknown>) => {
        const done = await work()
        await redis.kill()
        return done
      }
      const call = () => t.api('CreateToken', { password, description: `killed ${when}` }, { bearer: session })
      // Before: as the new digest's "unknown" mark is cleared, the Redis step ahead of the commit.
      const reply =
        when === 'before'
          ? await during(stores.tokenCache, 'clearUnknown', killFirst, call)
          : await during(stores.tokens, 'create', killAfter, call)
      await revive()
      const fresh = await t.signIn(login, password)
      const tokens = list((await ok(t, 'api', 'GetTokens', {}, { bearer: fresh }))['tokens'])
      if (reasonOf(reply) === 'ok') {
        assert.deepEqual(
          tokens.map((x) => x['id']),
          [reply.body['id']],
        )
        assert.equal(when, 'after')
      } else {
        assert.equal(reasonOf(reply), 'UNAVAILABLE')
        assert.deepEqual(tokens, [], 'a token was created that the reply did not show')
      }
    })
  }
})

describe('Postgres gone in the middle of a call', () => {
  let proxied: ProxiedPostgresApp | undefined
  let proxy: TcpProxy
  let t: TestApp
  before(async () => {
    proxied = await startBehindPostgresProxy()
    ;({ t, proxy } = proxied)
  })
  after(() => proxied?.close())

  async function resume(): Promise<void> {
    proxy.resume()
    await eventually(async () => (await t.app.inject({ url: '/readyz' })).statusCode === 200, 8_000, 'Postgres back')
  }

  test('Verify2FACode with a recovery code, Postgres gone as the code is spent: no session left, code unspent', async () => {
    const account = await enrolledAccount(t)
    const code = account.recoveryCodes[2] ?? ''
    const twoFactorToken = await pendingToken(t, 'api', account.login, account.password)
    const reply = await during(
      t.services.stores.twoFactor,
      'useRecoveryCode',
      async (spend) => {
        proxy.pause()
        return spend()
      },
      () => t.api('Verify2FACode', { twoFactorToken, code }),
    )
    await resume()
    assert.equal(reasonOf(reply), 'UNAVAILABLE')
    const sessions = list((await ok(t, 'api', 'GetSessions', {}, { bearer: account.session }))['sessions'])
    assert.equal(sessions.length, 1, 'a session was left behind that nobody received')
    const again = await t.api('Verify2FACode', { twoFactorToken, code })
    assert.equal(reasonOf(again), 'ok', 'the token or the code was lost with the failed call')
    assert.equal(again.body['recoveryCodesLeft'], 9)
  })

  test('CreateToken, Postgres gone as the token is written: UNAVAILABLE and no token unseen', async () => {
    const { session, password } = await t.signUpAndIn()
    const reply = await during(
      t.services.stores.tokens,
      'create',
      async (create) => {
        proxy.pause()
        return create()
      },
      () => t.api('CreateToken', { password, description: 'lost' }, { bearer: session }),
    )
    await resume()
    assert.equal(reasonOf(reply), 'UNAVAILABLE')
    const tokens = list((await ok(t, 'api', 'GetTokens', {}, { bearer: session }))['tokens'])
    assert.deepEqual(tokens, [])
  })
})
