import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { AttemptBoxStore } from '../../src/store/ports/index.js'
import { MemoryAttemptBoxStore } from '../../src/store/memory/attempt-box.js'
import { RedisAttemptBoxStore } from '../../src/store/redis/attempt-box.js'
import { redisKeys } from '../../src/store/redis/keys.js'
import { assertUnavailableFast, testRedis, unreachableRedis } from '../support/redis.js'
import { contractSuite, memoryAdapter, redisAdapters } from '../support/contract.js'
import { sleep } from '../support/calls.js'

/** Two boxes stores of different kinds (as pending sign-ins and enrolments are) on one backend. */
interface Boxes {
  pending: AttemptBoxStore
  enrol: AttemptBoxStore
}

const minute = 60_000
const newKey = () => randomBytes(16).toString('hex')

function attemptBoxContract(subject: () => Boxes): void {
  let boxes: Boxes
  let store: AttemptBoxStore
  before(() => {
    boxes = subject()
    store = boxes.pending
  })

  test('put then get shows the payload and attempts without spending any', async () => {
    const key = newKey()
    await store.put(key, '{"accountId":"a1"}', 5, minute)
    assert.deepEqual(await store.get(key), { payload: '{"accountId":"a1"}', attemptsLeft: 5 })
    assert.deepEqual(await store.get(key), { payload: '{"accountId":"a1"}', attemptsLeft: 5 })
  })

  test('reserve counts down 4, 3, 2, 1, 0, then refuses', async () => {
    const key = newKey()
    await store.put(key, 'p', 5, minute)
    const left: Array<number | null> = []
    for (let i = 0; i < 6; i++) left.push((await store.reserve(key))?.attemptsLeft ?? null)
    assert.deepEqual(left, [4, 3, 2, 1, 0, null])
    assert.equal(await store.claim(key, minute), true, 'the holder of the last attempt can still claim')
    assert.equal(await store.take(key), 'p')
    assert.equal(await store.get(key), null)
  })

  test('reserve returns the payload; get reflects taken attempts', async () => {
    const key = newKey()
    await store.put(key, 'p', 3, minute)
    assert.deepEqual(await store.reserve(key), { payload: 'p', attemptsLeft: 2 })
    assert.deepEqual(await store.get(key), { payload: 'p', attemptsLeft: 2 })
  })

  test('a claimed box refuses reservations and other claims until unclaimed', async () => {
    const key = newKey()
    await store.put(key, 'p', 5, minute)
    await store.reserve(key)
    assert.equal(await store.claim(key, minute), true)
    assert.equal(await store.claim(key, minute), false)
    assert.equal(await store.reserve(key), null)
    await store.unclaim(key)
    assert.deepEqual(await store.reserve(key), { payload: 'p', attemptsLeft: 3 }, 'attempts taken stay taken')
    assert.equal(await store.claim(newKey(), minute), false, 'no box, no claim')
  })

  test('a claim lapses after its lease', async () => {
    const key = newKey()
    await store.put(key, 'p', 5, minute)
    assert.equal(await store.claim(key, 100), true)
    await sleep(200)
    assert.equal(await store.claim(key, minute), true)
  })

  test('claim is single-winner under 20 parallel claimers', async () => {
    const key = newKey()
    await store.put(key, 'p', 5, minute)
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(key, minute)))
    assert.equal(results.filter(Boolean).length, 1)
  })

  test('take returns the payload once and deletes the box', async () => {
    const key = newKey()
    await store.put(key, 'payload', 5, minute)
    assert.equal(await store.take(key), 'payload')
    assert.equal(await store.take(key), null)
    assert.equal(await store.get(key), null)
    assert.equal(await store.reserve(key), null)
  })

  test('take is single-winner under 20 parallel takers', async () => {
    const key = newKey()
    await store.put(key, 'once', 5, minute)
    const results = await Promise.all(Array.from({ length: 20 }, () => store.take(key)))
    assert.deepEqual(
      results.filter((r) => r !== null),
      ['once'],
    )
  })

  test('20 parallel guesses take each attempt exactly once', async () => {
    const key = newKey()
    await store.put(key, 'p', 5, minute)
    const results = await Promise.all(Array.from({ length: 20 }, () => store.reserve(key)))
    assert.deepEqual(
      results
        .filter((r) => r !== null)
        .map((r) => r.attemptsLeft)
        .sort(),
      [0, 1, 2, 3, 4],
    )
  })

  test('a box expires after its ttl', async () => {
    const key = newKey()
    await store.put(key, 'p', 5, 150)
    assert.notEqual(await store.get(key), null)
    await sleep(250)
    assert.equal(await store.get(key), null)
    assert.equal(await store.reserve(key), null)
    assert.equal(await store.take(key), null)
  })

  test('put replaces a box and restores its attempts', async () => {
    const key = newKey()
    await store.put(key, 'old', 5, minute)
    await store.reserve(key)
    await store.claim(key, minute)
    await store.put(key, 'new', 3, minute)
    assert.equal(await store.claim(key, minute), true, 'put drops an old claim')
    await store.unclaim(key)
    assert.deepEqual(await store.get(key), { payload: 'new', attemptsLeft: 3 })
  })

  test('the same key in two kinds of box are two boxes', async () => {
    const key = newKey()
    await boxes.pending.put(key, 'sign-in', 5, minute)
    await boxes.enrol.put(key, 'enrolment', 2, minute)
    assert.equal(await boxes.enrol.take(key), 'enrolment')
    assert.deepEqual(await boxes.pending.get(key), { payload: 'sign-in', attemptsLeft: 5 })
  })

  test('unknown keys answer null', async () => {
    const key = newKey()
    assert.equal(await store.get(key), null)
    assert.equal(await store.reserve(key), null)
    assert.equal(await store.claim(key, minute), false)
    await store.unclaim(key)
    assert.equal(await store.take(key), null)
  })

  test('nonsense attempts or ttl are refused', async () => {
    await assert.rejects(store.put(newKey(), 'p', 0, minute), RangeError)
    await assert.rejects(store.put(newKey(), 'p', 5, 0), RangeError)
  })
}

