import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Cluster } from 'ioredis'
import type { SessionRecord } from '../../src/store/ports/index.js'
import type { RedisClient } from '../../src/store/redis/connection.js'
import { keySlot } from '../../src/store/redis/key-slot.js'
import { redisKeys } from '../../src/store/redis/keys.js'
import { RedisSessionStore } from '../../src/store/redis/sessions.js'
import { RedisTokenCacheStore } from '../../src/store/redis/token-cache.js'
import {
  afterPendingIo,
  type CacheSpace,
  type NodeTracker,
  type TrackedCache,
} from '../../src/store/redis/tracked-cache.js'
import { eventually, sleep } from '../support/calls.js'
import { onTrackedNode, recordCommands, testRedis, trackedCache } from '../support/redis.js'
import { useTestCluster } from '../support/redis-cluster.js'

/**
 * The in-process cache kept by Redis's client tracking: every change another client makes to a
 * key this cache read drops the entry, and losing any connection drops everything. The same cases
 * run on one Redis and on a three-master Redis Cluster (a tracked connection per master), then the
 * cluster's own: routing by slot, resharding, a refreshed slot map and a killed master.
 */

const key = () => `lk:{x:${randomBytes(8).toString('hex')}}`
const hour = 3_600_000

const testCluster = useTestCluster()

interface Deployment {
  name: string
  /** A client whose keys carry `prefix` (a fresh one unless given): another instance, or the cache's own. */
  client(prefix?: string): { redis: RedisClient; prefix: string; cleanup(): Promise<void> }
}

const deployments: readonly Deployment[] = [
  { name: 'one Redis', client: (prefix) => testRedis(prefix) },
  { name: 'a Redis Cluster', client: (prefix) => testCluster.client(prefix) },
]

/** At least `count` fresh keys, and at least one on every node the cache tracks. */
function keysOnEveryNode(cache: TrackedCache, count: number): string[] {
  const keys: string[] = []
  const missing = new Set<NodeTracker | undefined>(cache.trackers)
  while (keys.length < count || missing.size > 0) {
    const k = key()
    const tracker = cache.trackerFor(k)
    if (keys.length < count || missing.has(tracker)) keys.push(k)
    missing.delete(tracker)
  }
  return keys
}

/** What `openCache` opens; set in its `before` hook, so read it inside tests only. */
class OpenedCache {
  /** Another instance's client, writing under the same prefix. */
  other!: RedisClient
  /** The cache's own instance's client (on a cluster, the client the cache follows). */
  own!: RedisClient
  prefix!: string
  cache!: TrackedCache
  space!: CacheSpace<string>
}

/**
 * A confirmed cache for the enclosing describe, under a fresh prefix or `sharePrefix()`'s (read
 * in the hook, so it may be another openCache's), with a second client writing there.
 */
function openCache(deployment: Deployment, sharePrefix?: () => string) {
  const opened = new OpenedCache()
  const cleanups: Array<() => Promise<void>> = []
  before(async () => {
    const other = deployment.client(sharePrefix?.())
    const own = deployment.client(other.prefix)
    cleanups.push(other.cleanup, own.cleanup)
    opened.cache = await trackedCache(other.prefix, own.redis)
    cleanups.unshift(() => opened.cache.close())
    opened.other = other.redis
    opened.own = own.redis
    opened.prefix = other.prefix
    opened.space = opened.cache.space()
  })
  after(async () => {
    for (const cleanup of cleanups) await cleanup()
  })
  /** Reads `k` through the cache with a plain GET and keeps what it found. */
  const readGet = (k: string) =>
    opened.space.readThrough(
      k,
      (reader) => reader.get(k),
      (value) => value,
    )
  const dropped = (k: string, what: string) => eventually(async () => !opened.space.has(k), 5_000, what, 10)
  return { opened, readGet, dropped }
}

