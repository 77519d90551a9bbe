import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { probeMethod } from '../support/probe-method.js'
import { Invoker } from '../../src/rpc/invoke.js'
import { methodTable } from '../../src/rpc/methods.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { fails, type Json, ok } from '../support/calls.js'

/**
 * Threat: a leaked or narrowly granted personal access token is used to do more than it was
 * granted: reach session-only or ★ methods (mint tokens, change the password), or call methods
 * outside its apiList. GetSession must still describe it, and `allowed` must tell the truth.
 */

let app: TestApp
before(async () => {
  app = await startTestApp()
})
after(async () => {
  await app?.close()
})

const account = () => app.signUpAndIn()

const result = (method: string, params: Json, bearer: string) => ok(app, 'api', method, params, { bearer })

async function createToken(
  session: string,
  password: string,
  extra: Json = {},
): Promise<{ id: string; token: string }> {
  const body = await result('CreateToken', { password, description: 'probe', ...extra }, session)
  return { id: String(body['id']), token: String(body['token']) }
}

describe('a PAT on session-only and ★ methods', () => {
  /** Valid params for every session-only method, so only the credential kind can refuse them. */
  const paramsFor = (password: string, tokenId: string): Record<string, Json> => ({
    SignOut: {},
    GetSessions: {},
    SignOutSessions: { ids: '*' },
    ChangePassword: { password, newPassword: 'an0ther-Secret-pass' },
    GetSigninHistory: {},
    Get2FAStatus: {},
    Get2FAConfig: { password },
    Enable2FA: { code: '123456' },
    GetRecoveryCodes: { password },
    RegenerateRecoveryCodes: { password },
    Disable2FA: { password },
    CreateToken: { password, description: 'minted by a token' },
    GetTokens: {},
    EditToken: { id: tokenId, password, apiList: null, expiresAt: null, description: 'widened' },
    RegenerateToken: { id: tokenId, password },
    DeleteTokens: { ids: '*', password },
    GetTokenApiList: {},
  })

  test('every session-only method is covered here', () => {
    const sessionOnly = methodTable
      .filter((m) => m.auth === 'session')
      .map((m) => m.name)
      .sort()
    assert.deepEqual(sessionOnly, Object.keys(paramsFor('x', 'y')).sort())
  })

  for (const transport of ['rpc', 'api'] as const) {
    test(`over ${transport}: FORBIDDEN, and nothing happens`, async () => {
      const { login, password, session } = await account()
      const { id, token } = await createToken(session, password, {
        apiList: ['environment.*'],
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      })
      for (const [method, params] of Object.entries(paramsFor(password, id))) {
        const refused = await fails(app, transport, method, 'FORBIDDEN', params, { bearer: token })
        assert.equal(refused.status, transport === 'rpc' ? 200 : 403)
        // The header-less channel is no way around it either.
        await fails(app, 'api', method, 'FORBIDDEN', { ...params, session: token })
      }

      // The token is as it was: same grant, same secret, no sibling minted.
      const tokens = await result('GetTokens', {}, session)
      assert.deepEqual(
        (tokens['tokens'] as Json[]).map((t) => [t['id'], t['description'], t['apiList'], t['hint']]),
        [[id, 'probe', ['environment.*'], token.slice(-4)]],
      )
      assert.equal((await result('GetSession', {}, token))['authType'], 'token')
      // Neither the password nor the sessions changed.
      await result('GetSession', {}, session)
      assert.equal(typeof (await app.signIn(login, password)), 'string')
    })
  }
})

describe('GetSession with a PAT', () => {
  const allowed = async (token: string, apiMethod: string) =>
    (await ok(app, 'rpc', 'GetSession', { apiMethod }, { bearer: token }))['allowed']

  test('works whatever the apiList, even an empty one', async () => {
    const { password, session, accountId, login } = await account()
    for (const apiList of [[], ['billing.account.getBalance'], ['environment.*'], undefined]) {
      const { token } = await createToken(session, password, apiList === undefined ? {} : { apiList })
      for (const transport of ['rpc', 'api'] as const) {
        const body = await ok(app, transport, 'GetSession', {}, { bearer: token })
        assert.equal(body['authType'], 'token')
        assert.equal(body['accountId'], accountId)
        assert.equal(body['login'], login.toLowerCase())
        assert.deepEqual(body['apiList'], apiList ?? null)
        assert.equal(body['allowed'], undefined)
      }
    }
    const { token } = await createToken(session, password, { apiList: [] })
    assert.equal(await allowed(token, 'environment.control.start'), false)
    assert.equal(await allowed(token, 'environment.info.getList'), false)
  })

  test('`allowed` for exact names, wildcards and methods outside the list', async () => {
    const { password, session } = await account()
    const { token } = await createToken(session, password, { apiList: ['environment.*', 'billing.account.getBalance'] })
    const expectations: Array<[string, boolean]> = [
      ['environment.control.start', true],
      ['environment.file.read', true],
      ['environment.deploy.deploy', true],
      ['billing.account.getBalance', true],
      ['billing.account.getInvoices', false],
      ['billing.payment.makePayment', false],
      ['marketplace.app.install', false],
      ['environment', false],
      ['environment.nosuch.method', false],
      ['Environment.control.start', false],
    ]
    for (const [method, expected] of expectations) assert.equal(await allowed(token, method), expected, method)

    const narrow = await createToken(session, password, { apiList: ['environment.control.*'] })
    assert.equal(await allowed(narrow.token, 'environment.control.stop'), true)
    assert.equal(await allowed(narrow.token, 'environment.file.read'), false)
  })

  test('session-only and ★ methods are never allowed, even with every method granted', async () => {
    const { password, session } = await account()
    const { token } = await createToken(session, password)
    assert.equal(await allowed(token, 'environment.control.start'), true)
    for (const m of methodTable.filter((m) => m.auth !== 'any'))
      assert.equal(await allowed(token, m.name), false, m.name)
    assert.equal(await allowed(token, 'no.such.method'), false)
  })
})

describe('the pipeline enforces apiList on token-callable methods', () => {
  // The service's only own token-callable method is GetSession, which ignores apiList by
  // contract; a probe method stands in for a platform method behind the same pipeline.
  let runs = 0
  const probe = probeMethod('environment.info.getList', () => runs++)
  const invokeProbe = async (token: string) => {
    const invoker = new Invoker([...methodTable, probe], app.services)
    const before = runs
    const outcome = await invoker.invoke({
      method: probe.name,
      params: {},
      bearer: token,
      origin: { ip: '127.0.0.1', userAgent: null },
      log: app.services.log,
    })
    return { outcome, ran: runs > before }
  }

  test('outside the apiList: FORBIDDEN and the handler never runs', async () => {
    const { password, session } = await account()
    for (const apiList of [[], ['billing.*'], ['environment.info.getInfo'], ['environment.control.*']]) {
      const { token } = await createToken(session, password, { apiList })
      const { outcome, ran } = await invokeProbe(token)
      assert.ok(!outcome.ok)
      assert.equal(outcome.error.reason, 'FORBIDDEN', JSON.stringify(apiList))
      assert.equal(ran, false)
    }
  })

  test('inside the apiList (exact, wildcard, or no apiList): allowed', async () => {
    const { password, session } = await account()
    for (const extra of [
      { apiList: ['environment.info.getList'] },
      { apiList: ['environment.*'] },
      { apiList: ['environment.info.*'] },
      {},
    ]) {
      const { token } = await createToken(session, password, extra)
      const { outcome, ran } = await invokeProbe(token)
      assert.ok(outcome.ok, JSON.stringify(extra))
      assert.equal(ran, true)
    }
  })
})
