import type { Redis, Result } from 'ioredis'
import type { CounterRule, LimitStore } from '../ports/index.js'
import { redisCall } from './connection.js'
import { redisKeys } from './keys.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lkLimitHit(key: string, windowMs: number): Result<number, Context>
    lkLimitPeek(key: string): Result<[number, number], Context>
    lkLimitEscalate(
      countKey: string,
      lockKey: string,
      windowMs: number,
      threshold: number,
      baseMs: number,
      maxMs: number,
    ): Result<number, Context>
  }
}

// Fixed window from the first failure. The PTTL check repairs a counter that somehow lost its TTL.
const hitLua = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n`

// Count and remaining window read together, so they describe the same window.
const peekLua = `
local n = redis.call('GET', KEYS[1])
if not n then return {0, 0} end
return {tonumber(n), redis.call('PTTL', KEYS[1])}`

// Count, lock length and lock in one step. Once locked, the count is kept for a window beyond the
// lock, so the first failure after a lock lifts keeps doubling instead of starting over.
const escalateLua = `
local window, threshold, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
end
if n < threshold then return 0 end
local lock = math.floor(math.min(base * 2 ^ (n - threshold), max))
if lock < 1 then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', lock)
if redis.call('PTTL', KEYS[1]) < lock + window then
  redis.call('PEXPIRE', KEYS[1], lock + window)
end
return lock`

export class RedisLimitStore implements LimitStore {
  readonly #redis: Redis

  constructor(redis: Redis) {
    this.#redis = redis
    redis.defineCommand('lkLimitHit', { lua: hitLua, numberOfKeys: 1 })
    redis.defineCommand('lkLimitPeek', { lua: peekLua, numberOfKeys: 1 })
    redis.defineCommand('lkLimitEscalate', { lua: escalateLua, numberOfKeys: 2 })
  }

  async blockedFor(rules: CounterRule[]): Promise<number> {
    if (rules.length === 0) return 0
    // One script per rule: each counter has its own slot. Sent together, answered in one round trip.
    const peeks = await redisCall(() =>
      Promise.all(rules.map((rule) => this.#redis.lkLimitPeek(redisKeys.counter(rule.key)))),
    )
    return rules.reduce((longest, rule, i) => {
      const [count, pttl] = peeks[i] ?? [0, 0]
      if (count < rule.limit) return longest
      // A counter at its limit with no TTL left to read is treated as a fresh window.
      return Math.max(longest, pttl > 0 ? pttl : rule.windowMs)
    }, 0)
  }

  async hit(rules: CounterRule[]): Promise<void> {
    if (rules.length === 0) return
    await redisCall(() =>
      Promise.all(rules.map((rule) => this.#redis.lkLimitHit(redisKeys.counter(rule.key), positiveMs(rule.windowMs)))),
    )
  }

  async reset(keys: string[]): Promise<void> {
    if (keys.length === 0) return
    await redisCall(() =>
      Promise.all(
        keys.map((key) =>
          this.#redis.del(redisKeys.counter(key), redisKeys.escalatingCount(key), redisKeys.escalatingLock(key)),
        ),
      ),
    )
  }

  async hitEscalating(
    key: string,
    rule: { threshold: number; windowMs: number; baseMs: number; maxMs: number },
  ): Promise<number> {
    return redisCall(() =>
      this.#redis.lkLimitEscalate(
        redisKeys.escalatingCount(key),
        redisKeys.escalatingLock(key),
        positiveMs(rule.windowMs),
        Math.max(1, Math.floor(rule.threshold)),
        Math.floor(rule.baseMs),
        Math.floor(rule.maxMs),
      ),
    )
  }

  async lockedFor(key: string): Promise<number> {
    const pttl = await redisCall(() => this.#redis.pttl(redisKeys.escalatingLock(key)))
    return Math.max(0, pttl)
  }
}

function positiveMs(ms: number): number {
  if (!(ms > 0)) throw new RangeError('a window must be positive')
  return Math.ceil(ms)
}
