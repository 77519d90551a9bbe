import type { Result } from 'ioredis'
import type { AttemptBoxStore } from '../ports/index.js'
import { redisCall, type RedisClient } from './connection.js'
import { redisKeys } from './keys.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lkBoxPut(key: string, claimKey: string, payload: string, attempts: number, ttlMs: number): Result<number, Context>
    lkBoxReserve(key: string, claimKey: string): Result<[string, number] | null, Context>
    lkBoxClaim(key: string, claimKey: string, leaseMs: number): Result<number, Context>
    lkBoxTake(key: string, claimKey: string): Result<string | null, Context>
  }
}

// A box is a hash: `p` payload, `n` attempts left. Written whole with its TTL, never without.
// Its claim is a key of its own in the same slot, carrying the lease as its TTL.
const putLua = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'p', ARGV[1], 'n', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`

// Check and decrement in one step: parallel guesses cannot share an attempt.
const reserveLua = `
local p = redis.call('HGET', KEYS[1], 'p')
if not p or redis.call('EXISTS', KEYS[2]) == 1 then return false end
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n <= 0 then return false end
n = redis.call('HINCRBY', KEYS[1], 'n', -1)
return {p, n}`

const claimLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0`

// Read-and-delete in one step: of concurrent takers exactly one sees the payload.
const takeLua = `
local p = redis.call('HGET', KEYS[1], 'p')
redis.call('DEL', KEYS[1], KEYS[2])
return p`

/** Boxes of one kind; `namespace` keeps pending sign-ins and enrolments apart. */
export class RedisAttemptBoxStore implements AttemptBoxStore {
  readonly #redis: RedisClient
  readonly #namespace: string

  constructor(redis: RedisClient, namespace: string) {
    this.#redis = redis
    this.#namespace = namespace
    redis.defineCommand('lkBoxPut', { lua: putLua, numberOfKeys: 2 })
    redis.defineCommand('lkBoxReserve', { lua: reserveLua, numberOfKeys: 2 })
    redis.defineCommand('lkBoxClaim', { lua: claimLua, numberOfKeys: 2 })
    redis.defineCommand('lkBoxTake', { lua: takeLua, numberOfKeys: 2 })
  }

  #keys(key: string): [string, string] {
    return [redisKeys.attemptBox(this.#namespace, key), redisKeys.attemptBoxClaim(this.#namespace, key)]
  }

  async put(key: string, payload: string, attempts: number, ttlMs: number): Promise<void> {
    if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError('attempts must be a positive integer')
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    await redisCall(() => this.#redis.lkBoxPut(...this.#keys(key), payload, attempts, Math.ceil(ttlMs)))
  }

  async get(key: string): Promise<{ payload: string; attemptsLeft: number } | null> {
    const [payload, left] = await redisCall(() => this.#redis.hmget(this.#keys(key)[0], 'p', 'n'))
    return payload == null ? null : { payload, attemptsLeft: Number(left) }
  }

  async reserve(key: string): Promise<{ payload: string; attemptsLeft: number } | null> {
    const reply = await redisCall(() => this.#redis.lkBoxReserve(...this.#keys(key)))
    return reply === null ? null : { payload: reply[0], attemptsLeft: Number(reply[1]) }
  }

  async claim(key: string, leaseMs: number): Promise<boolean> {
    if (!(leaseMs > 0)) throw new RangeError('leaseMs must be positive')
    return (await redisCall(() => this.#redis.lkBoxClaim(...this.#keys(key), Math.ceil(leaseMs)))) === 1
  }

  async unclaim(key: string): Promise<void> {
    await redisCall(() => this.#redis.del(this.#keys(key)[1]))
  }

  async take(key: string): Promise<string | null> {
    return redisCall(() => this.#redis.lkBoxTake(...this.#keys(key)))
  }
}
