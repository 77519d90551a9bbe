/**
 * Threat: an operator requires 2FA and accounts keep working without it. Before the deadline
 * nothing changes but the reported deadline; past it every credential of an account without 2FA
 * is restricted, whenever it was made (a session may only see the requirement and enrol, a PAT
 * may only describe itself); turning 2FA on lifts it at once; Disable2FA is refused meanwhile.
 * Time is controlled through the deadline (graceDays 0 is "past it") and, for a deadline that
 * passes under live credentials, by the app's injectable clock.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Invoker } from '../../src/rpc/invoke.js'
import { methodTable } from '../../src/rpc/methods.js'
import { startTestApp, startTwoInstances, type TestApp } from '../support/app.js'
import { fails, isoMs, ok, transports, type Transport } from '../support/calls.js'
import { createToken, keyOf, operators } from '../support/operators.js'
import { probeMethod } from '../support/probe-method.js'
import { codeAt, enrolledAccount } from '../support/two-factor.js'

const ops = operators('policy')
const operator = { bearer: keyOf(ops, 'policy') }
const platformMethod = 'billing.payment.makePayment'
const openDuringSetup = ['GetSession', 'Get2FAStatus', 'Get2FAConfig', 'Enable2FA', 'SignOut']

let t: TestApp
before(async () => {
  t = await startTestApp({ ...ops.env, TOKEN_CACHE_SECONDS: '300' })
})
after(() => t.close())

const require2FA = (app: TestApp, login: string, graceDays: number, transport: Transport = 'api') =>
  ok(app, transport, 'AdminRequire2FA', { login, required: true, graceDays, reason: 'policy' }, operator)

/** The platform method behind the real pipeline, as a PAT would call it. */
function probeVia(app: TestApp) {
  const probe = probeMethod(platformMethod)
  const invoker = new Invoker([...methodTable, probe], app.services)
  return (bearer: string) =>
    invoker.invoke({
      method: probe.name,
      params: {},
      bearer,
      origin: { ip: '127.0.0.1', userAgent: null },
      log: app.services.log,
    })
}

