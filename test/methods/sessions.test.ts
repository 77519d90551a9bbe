// GetSession, GetSessions, SignOutSessions, SignOut, session expiry and how a session rests in Redis.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { redisKeys } from '../../src/store/redis/keys.js'
import { startTestApp, testRedisUrl, type TestApp } from '../support/app.js'
import { assertNear, fails, fromIp, isoMs, list, ok, sleep, transports, type Json } from '../support/calls.js'

let t: TestApp
let redis: Redis
before(async () => {
  t = await startTestApp({ TRUST_PROXY: 'true' })
  redis = new Redis(testRedisUrl)
})
after(async () => {
  redis?.disconnect()
  await t?.close()
})

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex')

function prefix(app: TestApp): string {
  const value = app.backing.env['REDIS_KEY_PREFIX']
  assert.ok(value !== undefined && value !== '', 'the test app runs on real Redis with a key prefix')
  return value
}

/** The full Redis key of a session, as the service names it. */
const sessionKey = (app: TestApp, credential: string) => `${prefix(app)}${redisKeys.session(sha256(credential))}`

async function signIn(
  app: TestApp,
  login: string,
  password: string,
  options = {},
): Promise<{ session: string; expiresAt: number }> {
  const result = await ok(app, 'api', 'SignIn', { login, password }, options)
  return { session: String(result['session']), expiresAt: isoMs(result['expiresAt']) }
}

async function sessionsOf(app: TestApp, bearer: string): Promise<Json[]> {
  return list((await ok(app, 'api', 'GetSessions', {}, { bearer }))['sessions'])
}

const alive = async (app: TestApp, bearer: string) => (await app.api('GetSession', {}, { bearer })).status === 200

describe('GetSession', () => {
  for (const transport of transports) {
    test(`describes a session (${transport})`, async () => {
      const { login, password, accountId } = await t.signUp()
      const { session, expiresAt } = await signIn(t, login, password)
      const result = await ok(t, transport, 'GetSession', {}, { bearer: session })
      assert.deepEqual(Object.keys(result).sort(), ['accountId', 'authType', 'expiresAt', 'login', 'twoFactorEnabled'])
      assert.equal(result['accountId'], accountId)
      assert.equal(result['login'], login)
      assert.equal(result['authType'], 'session')
      assert.equal(result['twoFactorEnabled'], false)
      assertNear(isoMs(result['expiresAt']), expiresAt, 2_000, 'GetSession expiresAt vs SignIn expiresAt')
    })
  }

  test('with apiMethod a session is allowed to call the service methods', async () => {
    const { login, password } = await t.signUp()
    const { session } = await signIn(t, login, password)
    for (const apiMethod of ['GetSessions', 'ChangePassword', 'GetSession']) {
      for (const transport of transports) {
        const result = await ok(t, transport, 'GetSession', { apiMethod }, { bearer: session })
        assert.equal(result['allowed'], true, apiMethod)
        assert.equal(result['authType'], 'session')
      }
    }
  })

  test('without a credential, or with a forged one, it is UNAUTHENTICATED', async () => {
    await fails(t, 'api', 'GetSession', 'UNAUTHENTICATED', {})
    await fails(t, 'rpc', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: `lks_${'A'.repeat(32)}` })
  })
})

describe('GetSessions', () => {
  test('lists the sessions with ip and userAgent; current marks the caller', async () => {
    const { login, password } = await t.signUp()
    const bystander = await t.signUp()
    await signIn(t, bystander.login, bystander.password)
    const a = await signIn(t, login, password, fromIp('203.0.113.7', { headers: { 'user-agent': 'agent-A/1.0' } }))
    const b = await signIn(t, login, password, fromIp('198.51.100.9', { headers: { 'user-agent': 'agent-B/2.0' } }))

    for (const [caller, mine, theirs] of [
      [a.session, 'agent-A/1.0', 'agent-B/2.0'],
      [b.session, 'agent-B/2.0', 'agent-A/1.0'],
    ] as const) {
      const sessions = await sessionsOf(t, caller)
      assert.equal(sessions.length, 2, JSON.stringify(sessions))
      const current = sessions.filter((s) => s['current'] === true)
      assert.equal(current.length, 1)
      assert.equal(current[0]?.['userAgent'], mine)
      assert.equal(sessions.find((s) => s['current'] === false)?.['userAgent'], theirs)
    }

    const sessions = await sessionsOf(t, a.session)
    const byAgent = (ua: string) => sessions.find((s) => s['userAgent'] === ua)
    assert.equal(byAgent('agent-A/1.0')?.['ip'], '203.0.113.7')
    assert.equal(byAgent('agent-B/2.0')?.['ip'], '198.51.100.9')
    for (const s of sessions) {
      assert.deepEqual(Object.keys(s).sort(), [
        'createdAt',
        'current',
        'expiresAt',
        'id',
        'ip',
        'lastSeenAt',
        'userAgent',
      ])
      assert.match(String(s['id']), uuidPattern)
      const createdAt = isoMs(s['createdAt'])
      const lastSeenAt = isoMs(s['lastSeenAt'])
      const expiresAt = isoMs(s['expiresAt'])
      assert.ok(createdAt <= lastSeenAt && lastSeenAt < expiresAt, JSON.stringify(s))
      assertNear(createdAt, Date.now(), 30_000, 'createdAt')
    }
    assert.notEqual(sessions[0]?.['id'], sessions[1]?.['id'])
  })

  test('needs a session', async () => {
    await fails(t, 'api', 'GetSessions', 'UNAUTHENTICATED', {})
  })
})

