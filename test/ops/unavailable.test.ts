/**
 * Postgres or Redis unreachable → UNAVAILABLE (HTTP 503 on /api, -32050 on /rpc), /readyz 503,
 * nothing half-written, and the service recovers by itself when the backend returns. Redis is a
 * private redis-server this file starts and kills; Postgres is the shared server behind a TCP
 * proxy this file pauses (the shared server itself is never stopped).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { reasons } from '../../src/errors.js'
import {
  startBehindPostgresProxy,
  startOnPrivateRedis,
  strongPassword,
  uniqueLogin,
  type CallResult,
  type PrivateRedisApp,
  type ProxiedPostgresApp,
  type TestApp,
} from '../support/app.js'
import type { PrivateRedis } from '../support/redis-server.js'
import type { TcpProxy } from '../support/tcp-proxy.js'
import { eventually, fails, list, ok, transports } from '../support/calls.js'

const fastMs = 3_000

/** The call answers UNAVAILABLE on both transports, each within `fastMs`. */
async function assertUnavailable(
  t: TestApp,
  method: string,
  params: Record<string, unknown>,
  bearer?: string,
): Promise<void> {
  for (const transport of transports) {
    const started = performance.now()
    const failure = await fails(t, transport, method, 'UNAVAILABLE', params, bearer === undefined ? {} : { bearer })
    const took = performance.now() - started
    assert.ok(took < fastMs, `${method} on ${transport} took ${Math.round(took)} ms to say UNAVAILABLE`)
    assert.equal(failure.code, -32050)
    if (transport === 'api') assert.equal(failure.status, 503)
    else assert.equal(failure.status, 200)
  }
  // The raw answers, checked once more without the helper's assumptions.
  const api = await t.app.inject({
    method: 'POST',
    url: `/api/${method}`,
    headers: {
      'content-type': 'application/json',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    payload: JSON.stringify(params),
  })
  assert.equal(api.statusCode, reasons.UNAVAILABLE.httpStatus)
  const rpc = await t.app.inject({
    method: 'POST',
    url: '/rpc',
    headers: {
      'content-type': 'application/json',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    payload: JSON.stringify({ jsonrpc: '2.0', id: 'x', method, params }),
  })
  assert.equal(rpc.statusCode, 200)
  const body = JSON.parse(rpc.body) as { id: unknown; error?: { code: number } }
  assert.equal(body.id, 'x')
  assert.equal(body.error?.code, -32050)
}

async function readyz(t: TestApp): Promise<{ status: number; body: Record<string, unknown> }> {
  const started = performance.now()
  const reply = await t.app.inject({ method: 'GET', url: '/readyz' })
  assert.ok(performance.now() - started < fastMs, '/readyz must answer quickly even during an outage')
  return { status: reply.statusCode, body: JSON.parse(reply.body) as Record<string, unknown> }
}

async function signsIn(t: TestApp, login: string, password: string): Promise<boolean> {
  const reply = await t.api('SignIn', { login, password })
  return reply.status === 200
}

describe('Redis down', () => {
  let onPrivate: PrivateRedisApp | undefined
  let redis: PrivateRedis
  let t: TestApp

  before(async () => {
    onPrivate = await startOnPrivateRedis()
    ;({ t, redis } = onPrivate)
  })
  after(() => onPrivate?.close())

  test('answers UNAVAILABLE at once while Redis is down, and recovers by itself when it returns', async () => {
    const { login, password } = await t.signUp()
    const session = await t.signIn(login, password)
    await ok(t, 'api', 'GetSession', {}, { bearer: session })
    assert.equal((await readyz(t)).status, 200)

    await redis.kill()
    await assertUnavailable(t, 'GetSession', {}, session)
    await assertUnavailable(t, 'SignIn', { login, password })
    await assertUnavailable(t, 'ChangePassword', { password, newPassword: strongPassword() }, session)
    const down = await readyz(t)
    assert.equal(down.status, 503)
    assert.deepEqual(down.body, { status: 'unavailable', postgres: true, redis: false })

    await redis.start()
    const tookMs = await eventually(() => signsIn(t, login, password), 8_000, 'SignIn after Redis returned', 100)
    assert.ok(tookMs < 8_000)
    assert.equal((await readyz(t)).status, 200)
    const fresh = await t.signIn(login, password)
    const me = await ok(t, 'api', 'GetSession', {}, { bearer: fresh })
    assert.equal(me['login'], login)

    // Nothing from the outage got through: no sign-in succeeded then, the password is unchanged.
    const events = list((await ok(t, 'api', 'GetSigninHistory', { limit: 100 }, { bearer: fresh }))['events'])
    const types = events.map((e) => e['type'])
    assert.equal(types.filter((type) => type === 'signin.success').length, 3, JSON.stringify(types))
    assert.ok(!types.includes('password.changed'))
  })

  test('Redis failing in the middle of ChangePassword leaves nothing half-done', async () => {
    const { login, password } = await t.signUp()
    const caller = await t.signIn(login, password)
    const newPassword = strongPassword()
    const { sessions } = t.services.stores
    const revoke = sessions.revoke
    // Redis dies after the password check and the Postgres write, just before other sessions end.
    sessions.revoke = async (...args) => {
      await redis.kill()
      return revoke.apply(sessions, args)
    }
    let reply: CallResult
    try {
      reply = await t.api('ChangePassword', { password, newPassword }, { bearer: caller })
    } finally {
      sessions.revoke = revoke
      await redis.start()
    }
    await eventually(async () => (await readyz(t)).status === 200, 8_000, 'readyz after Redis returned')
    const reason = reply.body.error?.data['reason']
    if (reason === undefined) {
      assert.equal(reply.status, 200)
      assert.ok(await signsIn(t, login, newPassword), 'ChangePassword said yes but the new password does not work')
    } else {
      assert.equal(reason, 'UNAVAILABLE')
      assert.ok(
        await signsIn(t, login, password),
        'ChangePassword answered UNAVAILABLE ("nothing was changed") but the password was changed, while the other sessions could not be ended ' +
          '(src/methods/accounts/change-password.ts writes Postgres before revoking the Redis sessions)',
      )
    }
  })
})

describe('Postgres down', () => {
  let proxied: ProxiedPostgresApp | undefined
  let proxy: TcpProxy
  let database: ProxiedPostgresApp['database']
  let t: TestApp

  before(async () => {
    proxied = await startBehindPostgresProxy()
    ;({ t, proxy, database } = proxied)
  })
  after(() => proxied?.close())

  /** Reads the real database directly, not through the proxy. */
  async function direct<T extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<T[]> {
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      return (await client.query<T>(sql, values)).rows
    } finally {
      await client.end()
    }
  }

  test('SignUp while Postgres is away is UNAVAILABLE with nothing written; after it returns the same login signs up', async () => {
    const { login, password } = await t.signUp()
    const session = await t.signIn(login, password)
    assert.ok(proxy.live > 0, 'the app talks to Postgres through the proxy')
    assert.equal((await readyz(t)).status, 200)

    proxy.pause()
    const newcomer = uniqueLogin('outage')
    const newcomerPassword = strongPassword()
    await assertUnavailable(t, 'SignUp', { login: newcomer, password: newcomerPassword })
    await assertUnavailable(t, 'SignIn', { login, password })
    await assertUnavailable(t, 'ChangePassword', { password, newPassword: strongPassword() }, session)
    const down = await readyz(t)
    assert.equal(down.status, 503)
    assert.deepEqual(down.body, { status: 'unavailable', postgres: false, redis: true })

    // Straight to the server: no account and no audit row for the newcomer, no password change.
    assert.deepEqual(await direct('SELECT id FROM accounts WHERE login = $1', [newcomer]), [])
    assert.deepEqual(await direct(`SELECT id FROM audit_events WHERE detail::text LIKE $1`, [`%${newcomer}%`]), [])
    assert.deepEqual(
      await direct(
        `SELECT e.id FROM audit_events e JOIN accounts a ON a.id = e.account_id WHERE a.login = $1 AND e.type = 'password.changed'`,
        [login],
      ),
      [],
    )

    proxy.resume()
    const tookMs = await eventually(
      async () => (await readyz(t)).status === 200,
      8_000,
      'readyz after Postgres returned',
    )
    assert.ok(tookMs < 8_000)
    const created = await ok(t, 'api', 'SignUp', { login: newcomer, password: newcomerPassword })
    assert.equal(created['login'], newcomer)
    assert.ok(await signsIn(t, newcomer, newcomerPassword))
    assert.ok(await signsIn(t, login, password), 'the ChangePassword during the outage changed nothing')
    await ok(t, 'api', 'GetSession', {}, { bearer: session })
  })

  test('/readyz follows Postgres: 503 while away, 200 after, repeatedly', async () => {
    for (let round = 0; round < 2; round++) {
      proxy.pause()
      assert.equal((await readyz(t)).status, 503)
      proxy.resume()
      await eventually(async () => (await readyz(t)).status === 200, 8_000, `readyz round ${round}`)
    }
  })

  test('Postgres failing in the middle of SignIn leaves no session behind that the caller never got', async () => {
    const { login, password } = await t.signUp()
    const { audit } = t.services.stores
    const record = audit.record
    // Postgres goes away after the password check and the session write, as the audit row is written.
    audit.record = async (...args) => {
      proxy.pause()
      return record.apply(audit, args)
    }
    let reply: CallResult
    try {
      reply = await t.api('SignIn', { login, password })
    } finally {
      audit.record = record
      proxy.resume()
    }
    await eventually(async () => (await readyz(t)).status === 200, 8_000, 'readyz after Postgres returned')
    const reason = reply.body.error?.data['reason']
    if (reason !== undefined) {
      assert.equal(reason, 'UNAVAILABLE')
      const session = await t.signIn(login, password)
      const sessions = list((await ok(t, 'api', 'GetSessions', {}, { bearer: session }))['sessions'])
      assert.equal(
        sessions.length,
        1,
        'SignIn answered UNAVAILABLE but left a live session nobody received (src/methods/accounts/sign-in.ts issues the session before the audit write and does not remove it when that fails)',
      )
    } else {
      assert.equal(reply.status, 200)
    }
  })
})
