import type { Result } from 'ioredis'
import type { Digest } from '../../domain/credentials.js'
import type { CachedToken, TokenCacheStore } from '../ports/index.js'
import { redisCall, type RedisClient } from './connection.js'
import { redisKeys } from './keys.js'
import { evictionGuardMs, tokenUseTtlMs } from './lifetimes.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lkTokenLookup(
      tokenKey: string,
      useKey: string,
      flushKey: string,
      at: number,
      ip: string,
      useTtlMs: number,
      flushEveryMs: number,
    ): Result<[string, number] | null, Context>
    lkTokenPut(tokenKey: string, evictedKey: string, token: string, ttlMs: number): Result<number, Context>
    lkTokenEvict(tokenKey: string, evictedKey: string, guardMs: number): Result<number, Context>
  }
}

// The hot path in one round trip: read, record the use (keeping the freshest), and claim the
// flush marker; SET NX hands the marker, hence `flushDue`, to one caller per period.
const lookupLua = `
local token = redis.call('GET', KEYS[1])
if not token then return false end
local at = tonumber(ARGV[1])
local old = redis.call('GET', KEYS[2])
local oldAt = old and tonumber(string.match(old, '^(%d+)')) or nil
if oldAt == nil or oldAt <= at then
  redis.call('SET', KEYS[2], ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
else
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
local due = redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4])
return {token, due and 1 or 0}`

const putLua = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`

// The tombstone and the delete land together, so no put can slip in between them.
const evictLua = `
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return redis.call('DEL', KEYS[1])`

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string')

function decodeToken(json: string): CachedToken {
  const value: unknown = JSON.parse(json)
  if (typeof value === 'object' && value !== null) {
    const { id, accountId, login, twoFactorEnabled, apiList, expiresAt, twoFactorRequiredBy, locked } = value as Record<
      string,
      unknown
    >
    // Absent in entries written before these fields existed: no deadline, not locked (a lock evicts).
    const requiredBy = twoFactorRequiredBy ?? null
    if (
      (requiredBy === null || typeof requiredBy === 'number') &&
      (locked === undefined || typeof locked === 'boolean') &&
      typeof id === 'string' &&
      typeof accountId === 'string' &&
      typeof login === 'string' &&
      typeof twoFactorEnabled === 'boolean' &&
      (apiList === null || isStringArray(apiList)) &&
      (expiresAt === null || typeof expiresAt === 'number')
    ) {
      return {
        id,
        accountId,
        login,
        twoFactorEnabled,
        twoFactorRequiredBy: requiredBy,
        locked: locked === true,
        apiList,
        expiresAt,
      }
    }
  }
  throw new Error('malformed cached token')
}

function decodeUse(record: string): { at: number; ip: string } | null {
  const space = record.indexOf(' ')
  const at = Number(record.slice(0, space))
  return space > 0 && Number.isFinite(at) ? { at, ip: record.slice(space + 1) } : null
}

export class RedisTokenCacheStore implements TokenCacheStore {
  readonly #redis: RedisClient

  constructor(redis: RedisClient) {
    this.#redis = redis
    redis.defineCommand('lkTokenLookup', { lua: lookupLua, numberOfKeys: 3 })
    redis.defineCommand('lkTokenPut', { lua: putLua, numberOfKeys: 2 })
    redis.defineCommand('lkTokenEvict', { lua: evictLua, numberOfKeys: 2 })
  }

  async lookup(
    digest: string,
    use: { at: number; ip: string },
    flushEveryMs: number,
  ): Promise<{ token: CachedToken; flushDue: boolean } | null> {
    if (!(flushEveryMs > 0)) throw new RangeError('flushEveryMs must be positive')
    const reply = await redisCall(() =>
      this.#redis.lkTokenLookup(
        redisKeys.token(digest),
        redisKeys.tokenUse(digest),
        redisKeys.tokenFlush(digest),
        Math.floor(use.at),
        use.ip,
        tokenUseTtlMs,
        Math.ceil(flushEveryMs),
      ),
    )
    return reply === null ? null : { token: decodeToken(reply[0]), flushDue: reply[1] === 1 }
  }

  async put(digest: string, token: CachedToken, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    const json = JSON.stringify({
      id: token.id,
      accountId: token.accountId,
      login: token.login,
      twoFactorEnabled: token.twoFactorEnabled,
      twoFactorRequiredBy: token.twoFactorRequiredBy,
      locked: token.locked,
      apiList: token.apiList,
      expiresAt: token.expiresAt,
    })
    await redisCall(() =>
      this.#redis.lkTokenPut(redisKeys.token(digest), redisKeys.tokenEvicted(digest), json, Math.ceil(ttlMs)),
    )
  }

  async isUnknown(digest: string): Promise<boolean> {
    return (await redisCall(() => this.#redis.exists(redisKeys.tokenUnknown(digest)))) === 1
  }

  async putUnknown(digest: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    await redisCall(() => this.#redis.set(redisKeys.tokenUnknown(digest), '1', 'PX', Math.ceil(ttlMs)))
  }

  async clearUnknown(digests: string[]): Promise<void> {
    if (digests.length === 0) return
    await redisCall(() => Promise.all(digests.map((digest) => this.#redis.del(redisKeys.tokenUnknown(digest)))))
  }

  async evict(digests: string[]): Promise<void> {
    if (digests.length === 0) return
    await redisCall(() =>
      Promise.all(
        digests.map((digest) =>
          this.#redis.lkTokenEvict(redisKeys.token(digest), redisKeys.tokenEvicted(digest), evictionGuardMs),
        ),
      ),
    )
  }

  async lastUses(digests: Digest[]): Promise<Map<Digest, { at: number; ip: string }>> {
    const unique = [...new Set(digests)]
    const records = await redisCall(() =>
      Promise.all(unique.map((digest) => this.#redis.get(redisKeys.tokenUse(digest)))),
    )
    const uses = new Map<Digest, { at: number; ip: string }>()
    unique.forEach((digest, i) => {
      const record = records[i]
      const use = record == null ? null : decodeUse(record)
      if (use) uses.set(digest, use)
    })
    return uses
  }
}
