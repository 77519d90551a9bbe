import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { CounterRule, LimitStore, Reservation } from '../../src/store/ports/index.js'
import { MemoryLimitStore } from '../../src/store/memory/limits.js'
import { redisKeys } from '../../src/store/redis/keys.js'
import { RedisLimitStore } from '../../src/store/redis/limits.js'
import { assertUnavailableFast, testRedis, unreachableRedis } from '../support/redis.js'
import { contractSuite, memoryAdapter, redisAdapters } from '../support/contract.js'
import { sleep } from '../support/calls.js'

const minute = 60_000
const newKey = (stem: string) => `${stem}:${randomBytes(8).toString('hex')}`
const rule = (limit: number, windowMs: number): CounterRule => ({ key: newKey('rule'), limit, windowMs })
const lockRule = (over: Partial<CounterRule> = {}): CounterRule => ({
  key: newKey('acct'),
  limit: 3,
  windowMs: minute,
  lock: { baseMs: 100, maxMs: 1_000 },
  ...over,
})

async function reserveTimes(store: LimitStore, rules: CounterRule[], times: number): Promise<void> {
  for (let i = 0; i < times; i++) assert.equal((await store.reserve(rules)).ok, true)
}
const waitOf = (reservation: Reservation) => (reservation.ok ? 0 : reservation.retryAfterMs)

function limitStoreContract(subject: () => LimitStore): void {
  let store: LimitStore
  before(() => {
    store = subject()
  })

  test('nothing counted, nothing refused', async () => {
    assert.deepEqual(await store.reserve([]), { ok: true })
    await store.release([])
    await store.reset([])
  })

  test('a rule takes `limit` places, then refuses for the rest of its window without counting', async () => {
    const r = rule(3, minute)
    await reserveTimes(store, [r], 3)
    const refused = waitOf(await store.reserve([r]))
    assert.ok(refused > minute - 5_000 && refused <= minute, `retryAfterMs ${refused}`)
    assert.ok(waitOf(await store.reserve([r])) <= refused, 'refusals do not extend the window')
    await store.release([r])
    assert.equal((await store.reserve([r])).ok, true, 'a refused attempt took no place')
    assert.equal((await store.reserve([r])).ok, false)
  })

  test('release gives one place back; reset gives all back', async () => {
    const r = rule(2, minute)
    await reserveTimes(store, [r], 2)
    await store.release([r])
    await reserveTimes(store, [r], 1)
    assert.equal((await store.reserve([r])).ok, false)
    await store.reset([r.key])
    await reserveTimes(store, [r], 2)
    await store.release([rule(1, minute)])
  })

  test('all or none: a full rule refuses and the others keep their places', async () => {
    const full = rule(1, 5 * minute)
    const open = rule(2, minute)
    await reserveTimes(store, [full], 1)
    const refused = waitOf(await store.reserve([open, full]))
    assert.ok(refused > 5 * minute - 5_000 && refused <= 5 * minute, `retryAfterMs ${refused}`)
    await reserveTimes(store, [open], 2)
    assert.equal((await store.reserve([open])).ok, false, 'the refused reservation left nothing in `open`')
  })

  test('the window is fixed from the first place and then starts over', async () => {
    // Half a window between the two places leaves a loaded machine 500 ms of slack either way.
    const r = rule(2, 1000)
    await reserveTimes(store, [r], 1)
    await sleep(500)
    await reserveTimes(store, [r], 1)
    const refused = waitOf(await store.reserve([r]))
    assert.ok(refused > 0 && refused <= 510, `window not restarted by the second place: ${refused}`)
    await sleep(refused + 50)
    await reserveTimes(store, [r], 2)
  })

  test('parallel reservations: exactly `limit` succeed, on every rule', async () => {
    const tight = rule(7, minute)
    const loose = rule(100, minute)
    const results = await Promise.all(Array.from({ length: 40 }, () => store.reserve([loose, tight])))
    assert.equal(results.filter((r) => r.ok).length, 7)
    await reserveTimes(store, [loose], 100 - 7)
    assert.equal((await store.reserve([loose])).ok, false, 'refused reservations gave their places back')
  })

  test('lock rule: places up to the limit, which starts the lock; doubling up to the maximum', async () => {
    const r = lockRule()
    const waits: number[] = []
    for (let i = 0; i < 3; i++) waits.push(waitOf(await store.reserve([r])))
    assert.deepEqual(waits, [0, 0, 0])
    const locked = waitOf(await store.reserve([r]))
    assert.ok(locked > 50 && locked <= 100, `locked ${locked}`)
    const lengths: number[] = []
    for (let i = 0; i < 5; i++) {
      await sleep(waitOf(await store.reserve([r])) + 20)
      const start = await store.reserve([r])
      assert.equal(start.ok, true)
      lengths.push(waitOf(await store.reserve([r])))
    }
    const [a = 0, b = 0, c = 0, d = 0, e = 0] = lengths
    assert.ok(a > 100 && a <= 200 && b > 200 && b <= 400 && c > 400 && c <= 800, `${lengths}`)
    assert.ok(d > 800 && d <= 1_000 && e > 800 && e <= 1_000, `capped: ${lengths}`)
  })

  test('lock rule: the place that reaches the limit says it started the lock, no other does', async () => {
    const r = lockRule()
    const plain = rule(10, minute)
    const replies = []
    for (let i = 0; i < 3; i++) replies.push(await store.reserve([plain, r]))
    assert.deepEqual(replies, [{ ok: true }, { ok: true }, { ok: true, startedLock: true }])
    assert.equal((await store.reserve([r])).ok, false)
  })

  test('lock rule: refused attempts during a lock neither count nor lengthen it', async () => {
    const r = lockRule({ lock: { baseMs: 300, maxMs: 10_000 } })
    await reserveTimes(store, [r], 3)
    for (let i = 0; i < 20; i++) assert.equal((await store.reserve([r])).ok, false)
    const left = waitOf(await store.reserve([r]))
    assert.ok(left <= 300, `lock lengthened: ${left}`)
    await sleep(left + 30)
    await reserveTimes(store, [r], 1)
    const next = waitOf(await store.reserve([r]))
    assert.ok(next > 300 && next <= 600, `the 4th failure doubles once, not 24 times: ${next}`)
  })

  test('lock rule: parallel reservations get exactly `limit` places', async () => {
    const r = lockRule({ limit: 10, lock: { baseMs: 60_000, maxMs: 60_000 } })
    const results = await Promise.all(Array.from({ length: 30 }, () => store.reserve([r])))
    assert.equal(results.filter((x) => x.ok).length, 10)
  })

  test('lock rule: reset lifts the lock and restarts the count', async () => {
    const r = lockRule()
    await reserveTimes(store, [r], 3)
    assert.equal((await store.reserve([r])).ok, false)
    await store.reset([r.key])
    await reserveTimes(store, [r], 3)
    assert.equal((await store.reserve([r])).ok, false)
  })

  test('lock rule: the count only spans failures within its window', async () => {
    const r = lockRule({ windowMs: 200 })
    await reserveTimes(store, [r], 2)
    await sleep(300)
    await reserveTimes(store, [r], 2)
    assert.equal((await store.reserve([r])).ok, true, 'only the third in the new window locks')
  })

  test('a lock refusal gives back the plain places of the same reservation', async () => {
    const r = lockRule({ limit: 1 })
    const plain = rule(1, minute)
    await reserveTimes(store, [r], 1)
    assert.equal((await store.reserve([plain, r])).ok, false)
    await reserveTimes(store, [plain], 1)
  })

  test('lock rule: release gives the place back and lifts the lock it started', async () => {
    const r = lockRule()
    await reserveTimes(store, [r], 3)
    assert.equal((await store.reserve([r])).ok, false)
    await store.release([r])
    await reserveTimes(store, [r], 1)
    assert.equal((await store.reserve([r])).ok, false)
  })

  test('plain counters and lock rules on one key are independent', async () => {
    const key = newKey('shared')
    await reserveTimes(store, [{ key, limit: 1, windowMs: minute }], 1)
    await reserveTimes(store, [lockRule({ key })], 2)
  })
}