contractSuite(
  'AttemptBoxStore',
  [
    ...redisAdapters((redis) => ({
      pending: new RedisAttemptBoxStore(redis, 'pending'),
      enrol: new RedisAttemptBoxStore(redis, 'enrol'),
    })),
    memoryAdapter(
      () => ({ pending: new MemoryAttemptBoxStore(), enrol: new MemoryAttemptBoxStore() }),
      (boxes) => {
        boxes.pending.close()
        boxes.enrol.close()
      },
    ),
  ],
  attemptBoxContract,
)

describe('AttemptBoxStore on Redis', () => {
  const { redis, cleanup } = testRedis()
  const store = new RedisAttemptBoxStore(redis, 'pending')
  after(cleanup)

  test('a box carries its TTL', async () => {
    const key = newKey()
    await store.put(key, 'p', 5, minute)
    await store.reserve(key)
    assert.equal(await store.claim(key, 2 * minute), true)
    assert.ok((await redis.pttl(redisKeys.attemptBoxClaim('pending', key))) > minute)
    const ttl = await redis.pttl(redisKeys.attemptBox('pending', key))
    assert.ok(ttl > minute - 5_000 && ttl <= minute, `PTTL ${ttl}`)
  })

  test('with Redis unreachable every call fails fast with StoreUnavailableError', async () => {
    const down = unreachableRedis()
    try {
      const offline = new RedisAttemptBoxStore(down, 'pending')
      const key = newKey()
      await assertUnavailableFast(() => offline.put(key, 'p', 5, minute))
      await assertUnavailableFast(() => offline.get(key))
      await assertUnavailableFast(() => offline.reserve(key))
      await assertUnavailableFast(() => offline.claim(key, minute))
      await assertUnavailableFast(() => offline.unclaim(key))
      await assertUnavailableFast(() => offline.take(key))
    } finally {
      down.disconnect()
    }
  })
})
