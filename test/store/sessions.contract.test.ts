import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { credentialDigest, type Digest } from '../../src/domain/credentials.js'
import type { SessionRecord, SessionStore } from '../../src/store/ports/index.js'
import { MemorySessionStore } from '../../src/store/memory/sessions.js'
import { redisKeys } from '../../src/store/redis/keys.js'
import { RedisSessionStore } from '../../src/store/redis/sessions.js'
import { assertUnavailableFast, recordCommands, testRedis, unreachableRedis } from '../support/redis.js'
import { contractSuite, memoryAdapter, redisAdapters, trackedRedisAdapters } from '../support/contract.js'
import { sleep } from '../support/calls.js'

const hour = 3_600_000
const id = (stem: string) => `${stem}_${randomBytes(8).toString('hex')}`
const newDigest = () => credentialDigest(randomBytes(32).toString('hex'))

/** A fresh session that started at `now` and may live an hour unless told otherwise. */
function newSession(
  accountId: string,
  overrides: Partial<SessionRecord> = {},
): { digest: Digest; session: SessionRecord } {
  const now = Date.now()
  return {
    digest: newDigest(),
    session: {
      id: id('sess'),
      accountId,
      login: `${accountId}@example.com`,
      twoFactorEnabled: false,
      twoFactorRequiredBy: null,
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt: now + hour,
      ip: '203.0.113.7',
      userAgent: 'contract-test',
      ...overrides,
    },
  }
}

