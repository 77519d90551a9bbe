import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { CounterRule, LimitStore } from '../../src/store/ports/index.js'
import { MemoryLimitStore } from '../../src/store/memory/limits.js'
import { redisKeys } from '../../src/store/redis/keys.js'
import { RedisLimitStore } from '../../src/store/redis/limits.js'
import { assertEveryKeyExpires, assertUnavailableFast, sleep, testRedis, unreachableRedis } from '../support/redis.js'

interface Subject {
  store: LimitStore
  close(): Promise<void>
}

const minute = 60_000
const newKey = (stem: string) => `${stem}:${randomBytes(8).toString('hex')}`
const rule = (limit: number, windowMs: number): CounterRule => ({ key: newKey('rule'), limit, windowMs })
const escalation = { threshold: 3, windowMs: minute, baseMs: 100, maxMs: 1_000 }

async function hits(store: LimitStore, rules: CounterRule[], times: number): Promise<void> {
  for (let i = 0; i < times; i++) await store.hit(rules)
}

function limitStoreContract(adapter: string, open: () => Subject): void {
  describe(`LimitStore contract (${adapter})`, () => {
    let subject: Subject
    let store: LimitStore
    before(() => {
      subject = open()
      store = subject.store
    })
    after(() => subject.close())

    test('nothing counted, nothing blocked', async () => {
      assert.equal(await store.blockedFor([]), 0)
      assert.equal(await store.blockedFor([rule(1, minute)]), 0)
      await store.hit([])
      await store.reset([])
    })

    test('a rule blocks once its count reaches the limit, for the rest of its window', async () => {
      const r = rule(3, minute)
      await hits(store, [r], 2)
      assert.equal(await store.blockedFor([r]), 0)
      await store.hit([r])
      const blocked = await store.blockedFor([r])
      assert.ok(blocked > minute - 5_000 && blocked <= minute, `blockedFor ${blocked}`)
      await store.hit([r])
      assert.ok((await store.blockedFor([r])) <= blocked, 'hits past the limit do not extend the window')
    })

    test('blockedFor is the longest wait among the rules at or past their limit', async () => {
      const short = rule(1, minute)
      const long = rule(1, 5 * minute)
      const under = rule(5, 10 * minute)
      await store.hit([short, long, under])
      const blocked = await store.blockedFor([short, long, under])
      assert.ok(blocked > 5 * minute - 5_000 && blocked <= 5 * minute, `blockedFor ${blocked}`)
      const onlyShort = await store.blockedFor([short, under])
      assert.ok(onlyShort > minute - 5_000 && onlyShort <= minute, `blockedFor ${onlyShort}`)
      assert.equal(await store.blockedFor([under]), 0)
    })

    test('the window is fixed from the first failure and then starts over', async () => {
      const r = rule(2, 300)
      await store.hit([r])
      await sleep(150)
      await store.hit([r])
      const blocked = await store.blockedFor([r])
      assert.ok(blocked > 0 && blocked <= 160, `window not restarted by the second hit: ${blocked}`)
      await sleep(blocked + 50)
      assert.equal(await store.blockedFor([r]), 0)
      await store.hit([r])
      assert.equal(await store.blockedFor([r]), 0, 'a new window counts from zero')
    })

    test('reset clears counters', async () => {
      const a = rule(1, minute)
      const b = rule(1, minute)
      await store.hit([a, b])
      await store.reset([a.key])
      assert.equal(await store.blockedFor([a]), 0)
      assert.ok((await store.blockedFor([b])) > 0)
      await store.hit([a])
      assert.ok((await store.blockedFor([a])) > 0, 'counting starts again after a reset')
    })

    test('hit counts every rule it is given', async () => {
      const rules = [rule(10, minute), rule(100, minute), rule(3, minute)]
      await hits(store, rules, 3)
      assert.ok((await store.blockedFor(rules)) > 0)
      assert.equal(await store.blockedFor(rules.slice(0, 2)), 0)
    })

    test('parallel hits are all counted', async () => {
      const r = rule(20, minute)
      await Promise.all(Array.from({ length: 19 }, () => store.hit([r])))
      assert.equal(await store.blockedFor([r]), 0)
      await store.hit([r])
      assert.ok((await store.blockedFor([r])) > 0)
    })

    test('escalating lock: none below the threshold, then doubling up to the maximum', async () => {
      const key = newKey('acct')
      const locks: number[] = []
      for (let i = 0; i < 8; i++) locks.push(await store.hitEscalating(key, escalation))
      assert.deepEqual(locks, [0, 0, 100, 200, 400, 800, 1_000, 1_000])
      const left = await store.lockedFor(key)
      assert.ok(left > 900 && left <= 1_000, `lockedFor ${left}`)
    })

    test('escalating lock lifts after its time', async () => {
      const key = newKey('acct')
      for (let i = 0; i < 3; i++) await store.hitEscalating(key, escalation)
      assert.ok((await store.lockedFor(key)) > 0)
      await sleep(150)
      assert.equal(await store.lockedFor(key), 0)
    })

    test('escalating lock: reset lifts the lock and restarts the count', async () => {
      const key = newKey('acct')
      for (let i = 0; i < 4; i++) await store.hitEscalating(key, escalation)
      assert.ok((await store.lockedFor(key)) > 0)
      await store.reset([key])
      assert.equal(await store.lockedFor(key), 0)
      assert.equal(await store.hitEscalating(key, escalation), 0)
      assert.equal(await store.hitEscalating(key, escalation), 0)
      assert.equal(await store.hitEscalating(key, escalation), 100)
    })

    test('escalating count only spans failures within its window', async () => {
      const key = newKey('acct')
      const rule = { ...escalation, windowMs: 200 }
      await store.hitEscalating(key, rule)
      await store.hitEscalating(key, rule)
      await sleep(300)
      assert.equal(await store.hitEscalating(key, rule), 0)
    })

    test('escalating count outlives its lock, so the next failure doubles again', async () => {
      const key = newKey('acct')
      const rule = { threshold: 1, windowMs: 100, baseMs: 150, maxMs: 10_000 }
      assert.equal(await store.hitEscalating(key, rule), 150)
      await sleep(200)
      assert.equal(await store.lockedFor(key), 0)
      assert.equal(await store.hitEscalating(key, rule), 300)
    })

    test('parallel escalating failures each count once', async () => {
      const key = newKey('acct')
      const locks = await Promise.all(Array.from({ length: 6 }, () => store.hitEscalating(key, escalation)))
      assert.deepEqual(
        locks.sort((a, b) => a - b),
        [0, 0, 100, 200, 400, 800],
      )
    })

    test('plain counters and escalating locks on one key are independent', async () => {
      const key = newKey('shared')
      await store.hit([{ key, limit: 1, windowMs: minute }])
      assert.equal(await store.lockedFor(key), 0)
      assert.equal(await store.hitEscalating(key, escalation), 0)
    })
  })
}

