/**
 * Threat: secrets in a log archive. After a whole account and session flow at the most talkative
 * level, including error paths that log, no password and no credential may appear in the log, nor
 * anything shaped like one (`lks_`, `lkp_`, `lk2_`). Redaction is by path in pino, so the paths are
 * exercised directly too.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { StoreUnavailableError } from '../../src/errors.js'
import { startTestApp, strongPassword, uniqueLogin, type TestApp } from '../support/app.js'
import { fails, ok, transports } from '../support/calls.js'

const credentialShapes = ['lks_', 'lkp_', 'lk2_']

for (const level of ['debug', 'trace'] as const) {
  describe(`after a full flow at LOG_LEVEL=${level}`, () => {
    let t: TestApp
    const secrets: string[] = []
    let log = ''

    before(async () => {
      t = await startTestApp({ LOG_LEVEL: level })
      const login = uniqueLogin('logs')
      const password = strongPassword()
      const newPassword = strongPassword()
      const wrong = `Wr0ng-guess-${strongPassword()}`
      secrets.push(password, newPassword, wrong)

      for (const transport of transports) {
        const account = transport === 'rpc' ? login : `${login}.api`
        await ok(t, transport, 'SignUp', { login: account, password })
        const session = String((await ok(t, transport, 'SignIn', { login: account, password }))['session'])
        const other = String((await ok(t, transport, 'SignIn', { login: account, password }))['session'])
        secrets.push(session, other)
        await ok(t, transport, 'GetSession', {}, { bearer: session })
        await ok(t, transport, 'GetSession', { session, apiMethod: 'GetSessions' })
        await ok(t, transport, 'GetSessions', {}, { bearer: session })
        const created = await ok(
          t,
          transport,
          'CreateToken',
          { password, description: 'log scan' },
          { bearer: session },
        )
        const token = String(created['token'])
        secrets.push(token)
        await ok(t, transport, 'GetSession', {}, { bearer: token })
        await fails(
          t,
          transport,
          'ChangePassword',
          'INVALID_CREDENTIALS',
          { password: wrong, newPassword },
          { bearer: session },
        )
        await ok(t, transport, 'ChangePassword', { password, newPassword }, { bearer: session })
        await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: other })
        await fails(t, transport, 'SignIn', 'INVALID_CREDENTIALS', { login: account, password: wrong })
        await fails(t, transport, 'SignIn', 'INVALID_CREDENTIALS', { login: uniqueLogin('ghost'), password: wrong })
        await fails(t, transport, 'SignUp', 'INVALID_PARAMS', { login: uniqueLogin('weak'), password: 'password1' })
        await ok(t, transport, 'GetSigninHistory', {}, { bearer: session })
        await ok(t, transport, 'SignOut', {}, { bearer: session })
        await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
      }

      // Forced error paths, each carrying secrets in the call that fails.
      const { accounts, sessions } = t.services.stores
      const findByLogin = accounts.findByLogin
      accounts.findByLogin = async () => {
        throw new Error('forced failure in findByLogin')
      }
      try {
        for (const transport of transports) {
          await fails(
            t,
            transport,
            'SignIn',
            'INTERNAL',
            { login, password: newPassword },
            { headers: { authorization: `Bearer ${secrets[3] ?? ''}` } },
          )
        }
      } finally {
        accounts.findByLogin = findByLogin
      }
      const authenticate = sessions.authenticate
      sessions.authenticate = async () => {
        throw new StoreUnavailableError('redis', { cause: new Error('forced outage') })
      }
      try {
        for (const transport of transports)
          await fails(t, transport, 'GetSession', 'UNAVAILABLE', {}, { bearer: secrets[3] ?? '' })
      } finally {
        sessions.authenticate = authenticate
      }
      // Broken bodies that hold secrets: the transports must answer without echoing or logging them.
      for (const url of ['/rpc', '/api/SignIn']) {
        const reply = await t.app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets[4] ?? ''}` },
          payload: `{"login": "${login}", "password": "${newPassword}"`,
        })
        assert.equal(reply.statusCode === 200 || reply.statusCode === 400, true)
        assert.ok(!reply.body.includes(newPassword))
      }
      log = t.logLines.join('')
    })
    after(async () => {
      await t?.close()
    })

    test('the error paths were logged (the scan below sees them)', () => {
      assert.match(log, /forced failure in findByLogin/)
      assert.match(log, /backing store unavailable/)
    })

    test('no password appears in the log', () => {
      for (const secret of secrets.slice(0, 3)) assert.ok(!log.includes(secret), 'a password is in the log')
    })

    test('no session credential or token appears in the log, nor any credential-shaped string', () => {
      assert.ok(secrets.length >= 7)
      for (const secret of secrets.slice(3)) {
        assert.ok(!log.includes(secret), `a ${secret.slice(0, 4)} credential is in the log`)
        assert.ok(!log.includes(secret.slice(4)), `the body of a ${secret.slice(0, 4)} credential is in the log`)
      }
      for (const shape of credentialShapes) assert.ok(!log.includes(shape), `"${shape}" occurs in the log`)
    })
  })
}

describe('redaction paths', () => {
  let t: TestApp
  before(async () => {
    t = await startTestApp({ LOG_LEVEL: 'trace' })
  })
  after(async () => {
    await t?.close()
  })

  const session = `lks_${'S'.repeat(32)}`
  const token = `lkp_${'T'.repeat(38)}`
  const pending = `lk2_${'P'.repeat(32)}`
  const password = 'Hunter2-is-my-password'

  /** Logs `object` and returns the line it produced, parsed. */
  function logged(object: Record<string, unknown>, message: string): Record<string, unknown> {
    const before = t.logLines.length
    t.services.log.info(object, message)
    const lines = t.logLines.slice(before).join('').trim().split('\n')
    assert.equal(lines.length, 1)
    const parsed: unknown = JSON.parse(lines[0] ?? '')
    assert.ok(typeof parsed === 'object' && parsed !== null)
    const line = lines[0] ?? ''
    for (const secret of [session, token, pending, password])
      assert.ok(!line.includes(secret), `${message}: a secret got through: ${line}`)
    return parsed as Record<string, unknown>
  }

  test('a request object: the authorization and cookie headers, params and body are censored, the rest kept', () => {
    const line = logged(
      {
        req: {
          method: 'POST',
          url: '/api/SignIn',
          headers: { authorization: `Bearer ${session}`, cookie: `sid=${session}`, 'user-agent': 'curl/8.0' },
        },
        params: { login: 'alice', password, session },
        body: JSON.stringify({ login: 'alice', password }),
      },
      'fake request',
    )
    const req = line['req'] as { headers: Record<string, unknown>; url: unknown }
    assert.equal(req.headers['authorization'], '[redacted]')
    assert.equal(req.headers['cookie'], '[redacted]')
    assert.equal(req.headers['user-agent'], 'curl/8.0')
    assert.equal(req.url, '/api/SignIn')
    assert.equal(line['params'], '[redacted]')
    assert.equal(line['body'], '[redacted]')
    assert.equal(line['msg'], 'fake request')
  })

  test('bare headers and secret-named fields one level down are censored', () => {
    const line = logged(
      {
        headers: { authorization: `Bearer ${token}` },
        call: {
          password,
          newPassword: password,
          session,
          token,
          twoFactorToken: pending,
          code: '123456',
          secret: 'JBSWY3DPEHPK3PXP',
          login: 'alice',
        },
      },
      'fake call',
    )
    assert.deepEqual(line['headers'], { authorization: '[redacted]' })
    const call = line['call'] as Record<string, unknown>
    for (const field of ['password', 'newPassword', 'session', 'token', 'twoFactorToken', 'code', 'secret'])
      assert.equal(call[field], '[redacted]', field)
    assert.equal(call['login'], 'alice')
  })

  test('a child logger (as per request) censors the same paths', () => {
    const before = t.logLines.length
    t.services.log
      .child({ reqId: 'req-1' })
      .warn({ req: { headers: { authorization: `Bearer ${session}` } }, params: { password } }, 'child')
    const line = t.logLines.slice(before).join('')
    assert.match(line, /"reqId":"req-1"/)
    assert.ok(!line.includes(session) && !line.includes(password), line)
  })

  test('secret-named fields at the top level of a log object are censored too', () => {
    const line = logged(
      { password, session, token, twoFactorToken: pending, authorization: `Bearer ${session}` },
      'top-level secrets',
    )
    for (const field of ['password', 'session', 'token', 'twoFactorToken', 'authorization'])
      assert.equal(line[field], '[redacted]', field)
  })
})