for (const transport of transports) {
  describe(`required 2FA over ${transport}`, () => {
    test('before the deadline: everything works and the deadline is reported', async () => {
      const { login, password, session } = await t.signUpAndIn()
      const pat = await createToken(t, session, password)
      const set = await require2FA(t, login, 7, transport)
      const requiredBy = isoMs(set['twoFactorRequiredBy'])

      const signedIn = await ok(t, transport, 'SignIn', { login, password })
      assert.deepEqual(Object.keys(signedIn).sort(), ['expiresAt', 'session', 'twoFactorSetupRequiredBy'])
      assert.equal(isoMs(signedIn['twoFactorSetupRequiredBy']), requiredBy)
      for (const bearer of [session, String(signedIn['session'])]) {
        await ok(t, transport, 'GetSessions', {}, { bearer })
        const described = await ok(t, transport, 'GetSession', { apiMethod: 'GetTokens' }, { bearer })
        assert.equal(isoMs(described['twoFactorSetupRequiredBy']), requiredBy)
        assert.equal(described['twoFactorSetupRequired'], undefined)
        assert.equal(described['allowed'], true)
        const status = await ok(t, transport, 'Get2FAStatus', {}, { bearer })
        assert.deepEqual([status['required'], isoMs(status['requiredBy'])], [true, requiredBy])
      }
      const viaPat = await ok(t, transport, 'GetSession', { apiMethod: platformMethod }, { bearer: pat.token })
      assert.equal(viaPat['allowed'], true)
      assert.equal(isoMs(viaPat['twoFactorSetupRequiredBy']), requiredBy)
      assert.ok((await probeVia(t)(pat.token)).ok)
    })

    test('past the deadline: sessions old and new may only enrol, PATs only describe themselves', async () => {
      const { login, password, session: old } = await t.signUpAndIn()
      const pat = await createToken(t, old, password)
      await ok(t, transport, 'GetSession', {}, { bearer: pat.token }) // cached before the requirement
      await require2FA(t, login, 0, transport)

      const signedIn = await ok(t, transport, 'SignIn', { login, password })
      assert.deepEqual(Object.keys(signedIn).sort(), ['expiresAt', 'session', 'twoFactorSetupRequired'])
      assert.equal(signedIn['twoFactorSetupRequired'], true)
      const fresh = String(signedIn['session'])

      for (const bearer of [old, fresh]) {
        for (const method of ['GetSessions', 'GetTokens', 'GetSigninHistory', 'GetTokenApiList', 'SignOutSessions']) {
          const refused = await fails(
            t,
            transport,
            method,
            'FORBIDDEN',
            method === 'SignOutSessions' ? { ids: '*' } : {},
            { bearer },
          )
          assert.equal(refused.data['twoFactorSetupRequired'], true, method)
        }
        const refusedStar = await fails(
          t,
          transport,
          'CreateToken',
          'FORBIDDEN',
          { password, description: 'x' },
          { bearer },
        )
        assert.equal(refusedStar.data['twoFactorSetupRequired'], true)
        const described = await ok(t, transport, 'GetSession', {}, { bearer })
        assert.equal(described['twoFactorSetupRequired'], true)
        assert.equal(typeof described['twoFactorSetupRequiredBy'], 'string')
        for (const apiMethod of openDuringSetup)
          assert.equal((await ok(t, transport, 'GetSession', { apiMethod }, { bearer }))['allowed'], true, apiMethod)
        for (const apiMethod of ['GetSessions', 'Disable2FA', platformMethod])
          assert.equal((await ok(t, transport, 'GetSession', { apiMethod }, { bearer }))['allowed'], false, apiMethod)
        assert.equal((await ok(t, transport, 'Get2FAStatus', {}, { bearer }))['required'], true)
      }
      // Enrolment starts (and SignOut works) while restricted.
      await ok(t, transport, 'Get2FAConfig', { password }, { bearer: old })
      assert.deepEqual(await ok(t, transport, 'SignOut', {}, { bearer: fresh }), {})
      await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: fresh })

      const viaPat = await ok(t, transport, 'GetSession', {}, { bearer: pat.token })
      assert.equal(viaPat['twoFactorSetupRequired'], true)
      for (const apiMethod of [platformMethod, 'GetSessions', 'Get2FAStatus'])
        assert.equal((await ok(t, transport, 'GetSession', { apiMethod }, { bearer: pat.token }))['allowed'], false)
      assert.equal(
        (await ok(t, transport, 'GetSession', { apiMethod: 'GetSession' }, { bearer: pat.token }))['allowed'],
        true,
      )
      const probed = await probeVia(t)(pat.token)
      assert.ok(!probed.ok && probed.error.reason === 'FORBIDDEN')
      assert.equal(probed.error.data['twoFactorSetupRequired'], true)
    })

    test('Enable2FA lifts the restriction at once, for the session and the cached PAT', async () => {
      const { login, password, session } = await t.signUpAndIn()
      const pat = await createToken(t, session, password, { apiList: [platformMethod] })
      await require2FA(t, login, 0, transport)
      const probe = probeVia(t)
      assert.ok(!(await probe(pat.token)).ok)
      await fails(t, transport, 'GetSessions', 'FORBIDDEN', {}, { bearer: session })

      const config = await ok(t, transport, 'Get2FAConfig', { password }, { bearer: session })
      await ok(t, transport, 'Enable2FA', { code: await codeAt(String(config['secret']), 0) }, { bearer: session })
      await ok(t, transport, 'GetSessions', {}, { bearer: session })
      const described = await ok(t, transport, 'GetSession', {}, { bearer: session })
      assert.equal(described['twoFactorSetupRequired'], undefined)
      assert.equal(described['twoFactorSetupRequiredBy'], undefined)
      assert.ok((await probe(pat.token)).ok)
      const viaPat = await ok(t, transport, 'GetSession', { apiMethod: platformMethod }, { bearer: pat.token })
      assert.deepEqual([viaPat['twoFactorSetupRequired'], viaPat['allowed']], [undefined, true])
      // Still required: the status says so, and the factor cannot be turned off.
      const status = await ok(t, transport, 'Get2FAStatus', {}, { bearer: session })
      assert.deepEqual([status['enabled'], status['required']], [true, true])
      await fails(t, transport, 'Disable2FA', 'FORBIDDEN', { password }, { bearer: session })
    })

    test('Disable2FA is FORBIDDEN while required, before the deadline too; allowed once lifted', async () => {
      const user = await enrolledAccount(t, transport)
      await require2FA(t, user.login, 30, transport)
      const refused = await fails(
        t,
        transport,
        'Disable2FA',
        'FORBIDDEN',
        { password: user.password },
        { bearer: user.session },
      )
      assert.match(refused.message, /operator requires/)
      assert.equal((await ok(t, transport, 'Get2FAStatus', {}, { bearer: user.session }))['enabled'], true)
      // An account with 2FA on is never restricted, whatever the deadline.
      await require2FA(t, user.login, 0, transport)
      await ok(t, transport, 'GetSessions', {}, { bearer: user.session })
      await fails(t, transport, 'Disable2FA', 'FORBIDDEN', { password: user.password }, { bearer: user.session })

      await ok(t, transport, 'AdminRequire2FA', { login: user.login, required: false, reason: 'exempt' }, operator)
      assert.deepEqual(await ok(t, transport, 'Disable2FA', { password: user.password }, { bearer: user.session }), {})
    })

    test('lifting the requirement frees the restricted credentials at once', async () => {
      const { login, password, session } = await t.signUpAndIn()
      const pat = await createToken(t, session, password)
      await require2FA(t, login, 0, transport)
      await fails(t, transport, 'GetSessions', 'FORBIDDEN', {}, { bearer: session })
      assert.ok(!(await probeVia(t)(pat.token)).ok)
      await ok(t, transport, 'AdminRequire2FA', { login, required: false, reason: 'lifted' }, operator)
      await ok(t, transport, 'GetSessions', {}, { bearer: session })
      assert.ok((await probeVia(t)(pat.token)).ok)
    })
  })
}

