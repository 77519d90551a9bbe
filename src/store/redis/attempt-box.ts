import type { Redis, Result } from 'ioredis'
import type { AttemptBoxStore } from '../ports/index.js'
import { redisCall } from './connection.js'
import { redisKeys } from './keys.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lkBoxPut(key: string, payload: string, attempts: number, ttlMs: number): Result<number, Context>
    lkBoxFail(key: string): Result<number | null, Context>
    lkBoxTake(key: string): Result<string | null, Context>
  }
}

// A box is a hash: `p` payload, `n` attempts left. Written whole with its TTL, never without.
const putLua = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'p', ARGV[1], 'n', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`

// Decrement and delete-at-zero in one step: parallel wrong guesses cannot share an attempt.
const failLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local n = redis.call('HINCRBY', KEYS[1], 'n', -1)
if n <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
return n`

// Read-and-delete in one step: of concurrent takers exactly one sees the payload.
const takeLua = `
local p = redis.call('HGET', KEYS[1], 'p')
if p then redis.call('DEL', KEYS[1]) end
return p`

/** Boxes of one kind; `namespace` keeps pending sign-ins and enrolments apart. */
export class RedisAttemptBoxStore implements AttemptBoxStore {
  readonly #redis: Redis
  readonly #namespace: string

  constructor(redis: Redis, namespace: string) {
    this.#redis = redis
    this.#namespace = namespace
    redis.defineCommand('lkBoxPut', { lua: putLua, numberOfKeys: 1 })
    redis.defineCommand('lkBoxFail', { lua: failLua, numberOfKeys: 1 })
    redis.defineCommand('lkBoxTake', { lua: takeLua, numberOfKeys: 1 })
  }

  #key(key: string): string {
    return redisKeys.attemptBox(this.#namespace, key)
  }

  async put(key: string, payload: string, attempts: number, ttlMs: number): Promise<void> {
    if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError('attempts must be a positive integer')
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    await redisCall(() => this.#redis.lkBoxPut(this.#key(key), payload, attempts, Math.ceil(ttlMs)))
  }

  async get(key: string): Promise<{ payload: string; attemptsLeft: number } | null> {
    const [payload, left] = await redisCall(() => this.#redis.hmget(this.#key(key), 'p', 'n'))
    return payload == null ? null : { payload, attemptsLeft: Number(left) }
  }

  async fail(key: string): Promise<number | null> {
    return redisCall(() => this.#redis.lkBoxFail(this.#key(key)))
  }

  async take(key: string): Promise<string | null> {
    return redisCall(() => this.#redis.lkBoxTake(this.#key(key)))
  }
}
