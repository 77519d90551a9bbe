import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { credentialDigest } from '../../src/domain/credentials.js'
import type { CachedToken, TokenCacheStore } from '../../src/store/ports/index.js'
import { MemoryTokenCacheStore } from '../../src/store/memory/token-cache.js'
import { redisKeys } from '../../src/store/redis/keys.js'
import { tokenUseTtlMs } from '../../src/store/redis/lifetimes.js'
import { RedisTokenCacheStore } from '../../src/store/redis/token-cache.js'
import { assertUnavailableFast, recordCommands, testRedis, unreachableRedis } from '../support/redis.js'
import { contractSuite, memoryAdapter, redisAdapters, trackedRedisAdapters } from '../support/contract.js'
import { sleep } from '../support/calls.js'

const minute = 60_000
const newDigest = () => credentialDigest(randomBytes(32).toString('hex'))
const use = (at: number, ip = '198.51.100.4') => ({ at, ip })

function cachedToken(overrides: Partial<CachedToken> = {}): CachedToken {
  return {
    id: `tok_${randomBytes(6).toString('hex')}`,
    accountId: `acct_${randomBytes(6).toString('hex')}`,
    login: 'alice@example.com',
    twoFactorEnabled: true,
    twoFactorRequiredBy: null,
    locked: false,
    apiList: ['GetSession', 'environment.*'],
    expiresAt: Date.now() + 86_400_000,
    ...overrides,
  }
}

function tokenCacheContract(subject: () => TokenCacheStore): void {
  let store: TokenCacheStore
  before(() => {
    store = subject()
  })

  test('unknown marks: remembered for their ttl, cleared on demand, apart from cached tokens', async () => {
    const digest = newDigest()
    assert.equal(await store.isUnknown(digest), false)
    await store.putUnknown(digest, 150)
    assert.equal(await store.isUnknown(digest), true)
    assert.equal(await store.lookup(digest, use(Date.now()), minute), null)
    await sleep(250)
    assert.equal(await store.isUnknown(digest), false, 'the mark lapses')
    await store.putUnknown(digest, minute)
    await store.clearUnknown([digest, newDigest()])
    assert.equal(await store.isUnknown(digest), false)
    await store.clearUnknown([])
    await assert.rejects(store.putUnknown(digest, 0), RangeError)
  })

  test('lookup misses an uncached digest and records no use', async () => {
    const digest = newDigest()
    assert.equal(await store.lookup(digest, use(Date.now()), minute), null)
    assert.equal((await store.lastUses([digest])).size, 0)
  })

  test('put then lookup hits with the token as stored', async () => {
    const digest = newDigest()
    const token = cachedToken()
    await store.put(digest, token, minute)
    const hit = await store.lookup(digest, use(Date.now()), minute)
    assert.deepEqual(hit?.token, token)
    const open = cachedToken({ apiList: null, expiresAt: null, twoFactorEnabled: false })
    const other = newDigest()
    await store.put(other, open, minute)
    assert.deepEqual((await store.lookup(other, use(Date.now()), minute))?.token, open)
    const locked = cachedToken({ locked: true, twoFactorRequiredBy: Date.now() - 1 })
    const third = newDigest()
    await store.put(third, locked, minute)
    assert.deepEqual((await store.lookup(third, use(Date.now()), minute))?.token, locked)
  })

  test('a lookup result is a copy', async () => {
    const digest = newDigest()
    const token = cachedToken()
    await store.put(digest, token, minute)
    token.apiList?.push('Mutated')
    const first = await store.lookup(digest, use(Date.now()), minute)
    first?.token.apiList?.push('AlsoMutated')
    assert.deepEqual((await store.lookup(digest, use(Date.now()), minute))?.token.apiList, [
      'GetSession',
      'environment.*',
    ])
  })

  test('flushDue is true on the first use, then not until the period has passed', async () => {
    const digest = newDigest()
    await store.put(digest, cachedToken(), minute)
    assert.equal((await store.lookup(digest, use(Date.now()), 200))?.flushDue, true)
    assert.equal((await store.lookup(digest, use(Date.now()), 200))?.flushDue, false)
    await sleep(300)
    assert.equal((await store.lookup(digest, use(Date.now()), 200))?.flushDue, true)
    assert.equal((await store.lookup(digest, use(Date.now()), 200))?.flushDue, false)
  })

  test('flushDue is true exactly once per period under 20 parallel lookups', async () => {
    const digest = newDigest()
    await store.put(digest, cachedToken(), minute)
    const first = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.lookup(digest, use(Date.now() + i), 200)),
    )
    assert.equal(first.filter((r) => r?.flushDue === true).length, 1)
    assert.equal(first.filter((r) => r === null).length, 0)
    await sleep(300)
    const second = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.lookup(digest, use(Date.now() + i), 200)),
    )
    assert.equal(second.filter((r) => r?.flushDue === true).length, 1)
  })

  test('flush periods are per token', async () => {
    const a = newDigest()
    const b = newDigest()
    await store.put(a, cachedToken(), minute)
    await store.put(b, cachedToken(), minute)
    assert.equal((await store.lookup(a, use(Date.now()), minute))?.flushDue, true)
    assert.equal((await store.lookup(b, use(Date.now()), minute))?.flushDue, true)
  })

  test('evict takes effect at once', async () => {
    const [a, b, c] = [newDigest(), newDigest(), newDigest()]
    for (const digest of [a, b, c]) await store.put(digest, cachedToken(), minute)
    assert.notEqual(await store.lookup(a, use(Date.now()), minute), null)
    await store.evict([a, b, newDigest()])
    assert.equal(await store.lookup(a, use(Date.now()), minute), null)
    assert.equal(await store.lookup(b, use(Date.now()), minute), null)
    assert.notEqual(await store.lookup(c, use(Date.now()), minute), null)
    await store.evict([])
  })

  test('a put right after an eviction does not bring the token back (stale load)', async () => {
    const digest = newDigest()
    await store.put(digest, cachedToken(), minute)
    await store.evict([digest])
    await store.put(digest, cachedToken(), minute)
    assert.equal(await store.lookup(digest, use(Date.now()), minute), null)
  })

  test('a cached token expires after its ttl', async () => {
    const digest = newDigest()
    await store.put(digest, cachedToken(), 150)
    assert.notEqual(await store.lookup(digest, use(Date.now()), minute), null)
    await sleep(250)
    assert.equal(await store.lookup(digest, use(Date.now()), minute), null)
  })

  test('lastUses reports the freshest use of each digest', async () => {
    const [a, b, never] = [newDigest(), newDigest(), newDigest()]
    await store.put(a, cachedToken(), minute)
    await store.put(b, cachedToken(), minute)
    const t = Date.now()
    await store.lookup(a, use(t, '192.0.2.1'), minute)
    await store.lookup(a, use(t + 2_000, '2001:db8::7'), minute)
    await store.lookup(a, use(t + 1_000, '192.0.2.3'), minute)
    await store.lookup(b, use(t + 5, '192.0.2.9'), minute)
    const uses = await store.lastUses([a, b, never])
    assert.deepEqual(
      uses,
      new Map([
        [a, { at: t + 2_000, ip: '2001:db8::7' }],
        [b, { at: t + 5, ip: '192.0.2.9' }],
      ]),
    )
    assert.equal((await store.lastUses([])).size, 0)
  })

  test('uses stay readable after the token leaves the cache', async () => {
    const digest = newDigest()
    await store.put(digest, cachedToken(), minute)
    const t = Date.now()
    await store.lookup(digest, use(t), minute)
    await store.evict([digest])
    assert.deepEqual((await store.lastUses([digest])).get(digest), use(t))
  })
}

