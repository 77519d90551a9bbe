// POST /api/{Method}: reasons map to HTTP statuses, and both transports give the same answers.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { reasons, type Reason } from '../../src/errors.js'
import { startTestApp, type TestApp } from '../support/app.js'

let t: TestApp
let session: string
let login: string
let password: string

before(async () => {
  t = await startTestApp({ SIGNIN_MAX_PER_LOGIN_IP: '3' })
  ;({ login, password } = await t.signUp())
  session = await t.signIn(login, password)
})
after(() => t.close())

function assertApiError(
  reply: { status: number; body: { error?: { code: number; data: Record<string, unknown> } } },
  reason: Reason,
) {
  assert.equal(reply.body.error?.data['reason'], reason, JSON.stringify(reply.body))
  assert.equal(reply.status, reasons[reason].httpStatus)
  assert.equal(reply.body.error?.code, reasons[reason].rpcCode)
}

describe('each reason has its HTTP status', () => {
  test('PARSE_ERROR 400', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/SignIn',
      headers: { 'content-type': 'application/json' },
      payload: '{nope',
    })
    assert.equal(r.statusCode, 400)
    assert.equal((JSON.parse(r.body) as { error: { data: { reason: string } } }).error.data.reason, 'PARSE_ERROR')
  })
  test('METHOD_NOT_FOUND 404', async () => assertApiError(await t.api('NoSuchMethod', {}), 'METHOD_NOT_FOUND'))
  test('INVALID_PARAMS 400, naming the field', async () => {
    const r = await t.api('SignIn', { login: 'a' })
    assertApiError(r, 'INVALID_PARAMS')
    assert.ok(Array.isArray(r.body.error?.data['errors']))
  })
  test('INVALID_PARAMS for a body that is not an object', async () =>
    assertApiError(await t.api('SignIn', [1, 2]), 'INVALID_PARAMS'))
  test('INVALID_CREDENTIALS 401', async () =>
    assertApiError(await t.api('SignIn', { login, password: 'wrong-password' }), 'INVALID_CREDENTIALS'))
  test('UNAUTHENTICATED 401', async () => assertApiError(await t.api('GetSession', {}), 'UNAUTHENTICATED'))
  test('UNAUTHENTICATED for a malformed credential', async () =>
    assertApiError(await t.api('GetSession', {}, { bearer: 'lks_nonsense' }), 'UNAUTHENTICATED'))
  test('NOT_FOUND 404', async () =>
    assertApiError(
      await t.api('SignOutSessions', { ids: ['00000000-0000-4000-8000-000000000000'] }, { bearer: session }),
      'NOT_FOUND',
    ))
  test('CONFLICT 409', async () =>
    assertApiError(await t.api('SignUp', { login: login.toUpperCase(), password: 'An0ther-passw0rd!' }), 'CONFLICT'))
  test('FORBIDDEN 403 when sign-up is closed', async () => {
    const closed = await startTestApp({ SIGNUP_ENABLED: 'false' }, { share: t })
    try {
      assertApiError(
        await closed.api('SignUp', { login: 'someone@example.com', password: 'An0ther-passw0rd!' }),
        'FORBIDDEN',
      )
    } finally {
      await closed.close()
    }
  })
  test('RATE_LIMITED 429 with Retry-After', async () => {
    const victim = await t.signUp()
    for (let i = 0; i < 3; i++) await t.api('SignIn', { login: victim.login, password: 'wrong-password' })
    const r = await t.api('SignIn', { login: victim.login, password: victim.password })
    assertApiError(r, 'RATE_LIMITED')
    const retryAfter = r.body.error?.data['retryAfter']
    assert.equal(typeof retryAfter, 'number')
    assert.equal(r.headers['retry-after'], String(retryAfter))
  })
})

describe('transport details', () => {
  test('an empty body means {}', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/GetSession',
      headers: { authorization: `Bearer ${session}` },
    })
    assert.equal(r.statusCode, 200)
    assert.equal((JSON.parse(r.body) as { authType: string }).authType, 'session')
  })
  test('a JSON null body is INVALID_PARAMS, not {}', async () => {
    for (const method of ['GetSession', 'GetTokenApiList']) {
      const r = await t.app.inject({
        method: 'POST',
        url: `/api/${method}`,
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        payload: 'null',
      })
      assert.equal(r.statusCode, 400, method)
      assert.equal((JSON.parse(r.body) as { error: { data: { reason: string } } }).error.data.reason, 'INVALID_PARAMS')
    }
  })
  test('every response carries Cache-Control: no-store', async () => {
    for (const r of [
      await t.api('GetSession', {}, { bearer: session }),
      await t.api('GetSession', {}),
      await t.api('Nope', {}),
    ]) {
      assert.equal(r.headers['cache-control'], 'no-store')
    }
    const health = await t.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(health.headers['cache-control'], 'no-store')
  })
  test('a body over the limit gets HTTP 413', async () => {
    const r = await t.api('SignIn', { login: 'x'.repeat(70_000), password: 'y' })
    assert.equal(r.status, 413)
  })
  test('error messages never echo the password', async () => {
    const secret = 'Sup3r-secret-guess'
    const r = await t.api('SignIn', { login, password: secret })
    assert.ok(!JSON.stringify(r.body).includes(secret))
  })
  test('healthz and readyz answer 200 with both backends up', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(ready.statusCode, 200)
    assert.deepEqual(JSON.parse(ready.body), { status: 'ready', postgres: true, redis: true })
  })
})

describe('the same call gives the same answer on both transports', () => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['GetSession', {}, true],
    ['GetSession', { apiMethod: 'environment.control.start' }, true],
    ['Get2FAStatus', {}, true],
    ['GetSession', {}, false],
    ['SignIn', { login: 'nobody-here@example.com', password: 'whatever-it-is' }, false],
    ['SignIn', { login: 'x' }, false],
    ['GetTokens', { unknown: 1 }, true],
  ]
  for (const [method, params, withSession] of cases) {
    test(`${method} ${JSON.stringify(params)}${withSession ? ' with a session' : ''}`, async () => {
      const options = withSession ? { bearer: session } : {}
      const viaApi = await t.api(method, params, options)
      const viaRpc = await t.rpc(method, params, options)
      assert.equal(viaRpc.status, 200)
      if (viaApi.status === 200) {
        assert.deepEqual(viaRpc.body.result, viaApi.body)
      } else {
        assert.deepEqual(viaRpc.body.error, viaApi.body.error)
      }
    })
  }
})