for (const deployment of deployments) {
  describe(`TrackedCache on ${deployment.name}`, () => {
    const { opened: t, readGet, dropped } = openCache(deployment)

    test('a plain read is kept, and served with no round trip', async () => {
      const k = key()
      await t.other.set(k, 'v1', 'PX', hour)
      assert.equal(await readGet(k), 'v1')
      assert.equal(t.space.get(k), 'v1')
    })

    for (const [change, apply] of [
      ['SET', (r: RedisClient, k: string) => r.set(k, 'v2')],
      ['DEL', (r: RedisClient, k: string) => r.del(k)],
      ['HSET', (r: RedisClient, k: string) => r.hset(k, 'f', 'v2')],
      ['PEXPIRE', (r: RedisClient, k: string) => r.pexpire(k, hour * 2)],
    ] as const) {
      test(`${change} by another client drops the entry`, async () => {
        const k = key()
        if (change === 'HSET') {
          await t.other.hset(k, 'f', 'v1')
          await t.space.readThrough(
            k,
            (reader) => reader.hget(k, 'f'),
            (value) => value,
          )
        } else {
          await t.other.set(k, 'v1', 'PX', hour)
          await readGet(k)
        }
        assert.ok(t.space.has(k))
        await apply(t.other, k)
        await dropped(k, `${change} invalidates`)
      })
    }

    test('expiry in Redis drops the entry', async () => {
      const k = key()
      await t.other.set(k, 'v1', 'PX', 50)
      await readGet(k)
      await sleep(80)
      await t.other.exists(k) // expires it now rather than at the next expiry cycle
      await dropped(k, 'expiry invalidates')
    })

    test('a key read inside a Lua script is tracked too', async () => {
      const k = key()
      await t.other.set(k, 'v1', 'PX', hour)
      await t.space.readThrough(
        k,
        (reader) => reader.eval("return redis.call('GET', KEYS[1])", 1, k) as Promise<string>,
        (value) => value,
      )
      assert.equal(t.space.get(k), 'v1')
      await t.other.set(k, 'v2')
      await dropped(k, 'invalidated after a script read')
    })

    test('an absent key is kept as known absent, until it is created', async () => {
      const k = key()
      await readGet(k)
      assert.equal(t.space.get(k), null)
      await t.other.set(k, 'v1', 'PX', hour)
      await dropped(k, 'creating it invalidates')
    })

    test('a read whose key changes while it is in flight is not kept', async () => {
      const k = key()
      await t.other.set(k, 'v1', 'PX', hour)
      const value = await t.space.readThrough(
        k,
        async (reader) => {
          const read = await reader.get(k)
          await t.other.set(k, 'v2')
          // The invalidation has left the key's node once the fence answers; the yield applies it.
          await t.cache.fence(t.other, [k])
          await afterPendingIo()
          return read
        },
        (v) => v,
      )
      assert.equal(value, 'v1')
      assert.equal(t.space.has(k), false)
    })

    test('the writer drops its own entry at once', async () => {
      const k = key()
      await t.other.set(k, 'v1', 'PX', hour)
      await readGet(k)
      t.space.drop(k)
      assert.equal(t.space.has(k), false)
    })

    for (const victim of ['subscriber', 'tracked'] as const) {
      test(`killing one node's ${victim} connection drops the whole cache until tracking is back`, async () => {
        const keys = keysOnEveryNode(t.cache, 2)
        const [first = ''] = keys
        for (const k of keys) {
          await t.other.set(k, 'v1', 'PX', hour)
          await readGet(k)
        }
        assert.ok(keys.every((k) => t.space.has(k)))
        const tracker = t.cache.trackerFor(first)
        assert.ok(tracker !== undefined)
        const id = victim === 'subscriber' ? tracker.subscriberId : String(await tracker.reader.client('ID'))
        assert.ok(id !== null)
        await onTrackedNode(tracker, (node) => node.client('KILL', 'ID', id))
        await eventually(async () => !t.cache.usable, 5_000, 'cache disabled', 10)
        assert.equal(t.cache.size, 0)
        // While it is down nothing is kept, so a change made meanwhile cannot be missed.
        await t.other.set(first, 'v2')
        await eventually(async () => t.cache.usable, 5_000, 'tracking re-established', 10)
        if (victim === 'subscriber') assert.notEqual(tracker.subscriberId, id)
        assert.equal(await readGet(first), 'v2')
        await t.other.set(first, 'v3')
        await dropped(first, 'invalidations flow again')
      })
    }
  })

  describe(`stores with the tracked cache on ${deployment.name}`, () => {
    // Two instances on one Redis (or cluster) and prefix, each with its own client and cache.
    const a = openCache(deployment).opened
    const b = openCache(deployment, () => a.prefix).opened
    let sessionsA: RedisSessionStore
    let sessionsB: RedisSessionStore
    before(() => {
      sessionsA = new RedisSessionStore(a.own, a.cache)
      sessionsB = new RedisSessionStore(b.own, b.cache)
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
      await sessionsA.create(digest, session, hour)
      assert.equal((await sessionsB.authenticate(digest, Date.now(), hour, 60_000))?.id, session.id)
      const sent = [b.own, ...b.cache.trackers.map((tracker) => tracker.reader)].map((client) => recordCommands(client))
      try {
        for (let i = 0; i < 5; i++)
          assert.equal((await sessionsB.authenticate(digest, Date.now(), hour, 60_000))?.id, session.id)
      } finally {
        for (const recorder of sent) recorder.stop()
      }
      assert.deepEqual(
        sent.flatMap((recorder) => recorder.names),
        [],
      )
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
        await sessionsA.create(digest, session, hour)
        await sessionsB.authenticate(digest, Date.now(), hour, 60_000)
        if (b.cache.space<SessionRecord>().has(redisKeys.session(digest))) cached++
        if (revoke === 'remove') await sessionsA.remove(session.accountId, digest)
        else if (revoke === 'revoke') await sessionsA.revoke(session.accountId, '*', null)
        else await sessionsA.setTwoFactorEnabled(session.accountId, true)
        const seen = await sessionsB.authenticate(digest, Date.now(), hour, 60_000)
        return revoke === 'setTwoFactorEnabled' ? seen?.twoFactorEnabled !== true : seen !== null
      })
      assert.equal(stale, 0, `${stale} stale answers in 450 rounds`)
      // The rounds did test the cache: B held nearly every session before it was revoked.
      assert.ok(cached > 400, `only ${cached} of 450 sessions were cached on B`)
    })

    test('idle and absolute expiry are judged at call time on a cached session', async () => {
      const { digest, session } = newSession()
      await sessionsA.create(digest, session, hour)
      await sessionsB.authenticate(digest, session.lastSeenAt, hour, 60_000)
      assert.equal(await sessionsB.authenticate(digest, session.lastSeenAt + hour, hour, 60_000), null)
      const again = newSession()
      await sessionsA.create(again.digest, again.session, hour * 2)
      await sessionsB.authenticate(again.digest, again.session.lastSeenAt, hour * 2, hour * 2)
      assert.equal(
        await sessionsB.authenticate(again.digest, again.session.absoluteExpiresAt, hour * 2, hour * 2),
        null,
      )
    })

    test('a cached token is dropped everywhere by an eviction elsewhere, on the very next call', async () => {
      const tokensA = new RedisTokenCacheStore(a.own, a.cache)
      const tokensB = new RedisTokenCacheStore(b.own, b.cache)
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
          if (b.cache.space().has(redisKeys.token(digest))) cached++
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
}

describe('TrackedCache on a Redis Cluster: routing and topology', () => {
  const cluster = deployments[1] ?? { name: '', client: testCluster.client }
  const { opened: t, readGet, dropped } = openCache(cluster)
  const portOf = (tracker: NodeTracker | undefined) => tracker?.reader.options.port
  /** A fresh key whose slot the cache maps to a master other than the one on `port`. */
  const keyOffNode = (port: number) => {
    for (;;) {
      const k = key()
      if (portOf(t.cache.trackerFor(k)) !== port) return k
    }
  }

  test('the slot of a prefixed key is the one Redis computes', async () => {
    const samples: Array<[string, string]> = [
      ['', 'somekey'],
      ['', 'foo{hash_tag}'],
      ['', 'foo{}{bar}'],
      ['', 'foo{{bar}}zap'],
      ['', 'foo{bar}{zap}'],
      ['', '{}'],
      ['', '{'],
      ['', ''],
      ['{pre}:', 'lk:{s:abc}'],
      ['pre{', '}lk:{s:abc}'],
      ['pré:', 'lk:{s:ünïcödé}'],
      ['', 'clé{🔑}'],
      ['', 'lone\ud800surrogate'],
      [t.prefix, redisKeys.session(randomBytes(32).toString('hex'))],
      [t.prefix, redisKeys.token(randomBytes(32).toString('hex'))],
    ]
    for (let i = 0; i < 50; i++) samples.push([t.prefix, key()], ['', randomBytes(12).toString('latin1')])
    const [tracker] = t.cache.trackers
    assert.ok(tracker !== undefined)
    await onTrackedNode(tracker, async (node) => {
      for (const [prefix, k] of samples)
        assert.equal(keySlot(prefix, k), Number(await node.call('CLUSTER', 'KEYSLOT', prefix + k)), `${prefix}${k}`)
    })
  })

  test('keys on every master are read from their own master, kept, and invalidated by it', async () => {
    assert.equal(t.cache.trackers.length, 3)
    const keys = keysOnEveryNode(t.cache, 3)
    for (const k of keys) {
      assert.equal(portOf(t.cache.trackerFor(k)), await testCluster.cluster.ownerOf(keySlot(t.prefix, k)))
      await t.other.set(k, 'v1', 'PX', hour)
      assert.equal(await readGet(k), 'v1')
    }
    assert.ok(keys.every((k) => t.space.has(k)))
    for (const k of keys) {
      await t.other.set(k, 'v2')
      await dropped(k, 'invalidated by its master')
    }
  })

  test('a slot moved to another master: its keys are dropped, a read answered MOVED is not kept, the cache follows', async () => {
    // The target holds the highest epoch, so the move raises none: only MIGRATE and MOVED tell.
    const target = await testCluster.cluster.highestEpochMaster()
    const k = keyOffNode(target)
    await t.other.set(k, 'v1', 'PX', hour)
    await readGet(k)
    assert.ok(t.space.has(k))
    await testCluster.cluster.migrateSlot(keySlot(t.prefix, k), target)
    await dropped(k, 'MIGRATE invalidates the key on its old master')
    assert.notEqual(portOf(t.cache.trackerFor(k)), target, 'the cache still maps the slot to the old master')
    assert.equal(await readGet(k), 'v1')
    assert.equal(t.space.has(k), false, 'a read the old master answered MOVED was kept')
    await eventually(
      async () => t.cache.usable && portOf(t.cache.trackerFor(k)) === target,
      5_000,
      'the cache maps the slot to its new master',
      10,
    )
    assert.equal(await readGet(k), 'v1')
    assert.ok(t.space.has(k))
    await t.other.set(k, 'v2')
    await dropped(k, 'invalidated by its new master')
  })

  test("a refresh of the cluster client's slot map that changes it drops the whole cache", async () => {
    const target = await testCluster.cluster.highestEpochMaster()
    const kept = key()
    await t.other.set(kept, 'v1', 'PX', hour)
    await readGet(kept)
    let moved = keyOffNode(target)
    while (keySlot(t.prefix, moved) === keySlot(t.prefix, kept)) moved = keyOffNode(target)
    await testCluster.cluster.migrateSlot(keySlot(t.prefix, moved), target)
    // Nothing this cache holds was in that slot and no epoch moved: it has not noticed yet.
    assert.ok(t.space.has(kept))
    assert.ok(t.own instanceof Cluster)
    t.own.refreshSlotsCache()
    await dropped(kept, 'the changed map drops everything')
    await eventually(async () => t.cache.usable, 5_000, 'usable again', 10)
    assert.equal(portOf(t.cache.trackerFor(moved)), target)
  })

  // Last: it breaks the cluster for this file.
  test('a killed master: the whole cache is dropped and stays off while the master is down', async () => {
    const keys = keysOnEveryNode(t.cache, 3)
    for (const k of keys) {
      await t.other.set(k, 'v1', 'PX', hour)
      await readGet(k)
    }
    assert.ok(keys.every((k) => t.space.has(k)))
    const victim = t.cache.trackerFor(keys[0] ?? '')
    await testCluster.cluster.kill(portOf(victim) ?? 0)
    await eventually(async () => !t.cache.usable, 5_000, 'cache disabled', 10)
    assert.equal(t.cache.size, 0)
    // A key on a live master is still read, around the cache, and not kept.
    const live = keys.find((k) => t.cache.trackerFor(k) !== victim) ?? ''
    assert.equal(await readGet(live), 'v1')
    assert.equal(t.space.has(live), false)
    assert.equal(t.cache.usable, false)
  })
})