contractSuite(
  'LimitStore',
  [
    ...redisAdapters((redis) => new RedisLimitStore(redis)),
    memoryAdapter(
      () => new MemoryLimitStore(),
      (store) => store.close(),
    ),
  ],
  limitStoreContract,
)

describe('LimitStore on Redis', () => {
  const { redis, cleanup } = testRedis()
  const store = new RedisLimitStore(redis)
  after(cleanup)

  test('counters and locks carry TTLs', async () => {
    const r = rule(5, minute)
    await store.reserve([r])
    const l = lockRule()
    for (let i = 0; i < 3; i++) await store.reserve([l])
    for (const k of [redisKeys.counter(r.key), redisKeys.escalatingCount(l.key), redisKeys.escalatingLock(l.key)]) {
      const ttl = await redis.pttl(k)
      assert.ok(ttl > 0 && ttl <= minute + 1_000, `${k}: PTTL ${ttl}`)
    }
  })

  test('with Redis unreachable every call fails fast with StoreUnavailableError', async () => {
    const down = unreachableRedis()
    try {
      const offline = new RedisLimitStore(down)
      const r = rule(5, minute)
      await assertUnavailableFast(() => offline.reserve([r]))
      await assertUnavailableFast(() => offline.release([r]))
      await assertUnavailableFast(() => offline.reset([r.key]))
      await assertUnavailableFast(() => offline.reserve([lockRule()]))
    } finally {
      down.disconnect()
    }
  })
})