test('a deadline passing under live credentials needs no refresh: it is judged at call time', async () => {
  // Its own app: the test moves this app's clock a day ahead. Sessions idle long enough to survive that.
  const app = await startTestApp({ ...ops.env, SESSION_IDLE_SECONDS: '604800', TOKEN_CACHE_SECONDS: '300' })
  try {
    const { login, password, session } = await app.signUpAndIn()
    const pat = await createToken(app, session, password)
    await ok(app, 'api', 'GetSession', {}, { bearer: pat.token })
    await require2FA(app, login, 1)
    await ok(app, 'api', 'GetSessions', {}, { bearer: session })
    assert.ok((await probeVia(app)(pat.token)).ok)

    const day = 24 * 60 * 60 * 1000
    app.services.clock = { now: () => new Date(Date.now() + day + 60_000) }
    const refused = await fails(app, 'api', 'GetSessions', 'FORBIDDEN', {}, { bearer: session })
    assert.equal(refused.data['twoFactorSetupRequired'], true)
    assert.equal((await ok(app, 'api', 'GetSession', {}, { bearer: pat.token }))['twoFactorSetupRequired'], true)
    assert.ok(!(await probeVia(app)(pat.token)).ok)
    const signedIn = await ok(app, 'api', 'SignIn', { login, password })
    assert.equal(signedIn['twoFactorSetupRequired'], true)
  } finally {
    await app.close()
  }
})

test('the requirement reaches the other instance at once (cached PAT, live session)', async () => {
  const pair = await startTwoInstances({ ...ops.env, TOKEN_CACHE_SECONDS: '300' })
  try {
    const { login, password, session } = await pair.a.signUpAndIn()
    const pat = await createToken(pair.a, session, password)
    for (let i = 0; i < 2; i++) await ok(pair.b, 'api', 'GetSession', {}, { bearer: pat.token })
    await ok(pair.b, 'api', 'GetSessions', {}, { bearer: session })

    await require2FA(pair.a, login, 0)
    assert.equal((await ok(pair.b, 'api', 'GetSession', {}, { bearer: pat.token }))['twoFactorSetupRequired'], true)
    assert.ok(!(await probeVia(pair.b)(pat.token)).ok)
    await fails(pair.b, 'api', 'GetSessions', 'FORBIDDEN', {}, { bearer: session })

    await ok(pair.a, 'api', 'AdminRequire2FA', { login, required: false, reason: 'lifted' }, operator)
    assert.ok((await probeVia(pair.b)(pat.token)).ok)
    await ok(pair.b, 'api', 'GetSessions', {}, { bearer: session })
  } finally {
    await pair.close()
  }
})