contractSuite(
  'TokenCacheStore',
  [
    ...redisAdapters((redis) => new RedisTokenCacheStore(redis)),
    ...trackedRedisAdapters((redis, cache) => new RedisTokenCacheStore(redis, cache)),
    memoryAdapter(
      () => new MemoryTokenCacheStore(),
      (store) => store.close(),
    ),
  ],
  tokenCacheContract,
)

describe('TokenCacheStore on Redis', () => {
  const { redis, cleanup } = testRedis()
  const store = new RedisTokenCacheStore(redis)
  after(cleanup)

  test('lookup is one round trip, hit or miss', async () => {
    const digest = newDigest()
    await store.put(digest, cachedToken(), minute)
    const sent = recordCommands(redis)
    try {
      await store.lookup(digest, use(Date.now()), minute)
      await store.lookup(newDigest(), use(Date.now()), minute)
    } finally {
      sent.stop()
    }
    assert.deepEqual(sent.names, ['evalsha', 'evalsha'])
  })

  test('the token, its use record and its flush marker carry TTLs', async () => {
    const digest = newDigest()
    await store.put(digest, cachedToken(), minute)
    await store.lookup(digest, use(Date.now()), 30_000)
    await store.evict([newDigest()])
    const expected: Array<[string, number]> = [
      [redisKeys.token(digest), minute],
      [redisKeys.tokenUse(digest), tokenUseTtlMs],
      [redisKeys.tokenFlush(digest), 30_000],
    ]
    for (const [key, max] of expected) {
      const ttl = await redis.pttl(key)
      assert.ok(ttl > max - 5_000 && ttl <= max, `${key}: PTTL ${ttl}`)
    }
  })

  test('with Redis unreachable every call fails fast with StoreUnavailableError', async () => {
    const down = unreachableRedis()
    try {
      const offline = new RedisTokenCacheStore(down)
      const digest = newDigest()
      await assertUnavailableFast(() => offline.lookup(digest, use(Date.now()), minute))
      await assertUnavailableFast(() => offline.put(digest, cachedToken(), minute))
      await assertUnavailableFast(() => offline.evict([digest]))
      await assertUnavailableFast(() => offline.lastUses([digest]))
      await assertUnavailableFast(() => offline.isUnknown(digest))
      await assertUnavailableFast(() => offline.putUnknown(digest, minute))
      await assertUnavailableFast(() => offline.clearUnknown([digest]))
    } finally {
      down.disconnect()
    }
  })
})
