import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Redis } from 'ioredis'
import type { SessionRecord } from '../../src/store/ports/index.js'
import { redisKeys } from '../../src/store/redis/keys.js'
import { RedisSessionStore } from '../../src/store/redis/sessions.js'
import { RedisTokenCacheStore } from '../../src/store/redis/token-cache.js'
import { afterPendingIo, type CacheSpace, type TrackedCache } from '../../src/store/redis/tracked-cache.js'
import { eventually, sleep } from '../support/calls.js'
import { recordCommands, testRedis, trackedCache } from '../support/redis.js'

/**
 * The in-process cache kept by Redis's client tracking: every change another client makes to a
 * key this cache read drops the entry, and losing either connection drops everything.
 */

const key = () => `lk:{x:${randomBytes(8).toString('hex')}}`
const hour = 3_600_000

describe('TrackedCache', () => {
  const { redis: other, prefix, cleanup } = testRedis()
  let cache: TrackedCache
  let space: CacheSpace<string>
  before(async () => {
    cache = await trackedCache(prefix)
    space = cache.space<string>()
  })
  after(async () => {
    await cache.close()
    await cleanup()
  })

  /** Reads `k` through the cache with a plain GET and keeps what it found. */
  const readGet = (k: string) =>
    space.readThrough(
      k,
      (reader) => reader.get(k),
      (value) => value,
    )
  const dropped = (k: string, what: string) => eventually(async () => !space.has(k), 5_000, what, 10)

  test('a plain read is kept, and served with no round trip', async () => {
    const k = key()
    await other.set(k, 'v1', 'PX', hour)
    assert.equal(await readGet(k), 'v1')
    assert.equal(space.get(k), 'v1')
  })

  for (const [change, apply] of [
    ['SET', (r: Redis, k: string) => r.set(k, 'v2')],
    ['DEL', (r: Redis, k: string) => r.del(k)],
    ['HSET', (r: Redis, k: string) => r.hset(k, 'f', 'v2')],
    ['PEXPIRE', (r: Redis, k: string) => r.pexpire(k, hour * 2)],
  ] as const) {
    test(`${change} by another client drops the entry`, async () => {
      const k = key()
      if (change === 'HSET') {
        await other.hset(k, 'f', 'v1')
        await space.readThrough(
          k,
          (reader) => reader.hget(k, 'f'),
          (value) => value,
        )
      } else {
        await other.set(k, 'v1', 'PX', hour)
        await readGet(k)
      }
      assert.ok(space.has(k))
      await apply(other, k)
      await dropped(k, `${change} invalidates`)
    })
  }

  test('expiry in Redis drops the entry', async () => {
    const k = key()
    await other.set(k, 'v1', 'PX', 50)
    await readGet(k)
    await sleep(80)
    await other.exists(k) // expires it now rather than at the next expiry cycle
    await dropped(k, 'expiry invalidates')
  })

  test('a key read inside a Lua script is tracked too', async () => {
    const k = key()
    await other.set(k, 'v1', 'PX', hour)
    await space.readThrough(
      k,
      (reader) => reader.eval("return redis.call('GET', KEYS[1])", 1, k) as Promise<string>,
      (value) => value,
    )
    assert.equal(space.get(k), 'v1')
    await other.set(k, 'v2')
    await dropped(k, 'invalidated after a script read')
  })

  test('an absent key is kept as known absent, until it is created', async () => {
    const k = key()
    await readGet(k)
    assert.equal(space.get(k), null)
    await other.set(k, 'v1', 'PX', hour)
    await dropped(k, 'creating it invalidates')
  })

  test('a read whose key changes while it is in flight is not kept', async () => {
    const k = key()
    await other.set(k, 'v1', 'PX', hour)
    const value = await space.readThrough(
      k,
      async (reader) => {
        const read = await reader.get(k)
        await other.set(k, 'v2')
        // The invalidation has left Redis once this answers; the yield applies it.
        await other.ping()
        await afterPendingIo()
        return read
      },
      (v) => v,
    )
    assert.equal(value, 'v1')
    assert.equal(space.has(k), false)
  })

  test('the writer drops its own entry at once', async () => {
    const k = key()
    await other.set(k, 'v1', 'PX', hour)
    await readGet(k)
    space.drop(k)
    assert.equal(space.has(k), false)
  })

  for (const victim of ['subscriber', 'tracked'] as const) {
    test(`killing the ${victim} connection drops the whole cache until tracking is back`, async () => {
      const keys = [key(), key()]
      for (const k of keys) {
        await other.set(k, 'v1', 'PX', hour)
        await readGet(k)
      }
      assert.ok(keys.every((k) => space.has(k)))
      const id = victim === 'subscriber' ? cache.subscriberId : String(await cache.reader.client('ID'))
      assert.ok(id !== null)
      await other.client('KILL', 'ID', id)
      await eventually(async () => !cache.usable, 5_000, 'cache disabled', 10)
      assert.equal(cache.size, 0)
      // While it is down nothing is kept, so a change made meanwhile cannot be missed.
      await other.set(keys[0] ?? '', 'v2')
      await eventually(async () => cache.usable, 5_000, 'tracking re-established', 10)
      if (victim === 'subscriber') assert.notEqual(cache.subscriberId, id)
      assert.equal(await readGet(keys[0] ?? ''), 'v2')
      await other.set(keys[0] ?? '', 'v3')
      await dropped(keys[0] ?? '', 'invalidations flow again')
    })
  }
})