function sessionStoreContract(subject: () => SessionStore): void {
  let store: SessionStore
  before(() => {
    store = subject()
  })

  async function created(accountId: string, idleMs = hour, overrides: Partial<SessionRecord> = {}) {
    const s = newSession(accountId, overrides)
    await store.create(s.digest, s.session, idleMs)
    return s
  }

  test('create then authenticate returns the stored record', async () => {
    const account = id('acct')
    const { digest, session } = await created(account, hour, { twoFactorEnabled: true, ip: null, userAgent: null })
    assert.deepEqual(await store.authenticate(digest, Date.now(), hour, 60_000), session)
  })

  test('an unknown digest authenticates to null', async () => {
    assert.equal(await store.authenticate(newDigest(), Date.now(), hour, 60_000), null)
  })

  test('idle expiry: a session unused for idleMs is gone, also in the store itself', async () => {
    const { digest } = await created(id('acct'), 150)
    await sleep(250)
    // A caller with a generous idleMs still finds nothing: the store expired it on its own.
    assert.equal(await store.authenticate(digest, Date.now(), hour, 0), null)
  })

  test('idle expiry by the clock passed in', async () => {
    const { digest, session } = await created(id('acct'))
    assert.equal(await store.authenticate(digest, session.lastSeenAt + 1_000, 1_000, 0), null)
    // And it stays gone for later callers.
    assert.equal(await store.authenticate(digest, session.lastSeenAt, hour, 0), null)
  })

  test('use slides the idle expiry', async () => {
    const { digest } = await created(id('acct'), 300)
    await sleep(200)
    assert.notEqual(await store.authenticate(digest, Date.now(), 300, 50), null)
    await sleep(200)
    // 400 ms after creation, past the first idle deadline, alive thanks to the touch at 200 ms.
    assert.notEqual(await store.authenticate(digest, Date.now(), 300, 50), null)
  })

  test('absolute expiry: the session ends at absoluteExpiresAt however recently used', async () => {
    const now = Date.now()
    const { digest } = await created(id('acct'), hour, { absoluteExpiresAt: now + 250 })
    assert.notEqual(await store.authenticate(digest, Date.now(), hour, 0), null)
    await sleep(350)
    // Even a caller whose clock lags finds nothing: the touch capped the store's own expiry.
    assert.equal(await store.authenticate(digest, now, hour, 0), null)
  })

  test('absolute expiry by the clock passed in', async () => {
    const { digest, session } = await created(id('acct'))
    assert.equal(await store.authenticate(digest, session.absoluteExpiresAt, hour, 0), null)
    assert.equal(await store.authenticate(digest, session.lastSeenAt, hour, 0), null)
  })

  test('touch coalescing: lastSeenAt is rewritten only once touchEveryMs has passed', async () => {
    const { digest, session } = await created(id('acct'))
    const t0 = session.lastSeenAt
    assert.equal((await store.authenticate(digest, t0 + 10, hour, 1_000))?.lastSeenAt, t0)
    assert.equal((await store.authenticate(digest, t0 + 999, hour, 1_000))?.lastSeenAt, t0)
    assert.equal((await store.authenticate(digest, t0 + 1_000, hour, 1_000))?.lastSeenAt, t0 + 1_000)
    assert.equal((await store.authenticate(digest, t0 + 1_500, hour, 1_000))?.lastSeenAt, t0 + 1_000)
    assert.equal((await store.authenticate(digest, t0 + 2_100, hour, 1_000))?.lastSeenAt, t0 + 2_100)
    const [listed] = await store.list(session.accountId, t0 + 2_200)
    assert.equal(listed?.lastSeenAt, t0 + 2_100)
  })

  test('list returns the live sessions of one account only, oldest first', async () => {
    const account = id('acct')
    const other = id('acct')
    const now = Date.now()
    const a = await created(account, hour, { createdAt: now - 2 })
    const b = await created(account, hour, { createdAt: now - 1 })
    const c = await created(account, hour, { createdAt: now })
    const o = await created(other)
    assert.deepEqual(await store.list(account, Date.now()), [a.session, b.session, c.session])
    assert.deepEqual(await store.list(other, Date.now()), [o.session])
    assert.deepEqual(await store.list(id('acct'), Date.now()), [])
  })

  test('list leaves out expired sessions and prunes them', async () => {
    const account = id('acct')
    const now = Date.now()
    const live = await created(account, hour, { createdAt: now - 1 })
    await created(account, 100)
    const capped = await created(account, hour, { createdAt: now, absoluteExpiresAt: now + 400 })
    await sleep(200)
    assert.deepEqual(await store.list(account, Date.now()), [live.session, capped.session])
    assert.deepEqual(await store.list(account, capped.session.absoluteExpiresAt), [live.session])
    // Pruned, not merely hidden: revoking everything now ends only the live one.
    assert.equal(await store.revoke(account, '*', null), 1)
  })

  test('revoke by ids ends exactly those sessions of the account', async () => {
    const account = id('acct')
    const [a, b, c] = [await created(account), await created(account), await created(account)]
    assert.equal(await store.revoke(account, [a.session.id, c.session.id, id('sess')], null), 2)
    assert.equal(await store.authenticate(a.digest, Date.now(), hour, 0), null)
    assert.equal(await store.authenticate(c.digest, Date.now(), hour, 0), null)
    assert.notEqual(await store.authenticate(b.digest, Date.now(), hour, 0), null)
    assert.deepEqual(
      (await store.list(account, Date.now())).map((s) => s.id),
      [b.session.id],
    )
    assert.equal(await store.revoke(account, [a.session.id], null), 0, 'already ended')
    assert.equal(await store.revoke(account, [], null), 0)
  })

  test("revoke cannot reach another account's sessions", async () => {
    const victim = await created(id('acct'))
    assert.equal(await store.revoke(id('acct'), [victim.session.id], null), 0)
    assert.notEqual(await store.authenticate(victim.digest, Date.now(), hour, 0), null)
  })

  test("revoke '*' ends every session but the kept one", async () => {
    const account = id('acct')
    const keep = await created(account)
    const others = [await created(account), await created(account), await created(account)]
    const bystander = await created(id('acct'))
    assert.equal(await store.revoke(account, '*', keep.session.id), 3)
    for (const s of others) assert.equal(await store.authenticate(s.digest, Date.now(), hour, 0), null)
    assert.notEqual(await store.authenticate(keep.digest, Date.now(), hour, 0), null)
    assert.notEqual(await store.authenticate(bystander.digest, Date.now(), hour, 0), null)
    assert.deepEqual(
      (await store.list(account, Date.now())).map((s) => s.id),
      [keep.session.id],
    )
    assert.equal(await store.revoke(account, '*', null), 1)
    assert.equal(await store.authenticate(keep.digest, Date.now(), hour, 0), null)
    assert.deepEqual(await store.list(account, Date.now()), [])
  })

  test('remove ends one session by digest', async () => {
    const account = id('acct')
    const gone = await created(account)
    const stays = await created(account)
    await store.remove(account, gone.digest)
    assert.equal(await store.authenticate(gone.digest, Date.now(), hour, 0), null)
    assert.deepEqual(
      (await store.list(account, Date.now())).map((s) => s.id),
      [stays.session.id],
    )
    await store.remove(account, gone.digest)
  })

  test("remove ignores another account's digest", async () => {
    const victim = await created(id('acct'))
    await store.remove(id('acct'), victim.digest)
    assert.notEqual(await store.authenticate(victim.digest, Date.now(), hour, 0), null)
  })

  test('setTwoFactorEnabled rewrites the flag in every live session of the account', async () => {
    const account = id('acct')
    const sessions = [await created(account), await created(account)]
    const bystander = await created(id('acct'))
    await store.setTwoFactorEnabled(account, true)
    for (const s of sessions)
      assert.equal((await store.authenticate(s.digest, Date.now(), hour, 0))?.twoFactorEnabled, true)
    assert.equal((await store.authenticate(bystander.digest, Date.now(), hour, 0))?.twoFactorEnabled, false)
    await store.setTwoFactorEnabled(account, false)
    assert.deepEqual(
      (await store.list(account, Date.now())).map((s) => s.twoFactorEnabled),
      [false, false],
    )
  })

  test('the 2FA deadline copy: stored at create, rewritten by setTwoFactorRequiredBy for the account only', async () => {
    const account = id('acct')
    const deadline = Date.now() + hour
    const first = await created(account, hour, { twoFactorRequiredBy: deadline })
    const second = await created(account)
    const bystander = await created(id('acct'))
    assert.equal((await store.authenticate(first.digest, Date.now(), hour, 0))?.twoFactorRequiredBy, deadline)
    assert.equal((await store.authenticate(second.digest, Date.now(), hour, 0))?.twoFactorRequiredBy, null)
    await store.setTwoFactorRequiredBy(account, deadline + 1)
    for (const s of [first, second])
      assert.equal((await store.authenticate(s.digest, Date.now(), hour, 0))?.twoFactorRequiredBy, deadline + 1)
    assert.equal((await store.authenticate(bystander.digest, Date.now(), hour, 0))?.twoFactorRequiredBy, null)
    await store.setTwoFactorRequiredBy(account, null)
    assert.deepEqual(
      (await store.list(account, Date.now())).map((s) => s.twoFactorRequiredBy),
      [null, null],
    )
    // The copy does not disturb the other fields.
    assert.equal((await store.authenticate(first.digest, Date.now(), hour, 0))?.id, first.session.id)
  })

  test('setTwoFactorEnabled does not bring an expired session back', async () => {
    const account = id('acct')
    const s = await created(account, 100)
    await sleep(200)
    await store.setTwoFactorEnabled(account, true)
    assert.equal(await store.authenticate(s.digest, s.session.lastSeenAt, hour, 0), null)
  })

  test('a session born expired is refused', async () => {
    const now = Date.now()
    const s = newSession(id('acct'), { absoluteExpiresAt: now })
    await assert.rejects(store.create(s.digest, s.session, hour), RangeError)
  })
}

