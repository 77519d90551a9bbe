/**
 * Threat: the admin API as a way in. An operator key must reach the admin methods and nothing
 * else; nothing but a listed operator key may reach them; with no key listed nobody may; and the
 * keys themselves never reach a log (the service stores none, only their SHA-256).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { loadConfig } from '../../src/config.js'
import { newAdminKey, newPendingCredential } from '../../src/domain/credentials.js'
import { adminKeyEntry } from '../../src/domain/admin-keys.js'
import { methodTable } from '../../src/rpc/methods.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { fails, list, ok, transports } from '../support/calls.js'
import { createToken, keyOf, operators } from '../support/operators.js'

const adminMethods = methodTable.filter((m) => m.auth === 'admin')
const ops = operators('alice-oncall', 'bob-support')

/** Valid params for any method, so every call gets past validation to the credential checks. */
function validParams(name: string, user: { login: string; password?: string }): Record<string, unknown> {
  const m = methodTable.find((x) => x.name === name)
  assert.ok(m !== undefined, name)
  const samples: Record<string, unknown> = {
    login: user.login,
    reason: 'boundary test',
    required: false,
    password: user.password ?? 'not-the-password',
    newPassword: 'An0ther-l0ng-passw0rd',
    ids: '*',
    id: '00000000-0000-4000-8000-000000000000',
    code: '123456',
    description: 'x',
    twoFactorToken: 'lk2_x',
  }
  return Object.fromEntries((m.params.required ?? []).map((key) => [key, samples[key]]))
}

describe('with operator keys configured', () => {
  let t: TestApp
  let user: { login: string; password: string; session: string }
  let pat: string
  before(async () => {
    t = await startTestApp(ops.env)
    user = await t.signUpAndIn()
    pat = (await createToken(t, user.session, user.password)).token
  })
  after(() => t.close())

  const paramsFor = (name: string) => validParams(name, user)
  // Side-effect free, so the refusals below can be told from a success that changed something.
  const readOnly = ['AdminGetAccount', 'AdminListAccounts', 'AdminGetSigninHistory']

  for (const transport of transports) {
    test(`every admin method: no credential and unknown keys are UNAUTHENTICATED, sessions and PATs FORBIDDEN (${transport})`, async () => {
      const unknownKeys = [newAdminKey(), `lka_${'x'.repeat(5)}`, `${keyOf(ops, 'alice-oncall')}x`]
      for (const m of adminMethods) {
        const params = paramsFor(m.name)
        await fails(t, transport, m.name, 'UNAUTHENTICATED', params)
        for (const bearer of unknownKeys) await fails(t, transport, m.name, 'UNAUTHENTICATED', params, { bearer })
        await fails(t, transport, m.name, 'UNAUTHENTICATED', params, { bearer: newPendingCredential() })
        const asSession = await fails(t, transport, m.name, 'FORBIDDEN', params, { bearer: user.session })
        assert.match(asSession.message, /operator key/)
        await fails(t, transport, m.name, 'FORBIDDEN', params, { bearer: pat })
        // The header-less channel carries a session just the same.
        await fails(t, transport, m.name, 'FORBIDDEN', { ...params, session: user.session })
      }
      // Nothing changed on the way: the account is as it was.
      const account = await ok(
        t,
        transport,
        'AdminGetAccount',
        { login: user.login },
        { bearer: keyOf(ops, 'alice-oncall') },
      )
      assert.deepEqual([account['locked'], account['sessions'], account['tokens']], [false, 1, 1])
    })

    test(`every listed key works, by header or by the session param (${transport})`, async () => {
      for (const name of ['alice-oncall', 'bob-support']) {
        for (const m of adminMethods.filter((x) => readOnly.includes(x.name))) {
          await ok(t, transport, m.name, paramsFor(m.name), { bearer: keyOf(ops, name) })
          await ok(t, transport, m.name, { ...paramsFor(m.name), session: keyOf(ops, name) })
        }
      }
    })

    test(`a valid operator key is FORBIDDEN on every user method, none-methods included (${transport})`, async () => {
      const bearer = keyOf(ops, 'bob-support')
      for (const m of methodTable.filter((x) => x.auth !== 'admin')) {
        const reply = await fails(t, transport, m.name, 'FORBIDDEN', paramsFor(m.name), { bearer })
        assert.match(reply.message, /operator key/, m.name)
      }
      // SignIn refused the key before looking at the password: no failure was counted or recorded.
      const events = list((await ok(t, transport, 'GetSigninHistory', {}, { bearer: user.session }))['events'])
      assert.ok(!events.some((e) => e['type'] === 'signin.failure'))
    })
  }

  test('each key signs its own changes', async () => {
    const { login, session } = await t.signUpAndIn()
    await ok(t, 'api', 'AdminSignOut', { login, reason: 'one' }, { bearer: keyOf(ops, 'alice-oncall') })
    await ok(t, 'rpc', 'AdminUnlockAccount', { login, reason: 'two' }, { bearer: keyOf(ops, 'bob-support') })
    const history = await ok(
      t,
      'api',
      'AdminGetSigninHistory',
      { login, limit: 2 },
      { bearer: keyOf(ops, 'bob-support') },
    )
    assert.deepEqual(
      list(history['events']).map((e) => e['detail']),
      [
        { admin: 'bob-support', reason: 'two' },
        { admin: 'alice-oncall', reason: 'one' },
      ],
    )
    await fails(t, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
  })
})

describe('without ADMIN_API_KEYS the admin API is off', () => {
  let t: TestApp
  before(async () => {
    t = await startTestApp({ ADMIN_API_KEYS: '' })
  })
  after(() => t.close())

  for (const transport of transports) {
    test(`every admin method answers FORBIDDEN to everyone (${transport})`, async () => {
      const { login, session } = await t.signUpAndIn()
      for (const m of adminMethods) {
        const params = validParams(m.name, { login })
        const off = await fails(t, transport, m.name, 'FORBIDDEN', params)
        assert.match(off.message, /ADMIN_API_KEYS/)
        for (const bearer of [newAdminKey(), keyOf(ops, 'alice-oncall'), session])
          await fails(t, transport, m.name, 'FORBIDDEN', params, { bearer })
      }
      // An lka_ key on a user method is unknown here, hence UNAUTHENTICATED.
      await fails(t, transport, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: keyOf(ops, 'alice-oncall') })
    })
  }
})

