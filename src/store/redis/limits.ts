import type { Result } from 'ioredis'
import type { CounterRule, LimitStore, Reservation } from '../ports/index.js'
import { redisCall, type RedisClient } from './connection.js'
import { redisKeys } from './keys.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lkLimitReserve(key: string, windowMs: number, limit: number): Result<number, Context>
    lkLimitRelease(key: string): Result<number, Context>
    lkLockReserve(
      countKey: string,
      lockKey: string,
      windowMs: number,
      limit: number,
      baseMs: number,
      maxMs: number,
    ): Result<number, Context>
    lkLockUnreserve(countKey: string, lockKey: string, limit: number): Result<number, Context>
  }
}

// Take a place only while under the limit; refused: the window left. Fixed window from the first
// place; the PTTL check repairs a counter that somehow lost its TTL.
const reserveLua = `
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= limit then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], window)
    ttl = window
  end
  return math.max(1, ttl)
end
n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], window) end
return 0`

const releaseLua = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 1`

// -1: admitted, and this place started the lock.
// Refused (unchecked, uncounted) while locked. Otherwise the place counts as a failure at once,
// and the place that reaches the limit starts the lock. Once locked, the count is kept for a
// window beyond the lock, so the first failure after a lock lifts keeps doubling.
const lockReserveLua = `
local lockTtl = redis.call('PTTL', KEYS[2])
if lockTtl > 0 then return lockTtl end
local window, limit, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], window) end
if n < limit then return 0 end
local lock = math.floor(math.min(base * 2 ^ (n - limit), max))
if lock < 1 then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', lock)
if redis.call('PTTL', KEYS[1]) < lock + window then redis.call('PEXPIRE', KEYS[1], lock + window) end
return -1`

// Gives a lock place back; below the limit again, the lock that place started is lifted.
const lockUnreserveLua = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then n = redis.call('DECR', KEYS[1]) end
if n < tonumber(ARGV[1]) then redis.call('DEL', KEYS[2]) end
return 1`

/**
 * Each rule's keys share one hash slot; different rules (per IP, per login) live in different
 * slots, so a reservation is one script per rule, sent together in one round trip. All or none:
 * when a rule refuses, the places taken in the others are given back.
 */
export class RedisLimitStore implements LimitStore {
  readonly #redis: RedisClient

  constructor(redis: RedisClient) {
    this.#redis = redis
    redis.defineCommand('lkLimitReserve', { lua: reserveLua, numberOfKeys: 1 })
    redis.defineCommand('lkLimitRelease', { lua: releaseLua, numberOfKeys: 1 })
    redis.defineCommand('lkLockReserve', { lua: lockReserveLua, numberOfKeys: 2 })
    redis.defineCommand('lkLockUnreserve', { lua: lockUnreserveLua, numberOfKeys: 2 })
  }

  async reserve(rules: CounterRule[]): Promise<Reservation> {
    for (const rule of rules) checkRule(rule)
    const plain = rules.filter((rule) => rule.lock === undefined)
    const locks = rules.filter((rule) => rule.lock !== undefined)
    // Plain caps first: a lock place, once taken, may already have started a lock.
    const plainWaits = await redisCall(() =>
      Promise.all(
        plain.map((rule) =>
          this.#redis.lkLimitReserve(redisKeys.counter(rule.key), Math.ceil(rule.windowMs), Math.floor(rule.limit)),
        ),
      ),
    )
    const plainWait = Math.max(0, ...plainWaits)
    if (plainWait > 0) {
      await this.#giveBack(plain.filter((_, i) => plainWaits[i] === 0))
      return { ok: false, retryAfterMs: plainWait }
    }
    const lockWaits = await redisCall(() =>
      Promise.all(
        locks.map((rule) =>
          this.#redis.lkLockReserve(
            redisKeys.escalatingCount(rule.key),
            redisKeys.escalatingLock(rule.key),
            Math.ceil(rule.windowMs),
            Math.floor(rule.limit),
            Math.floor(rule.lock?.baseMs ?? 0),
            Math.floor(rule.lock?.maxMs ?? 0),
          ),
        ),
      ),
    )
    const lockWait = Math.max(0, ...lockWaits)
    if (lockWait > 0) {
      await this.#giveBack([...plain, ...locks.filter((_, i) => (lockWaits[i] ?? 0) <= 0)])
      return { ok: false, retryAfterMs: lockWait }
    }
    return lockWaits.some((wait) => wait < 0) ? { ok: true, startedLock: true } : { ok: true }
  }

  async release(rules: CounterRule[]): Promise<void> {
    await this.#giveBack(rules)
  }

  async #giveBack(rules: CounterRule[]): Promise<void> {
    if (rules.length === 0) return
    await redisCall(() =>
      Promise.all(
        rules.map((rule) =>
          rule.lock === undefined
            ? this.#redis.lkLimitRelease(redisKeys.counter(rule.key))
            : this.#redis.lkLockUnreserve(
                redisKeys.escalatingCount(rule.key),
                redisKeys.escalatingLock(rule.key),
                Math.floor(rule.limit),
              ),
        ),
      ),
    )
  }

  async reset(keys: string[]): Promise<void> {
    if (keys.length === 0) return
    // One DEL per key's slot: the counter and lock keys of one rule share it.
    await redisCall(() =>
      Promise.all(
        keys.map((key) =>
          this.#redis.del(redisKeys.counter(key), redisKeys.escalatingCount(key), redisKeys.escalatingLock(key)),
        ),
      ),
    )
  }
}

function checkRule(rule: CounterRule): void {
  if (!(rule.windowMs > 0)) throw new RangeError('a window must be positive')
  if (!(rule.limit >= 1)) throw new RangeError('a limit must be at least 1')
}