describe('SignOutSessions', () => {
  let caller: string
  let others: string[]
  let ids: Map<string, string>
  let login: string
  let password: string

  /** The account's sessions by credential → id, read through GetSessions (matched on user agent). */
  async function freshSessions(count: number): Promise<void> {
    ;({ login, password } = await t.signUp())
    const credentials: string[] = []
    for (let i = 0; i <= count; i++)
      credentials.push((await signIn(t, login, password, { headers: { 'user-agent': `sos-${i}` } })).session)
    ;[caller = '', ...others] = credentials
    const listed = await sessionsOf(t, caller)
    ids = new Map(
      credentials.map((credential, i) => [
        credential,
        String(listed.find((s) => s['userAgent'] === `sos-${i}`)?.['id']),
      ]),
    )
  }
  const idOf = (credential: string) => {
    const id = ids.get(credential)
    assert.ok(id !== undefined && uuidPattern.test(id))
    return id
  }

  for (const transport of transports) {
    test(`ends the sessions named by id and nothing else (${transport})`, async () => {
      await freshSessions(3)
      const [b = '', c = '', d = ''] = others
      const result = await ok(t, transport, 'SignOutSessions', { ids: [idOf(b)] }, { bearer: caller })
      assert.deepEqual(result, { count: 1 })
      assert.equal(await alive(t, b), false)
      for (const survivor of [caller, c, d]) assert.equal(await alive(t, survivor), true)
      const listed = (await sessionsOf(t, caller)).map((s) => s['id'])
      assert.ok(!listed.includes(idOf(b)))
      assert.equal(listed.length, 3)

      assert.deepEqual(await ok(t, transport, 'SignOutSessions', { ids: [idOf(c), idOf(d)] }, { bearer: caller }), {
        count: 2,
      })
      for (const gone of [c, d]) assert.equal(await alive(t, gone), false)
      assert.equal(await alive(t, caller), true)
    })
  }

  test('"*" ends all but the calling session', async () => {
    await freshSessions(3)
    const bystander = await t.signUp()
    const theirs = (await signIn(t, bystander.login, bystander.password)).session
    assert.deepEqual(await ok(t, 'rpc', 'SignOutSessions', { ids: '*' }, { bearer: caller }), { count: 3 })
    for (const gone of others) assert.equal(await alive(t, gone), false)
    assert.equal(await alive(t, caller), true)
    assert.equal(await alive(t, theirs), true, "another account's session survives")
    const listed = await sessionsOf(t, caller)
    assert.equal(listed.length, 1)
    assert.equal(listed[0]?.['current'], true)
    assert.deepEqual(await ok(t, 'api', 'SignOutSessions', { ids: '*' }, { bearer: caller }), { count: 0 })
  })

  test('an unknown id is NOT_FOUND and nothing ends, even the known ids beside it', async () => {
    await freshSessions(2)
    const [b = '', c = ''] = others
    for (const transport of transports) {
      await fails(
        t,
        transport,
        'SignOutSessions',
        'NOT_FOUND',
        { ids: [idOf(b), '00000000-0000-4000-8000-000000000000'] },
        { bearer: caller },
      )
    }
    for (const survivor of [caller, b, c]) assert.equal(await alive(t, survivor), true)
    assert.equal((await sessionsOf(t, caller)).length, 3)
  })

  test("another account's session id is NOT_FOUND and that session lives on", async () => {
    await freshSessions(1)
    const [mine = ''] = others
    const victim = await t.signUp()
    const theirs = await signIn(t, victim.login, victim.password)
    const [theirRow] = await sessionsOf(t, theirs.session)
    const theirId = String(theirRow?.['id'])
    assert.match(theirId, uuidPattern)
    for (const transport of transports) {
      await fails(t, transport, 'SignOutSessions', 'NOT_FOUND', { ids: [theirId] }, { bearer: caller })
      await fails(t, transport, 'SignOutSessions', 'NOT_FOUND', { ids: [idOf(mine), theirId] }, { bearer: caller })
    }
    assert.equal(await alive(t, theirs.session), true)
    assert.equal(await alive(t, mine), true)
  })

  test('an id already signed out is NOT_FOUND', async () => {
    await freshSessions(1)
    const [b = ''] = others
    await ok(t, 'api', 'SignOutSessions', { ids: [idOf(b)] }, { bearer: caller })
    await fails(t, 'api', 'SignOutSessions', 'NOT_FOUND', { ids: [idOf(b)] }, { bearer: caller })
  })

  test('ids must be uuids or "*"', async () => {
    await freshSessions(1)
    for (const bad of ['all', ['not-a-uuid'], 42, [42]])
      await fails(t, 'api', 'SignOutSessions', 'INVALID_PARAMS', { ids: bad }, { bearer: caller })
    await fails(t, 'api', 'SignOutSessions', 'INVALID_PARAMS', {}, { bearer: caller })
    assert.equal((await sessionsOf(t, caller)).length, 2)
  })
})