describe('stores with the tracked cache', () => {
  const { redis, prefix, cleanup } = testRedis()
  let cacheA: TrackedCache
  let cacheB: TrackedCache
  let a: RedisSessionStore
  let b: RedisSessionStore
  before(async () => {
    // Two instances on one Redis and prefix, each with its own cache.
    cacheA = await trackedCache(prefix)
    cacheB = await trackedCache(prefix)
    a = new RedisSessionStore(redis, cacheA)
    b = new RedisSessionStore(redis, cacheB)
  })
  after(async () => {
    await Promise.all([cacheA.close(), cacheB.close()])
    await cleanup()
  })

  function newSession(): { digest: string; session: SessionRecord } {
    const now = Date.now()
    return {
      digest: randomBytes(32).toString('hex'),
      session: {
        id: `sess_${randomBytes(6).toString('hex')}`,
        accountId: `acct_${randomBytes(6).toString('hex')}`,
        login: 'alice@example.com',
        twoFactorEnabled: false,
        twoFactorRequiredBy: null,
        createdAt: now,
        lastSeenAt: now,
        absoluteExpiresAt: now + hour,
        ip: null,
        userAgent: null,
      },
    }
  }

  test('a cached session is served with no Redis command', async () => {
    const { digest, session } = newSession()
    await a.create(digest, session, hour)
    assert.equal((await b.authenticate(digest, Date.now(), hour, 60_000))?.id, session.id)
    const sentMain = recordCommands(redis)
    const sentTracked = recordCommands(cacheB.reader)
    try {
      for (let i = 0; i < 5; i++) assert.equal((await b.authenticate(digest, Date.now(), hour, 60_000))?.id, session.id)
    } finally {
      sentMain.stop()
      sentTracked.stop()
    }
    assert.deepEqual([...sentMain.names, ...sentTracked.names], [])
  })

  /** `rounds` rounds over 8 parallel workers; returns how many saw a stale answer. */
  async function rounds(count: number, round: (i: number) => Promise<boolean>): Promise<number> {
    let next = 0
    let stale = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) if (await round(next++)) stale++
      }),
    )
    return stale
  }

  test('a session revoked through one instance is refused by the other on its very next call', async () => {
    const kinds = ['remove', 'revoke', 'setTwoFactorEnabled'] as const
    let cached = 0
    const stale = await rounds(450, async (i) => {
      const revoke = kinds[i % kinds.length]
      const { digest, session } = newSession()
      await a.create(digest, session, hour)
      await b.authenticate(digest, Date.now(), hour, 60_000)
      if (cacheB.space<SessionRecord>().has(redisKeys.session(digest))) cached++
      if (revoke === 'remove') await a.remove(session.accountId, digest)
      else if (revoke === 'revoke') await a.revoke(session.accountId, '*', null)
      else await a.setTwoFactorEnabled(session.accountId, true)
      const seen = await b.authenticate(digest, Date.now(), hour, 60_000)
      return revoke === 'setTwoFactorEnabled' ? seen?.twoFactorEnabled !== true : seen !== null
    })
    assert.equal(stale, 0, `${stale} stale answers in 450 rounds`)
    // The rounds did test the cache: B held nearly every session before it was revoked.
    assert.ok(cached > 400, `only ${cached} of 450 sessions were cached on B`)
  })

  test('idle and absolute expiry are judged at call time on a cached session', async () => {
    const { digest, session } = newSession()
    await a.create(digest, session, hour)
    await b.authenticate(digest, session.lastSeenAt, hour, 60_000)
    assert.equal(await b.authenticate(digest, session.lastSeenAt + hour, hour, 60_000), null)
    const again = newSession()
    await a.create(again.digest, again.session, hour * 2)
    await b.authenticate(again.digest, again.session.lastSeenAt, hour * 2, hour * 2)
    assert.equal(await b.authenticate(again.digest, again.session.absoluteExpiresAt, hour * 2, hour * 2), null)
  })

  test('a cached token is dropped everywhere by an eviction elsewhere, on the very next call', async () => {
    const tokensA = new RedisTokenCacheStore(redis, cacheA)
    const tokensB = new RedisTokenCacheStore(redis, cacheB)
    try {
      const use = { at: Date.now(), ip: '192.0.2.1' }
      let cached = 0
      const stale = await rounds(400, async (i) => {
        const digest = randomBytes(32).toString('hex')
        const token = {
          id: `t${i}`,
          accountId: 'a1',
          login: 'l',
          twoFactorEnabled: false,
          apiList: null,
          expiresAt: null,
          twoFactorRequiredBy: null,
          locked: false,
        }
        await tokensA.put(digest, token, hour)
        await tokensB.lookup(digest, use, 60_000)
        if (cacheB.space().has(redisKeys.token(digest))) cached++
        await tokensA.evict([digest])
        return (await tokensB.lookup(digest, use, 60_000)) !== null
      })
      assert.equal(stale, 0, `${stale} stale answers in 400 rounds`)
      assert.ok(cached > 350, `only ${cached} of 400 tokens were cached on B`)
    } finally {
      await Promise.all([tokensA.close(), tokensB.close()])
    }
  })
})