limitStoreContract('redis', () => {
  const { redis, prefix, cleanup } = testRedis()
  return {
    store: new RedisLimitStore(redis),
    // Checked at the end of the suite: every key it left behind must carry a TTL.
    close: async () => {
      try {
        await assertEveryKeyExpires(redis, prefix)
      } finally {
        await cleanup()
      }
    },
  }
})

limitStoreContract('memory', () => {
  const store = new MemoryLimitStore()
  return { store, close: async () => store.close() }
})

describe('LimitStore on Redis', () => {
  const { redis, cleanup } = testRedis()
  const store = new RedisLimitStore(redis)
  after(cleanup)

  test('counters and locks carry TTLs', async () => {
    const r = rule(5, minute)
    await store.hit([r])
    const key = newKey('acct')
    for (let i = 0; i < 3; i++) await store.hitEscalating(key, escalation)
    for (const k of [redisKeys.counter(r.key), redisKeys.escalatingCount(key), redisKeys.escalatingLock(key)]) {
      const ttl = await redis.pttl(k)
      assert.ok(ttl > 0 && ttl <= minute + escalation.maxMs, `${k}: PTTL ${ttl}`)
    }
  })

  test('with Redis unreachable every call fails fast with StoreUnavailableError', async () => {
    const down = unreachableRedis()
    try {
      const offline = new RedisLimitStore(down)
      const r = rule(5, minute)
      await assertUnavailableFast(() => offline.blockedFor([r]))
      await assertUnavailableFast(() => offline.hit([r]))
      await assertUnavailableFast(() => offline.reset([r.key]))
      await assertUnavailableFast(() => offline.hitEscalating(r.key, escalation))
      await assertUnavailableFast(() => offline.lockedFor(r.key))
    } finally {
      down.disconnect()
    }
  })
})