describe('ADMIN_API_KEYS', () => {
  const base = { SECRETS_KEY: 'x'.repeat(44) }
  test('a malformed entry stops the start, naming its position, never echoing the value', () => {
    const key = newAdminKey()
    for (const value of [key, `ops:${key}`, 'ops:abc', `bad name:${'a'.repeat(64)}`, `:${'a'.repeat(64)}`]) {
      assert.throws(
        () => loadConfig({ ...base, ADMIN_API_KEYS: value }),
        (error: unknown) =>
          error instanceof Error &&
          /ADMIN_API_KEYS entry 1/.test(error.message) &&
          !error.message.includes(key) &&
          !error.message.includes(value),
      )
    }
    const entry = adminKeyEntry('ops', key)
    assert.throws(() => loadConfig({ ...base, ADMIN_API_KEYS: `${entry},${entry}` }), /names ops twice/)
    assert.doesNotThrow(() =>
      loadConfig({ ...base, ADMIN_API_KEYS: ` ${entry} , ${adminKeyEntry('b', newAdminKey())}` }),
    )
  })

  test('npm run admin-key -- NAME prints a key and the entry that admits it', async () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/admin-key.ts', 'carol-oncall'], {
      encoding: 'utf8',
    })
    assert.equal(run.status, 0, run.stderr)
    const key = run.stdout.match(/lka_[0-9A-Za-z]{32}\b/)?.[0]
    const entry = run.stdout.match(/carol-oncall:[0-9a-f]{64}/)?.[0]
    assert.ok(key !== undefined && entry !== undefined, run.stdout)
    assert.equal(entry, adminKeyEntry('carol-oncall', key))
    const t = await startTestApp({ ADMIN_API_KEYS: entry })
    try {
      await ok(t, 'api', 'AdminListAccounts', { limit: 1 }, { bearer: key })
    } finally {
      await t.close()
    }
    const refused = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/admin-key.ts', 'no spaces'], {
      encoding: 'utf8',
    })
    assert.notEqual(refused.status, 0)
    assert.doesNotMatch(refused.stdout, /lka_/)
  })
})

describe('operator keys never reach the log', () => {
  const logOps = operators('logged-op')
  let t: TestApp
  before(async () => {
    t = await startTestApp({ ...logOps.env, LOG_LEVEL: 'trace' })
  })
  after(() => t.close())

  test('after admin calls, refusals and errors at LOG_LEVEL=trace', async () => {
    const key = keyOf(logOps, 'logged-op')
    const unknown = newAdminKey()
    const { login, session } = await t.signUpAndIn()
    for (const transport of transports) {
      await ok(t, transport, 'AdminGetAccount', { login }, { bearer: key })
      await ok(t, transport, 'AdminRequire2FA', { login, required: true, reason: 'log scan' }, { bearer: key })
      await ok(t, transport, 'AdminGetAccount', { login, session: key })
      await fails(t, transport, 'AdminGetAccount', 'UNAUTHENTICATED', { login }, { bearer: unknown })
      await fails(t, transport, 'GetSession', 'FORBIDDEN', {}, { bearer: key })
      await fails(t, transport, 'AdminGetAccount', 'FORBIDDEN', { login }, { bearer: session })
      await fails(t, transport, 'AdminGetAccount', 'INVALID_PARAMS', { login, extra: key }, { bearer: key })
    }
    // An unexpected error with the key in flight.
    const { accounts } = t.services.stores
    const findByLogin = accounts.findByLogin
    accounts.findByLogin = async () => {
      throw new Error('forced failure in findByLogin')
    }
    try {
      await fails(t, 'api', 'AdminLockAccount', 'INTERNAL', { login, reason: 'x' }, { bearer: key })
    } finally {
      accounts.findByLogin = findByLogin
    }
    const log = t.logLines.join('')
    assert.match(log, /forced failure in findByLogin/)
    assert.match(log, /call refused/)
    for (const secret of [key, unknown]) {
      assert.ok(!log.includes(secret), 'an operator key is in the log')
      assert.ok(!log.includes(secret.slice(4)), 'the body of an operator key is in the log')
    }
    assert.ok(!log.includes('lka_'), 'something shaped like an operator key is in the log')
  })
})