contractSuite(
  'SessionStore',
  [
    ...redisAdapters((redis) => new RedisSessionStore(redis)),
    ...trackedRedisAdapters((redis, cache) => new RedisSessionStore(redis, cache)),
    memoryAdapter(
      () => new MemorySessionStore(),
      (store) => store.close(),
    ),
  ],
  sessionStoreContract,
)

describe('SessionStore on Redis', () => {
  const { redis, cleanup } = testRedis()
  const store = new RedisSessionStore(redis)
  after(cleanup)

  test('authenticate is one round trip', async () => {
    const { digest, session } = newSession(id('acct'))
    await store.create(digest, session, hour)
    const sent = recordCommands(redis)
    try {
      await store.authenticate(digest, Date.now(), hour, 0)
      await store.authenticate(digest, Date.now(), hour, 60_000)
    } finally {
      sent.stop()
    }
    assert.deepEqual(sent.names, ['evalsha', 'evalsha'])
  })

  test('the session and the account index carry TTLs', async () => {
    const { digest, session } = newSession(id('acct'), { absoluteExpiresAt: Date.now() + 5 * hour })
    await store.create(digest, session, hour)
    const sessionTtl = await redis.pttl(redisKeys.session(digest))
    const indexTtl = await redis.pttl(redisKeys.accountSessions(session.accountId))
    assert.ok(sessionTtl > hour - 5_000 && sessionTtl <= hour, `session PTTL ${sessionTtl}`)
    assert.ok(indexTtl > 5 * hour - 5_000 && indexTtl <= 5 * hour, `index PTTL ${indexTtl}`)
    // A shorter-lived later session does not shorten the index.
    const later = newSession(session.accountId, { absoluteExpiresAt: Date.now() + hour })
    await store.create(later.digest, later.session, hour)
    assert.ok((await redis.pttl(redisKeys.accountSessions(session.accountId))) > 4 * hour)
  })

  test('a touch caps the TTL at the absolute expiry', async () => {
    const { digest, session } = newSession(id('acct'), { absoluteExpiresAt: Date.now() + 10_000 })
    await store.create(digest, session, hour)
    await store.authenticate(digest, Date.now(), hour, 0)
    const ttl = await redis.pttl(redisKeys.session(digest))
    assert.ok(ttl > 0 && ttl <= 10_000, `PTTL ${ttl}`)
  })

  test('list prunes index entries whose session is gone', async () => {
    const account = id('acct')
    const { digest, session } = newSession(account)
    await store.create(digest, session, hour)
    await redis.del(redisKeys.session(digest))
    assert.deepEqual(await store.list(account, Date.now()), [])
    assert.equal(await redis.hexists(redisKeys.accountSessions(account), session.id), 0)
  })

  test('with Redis unreachable every call fails fast with StoreUnavailableError', async () => {
    const down = unreachableRedis()
    try {
      const offline = new RedisSessionStore(down)
      const { digest, session } = newSession(id('acct'))
      await assertUnavailableFast(() => offline.create(digest, session, hour))
      await assertUnavailableFast(() => offline.authenticate(digest, Date.now(), hour, 0))
      await assertUnavailableFast(() => offline.list(session.accountId, Date.now()))
      await assertUnavailableFast(() => offline.revoke(session.accountId, '*', null))
      await assertUnavailableFast(() => offline.remove(session.accountId, digest))
      await assertUnavailableFast(() => offline.setTwoFactorEnabled(session.accountId, true))
    } finally {
      down.disconnect()
    }
  })
})