describe('SignOut', () => {
  for (const transport of transports) {
    test(`the session is UNAUTHENTICATED right after; the account's other sessions are not (${transport})`, async () => {
      const { login, password } = await t.signUp()
      const mine = (await signIn(t, login, password)).session
      const other = (await signIn(t, login, password)).session
      assert.deepEqual(await ok(t, transport, 'SignOut', {}, { bearer: mine }), {})
      for (const tr of transports) await fails(t, tr, 'GetSession', 'UNAUTHENTICATED', {}, { bearer: mine })
      await fails(t, transport, 'SignOut', 'UNAUTHENTICATED', {}, { bearer: mine })
      assert.equal(await alive(t, other), true)
      const listed = await sessionsOf(t, other)
      assert.equal(listed.length, 1)
      assert.equal(listed[0]?.['current'], true)
      assert.equal(await redis.exists(sessionKey(t, mine)), 0, 'the session key is gone from Redis')
    })
  }

  test('needs a session', async () => {
    await fails(t, 'api', 'SignOut', 'UNAUTHENTICATED', {})
  })
})

describe('session expiry: expiresAt = min(lastSeen + idle, created + absolute), and the Redis TTL follows it', () => {
  test('by default a session ends 24 hours after its last use', async () => {
    const { login, password } = await t.signUp()
    const now = Date.now()
    const { session, expiresAt } = await signIn(t, login, password)
    assertNear(expiresAt, now + 86_400_000, 3_000, 'expiresAt')
    assertNear(await redis.pttl(sessionKey(t, session)), 86_400_000, 3_000, 'Redis TTL')
  })

  test('absolute 120 s under idle 600 s: expiresAt ≈ now + 120 s, and use does not extend it', async () => {
    const capped = await startTestApp({ SESSION_ABSOLUTE_SECONDS: '120', SESSION_IDLE_SECONDS: '600' }, { share: t })
    try {
      const { login, password } = await capped.signUp()
      const signedInAt = Date.now()
      const { session, expiresAt } = await signIn(capped, login, password)
      assertNear(expiresAt, signedInAt + 120_000, 3_000, 'SignIn expiresAt')
      const key = sessionKey(capped, session)
      const ttl = await redis.pttl(key)
      assert.ok(ttl > 110_000 && ttl <= 120_000, `TTL ${ttl} ms`)

      // Pretend the last use was 100 s ago: the next call touches the session, but never past the absolute end.
      assert.notEqual(await redis.hget(key, 'seen'), null, 'the session hash keeps lastSeenAt in `seen`')
      await redis.hset(key, 'seen', String(Date.now() - 100_000))
      const result = await ok(capped, 'api', 'GetSession', {}, { bearer: session })
      assertNear(isoMs(result['expiresAt']), expiresAt, 1_000, 'GetSession expiresAt after a touch')
      assert.ok(
        (await redis.pttl(key)) <= 120_000 - (Date.now() - signedInAt) + 1_000,
        'the TTL never outlives the absolute end',
      )
    } finally {
      await capped.close()
    }
  })

  test('idle 60 s under absolute 600 s: expiresAt ≈ now + 60 s, and each use slides it', async () => {
    const idle = await startTestApp({ SESSION_ABSOLUTE_SECONDS: '600', SESSION_IDLE_SECONDS: '60' }, { share: t })
    try {
      const { login, password } = await idle.signUp()
      const signedInAt = Date.now()
      const a = await signIn(idle, login, password)
      const b = await signIn(idle, login, password)
      assertNear(a.expiresAt, signedInAt + 60_000, 3_000, 'SignIn expiresAt')
      const keyB = sessionKey(idle, b.session)
      const ttl = await redis.pttl(keyB)
      assert.ok(ttl > 55_000 && ttl <= 60_000, `TTL ${ttl} ms`)

      // B was last used 20 s ago: GetSessions (called by A) reports it ending 40 s from now…
      await redis.hset(keyB, 'seen', String(Date.now() - 20_000))
      const listed = await sessionsOf(idle, a.session)
      const rowB = listed.find((s) => s['current'] === false)
      assertNear(isoMs(rowB?.['expiresAt']), Date.now() + 40_000, 3_000, "B's expiresAt as listed")
      // …and B's own next call slides it to 60 s from now, in the reply and in Redis.
      const result = await ok(idle, 'api', 'GetSession', {}, { bearer: b.session })
      assertNear(isoMs(result['expiresAt']), Date.now() + 60_000, 3_000, 'expiresAt after use')
      assert.ok((await redis.pttl(keyB)) > 55_000, 'the TTL slid too')
    } finally {
      await idle.close()
    }
  })

  test('a session unused for longer than the idle time is refused even before Redis drops it', async () => {
    const { login, password } = await t.signUp()
    const { session } = await signIn(t, login, password)
    const key = sessionKey(t, session)
    await redis.hset(key, 'seen', String(Date.now() - 86_400_000 - 1_000))
    await fails(t, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
    assert.equal(await redis.exists(key), 0, 'the expired session was removed')
  })

  test('a session past its absolute end is refused even if used a moment ago', async () => {
    const { login, password } = await t.signUp()
    const { session } = await signIn(t, login, password)
    const key = sessionKey(t, session)
    assert.notEqual(await redis.hget(key, 'abs'), null, 'the session hash keeps absoluteExpiresAt in `abs`')
    await redis.hset(key, 'abs', String(Date.now() - 1))
    await fails(t, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
  })

  test('a session whose Redis key expired is UNAUTHENTICATED', async () => {
    const { login, password } = await t.signUp()
    const { session } = await signIn(t, login, password)
    await redis.pexpire(sessionKey(t, session), 1)
    await sleep(20)
    await fails(t, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
  })
})

describe('session credentials', () => {
  test('lks_ + base62 with at least 128 random bits, all different, using the whole alphabet', async () => {
    const { login, password } = await t.signUp()
    const bodies: string[] = []
    for (let i = 0; i < 40; i++) {
      const { session } = await signIn(t, login, password)
      assert.match(session, /^lks_[0-9A-Za-z]+$/)
      const body = session.slice(4)
      assert.ok(body.length * Math.log2(62) >= 128, `${body.length} base62 characters hold under 128 bits`)
      bodies.push(body)
    }
    assert.equal(new Set(bodies).size, bodies.length)
    const seen = new Set(bodies.join(''))
    assert.equal(seen.size, 62, `only ${seen.size} distinct characters in ${bodies.join('').length}`)
  })

  test('Redis holds only the SHA-256 of a session credential, never the credential', async () => {
    const { login, password } = await t.signUp()
    const { session } = await signIn(t, login, password)
    await ok(t, 'api', 'GetSession', {}, { bearer: session })
    await ok(t, 'api', 'GetSessions', {}, { bearer: session })

    const dump: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix(t)}*`, 'COUNT', 500)
      cursor = next
      for (const key of keys) {
        dump.push(key)
        const type = await redis.type(key)
        if (type === 'string') dump.push((await redis.get(key)) ?? '')
        else if (type === 'hash') dump.push(...Object.entries(await redis.hgetall(key)).flat())
        else if (type === 'set') dump.push(...(await redis.smembers(key)))
        else if (type === 'zset') dump.push(...(await redis.zrange(key, 0, -1)))
        else if (type === 'list') dump.push(...(await redis.lrange(key, 0, -1)))
        else assert.equal(type, 'none', `unexpected Redis type ${type}`)
      }
    } while (cursor !== '0')
    const text = dump.join('\n')
    assert.ok(dump.length > 0)
    assert.ok(!text.includes(session), 'the credential is stored in Redis')
    assert.ok(!text.includes(session.slice(4)), 'the credential body is stored in Redis')
    assert.ok(!text.includes('lks_'), 'something lks_-shaped is stored in Redis')
    assert.ok(text.includes(sha256(session)), 'the SHA-256 hex of the credential is not found')
  })
})
