import type { Result } from 'ioredis'
import type { Digest } from '../../domain/credentials.js'
import type { CachedToken, TokenCacheStore } from '../ports/index.js'
import { redisCall, type RedisClient } from './connection.js'
import { redisKeys } from './keys.js'
import { evictionGuardMs, tokenUseTtlMs } from './lifetimes.js'
import { afterPendingIo, type CacheSpace, type TrackedCache } from './tracked-cache.js'

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
    lkTokenRecordUse(
      useKey: string,
      flushKey: string,
      at: number,
      ip: string,
      useTtlMs: number,
      flushEveryMs: number,
    ): Result<number, Context>
    lkTokenRead(tokenKey: string): Result<[string | null, number], Context>
    lkTokenPut(tokenKey: string, evictedKey: string, token: string, ttlMs: number): Result<number, Context>
    lkTokenEvict(tokenKey: string, evictedKey: string, guardMs: number): Result<number, Context>
  }
}

// Lua: records the use at ARGV[1] from ARGV[2] in `useKey` unless a fresher one is there; either
// way the record lives ARGV[3] ms more. Shared by the two scripts below, which hold it at other KEYS.
const keepFreshestUse = (useKey: string) => `
local at = tonumber(ARGV[1])
local old = redis.call('GET', ${useKey})
local oldAt = old and tonumber(string.match(old, '^(%d+)')) or nil
if oldAt == nil or oldAt <= at then
  redis.call('SET', ${useKey}, ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
else
  redis.call('PEXPIRE', ${useKey}, ARGV[3])
end`

// The hot path in one round trip: read, record the use (keeping the freshest), and claim the
// flush marker; SET NX hands the marker, hence `flushDue`, to one caller per period.
const lookupLua = `
local token = redis.call('GET', KEYS[1])
if not token then return false end
${keepFreshestUse('KEYS[2]')}
local due = redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4])
return {token, due and 1 or 0}`

// The use-recording half of lookupLua, for uses served from the in-process cache. With a zero
// flushEveryMs (a batch of uses) the flush marker is left alone: only lookups claim it.
const recordUseLua = `
${keepFreshestUse('KEYS[1]')}
if ARGV[4] == '0' then return 0 end
return redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[4]) and 1 or 0`

// Reads only the token key (so only it is tracked), with its remaining lifetime.
const readLua = `return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}`

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

/** Callers get their own copy (the contract): the kept one is shared by every hit. */
function copyToken(token: CachedToken): CachedToken {
  return { ...token, apiList: token.apiList === null ? null : [...token.apiList] }
}

function decodeUse(record: string): { at: number; ip: string } | null {
  const space = record.indexOf(' ')
  const at = Number(record.slice(0, space))
  return space > 0 && Number.isFinite(at) ? { at, ip: record.slice(space + 1) } : null
}

/** A use served from the in-process cache, waiting for the next batch (the freshest per token). */
interface PendingUse {
  at: number
  ip: string
}

/** A token as kept in process, with the instant its Redis key expires (the key's TTL when read). */
interface LocalToken {
  token: CachedToken
  keyExpiresAt: number
}

/** How often uses served from the cache go to Redis: GetTokens on another instance lags by at most this. */
const useBatchMs = 2_000

export class RedisTokenCacheStore implements TokenCacheStore {
  readonly #redis: RedisClient
  readonly #tracked: TrackedCache | undefined
  /** Tokens this instance read, kept current by Redis; undefined: none. */
  readonly #cache: CacheSpace<LocalToken> | undefined
  /** Unknown-token marks this instance read: until when each one lives in Redis. */
  readonly #unknownMarks: CacheSpace<number> | undefined
  readonly #uses = new Map<string, PendingUse>()
  /** Per digest, until when this instance leaves the flush marker alone (it claimed it, or tried). */
  readonly #claims = new Map<string, number>()
  readonly #batchTimer: NodeJS.Timeout | undefined

  constructor(redis: RedisClient, cache?: TrackedCache) {
    this.#redis = redis
    this.#tracked = cache
    this.#cache = cache?.space<LocalToken>()
    this.#unknownMarks = cache?.space<number>()
    redis.defineCommand('lkTokenLookup', { lua: lookupLua, numberOfKeys: 3 })
    redis.defineCommand('lkTokenRecordUse', { lua: recordUseLua, numberOfKeys: 2 })
    redis.defineCommand('lkTokenPut', { lua: putLua, numberOfKeys: 2 })
    redis.defineCommand('lkTokenEvict', { lua: evictLua, numberOfKeys: 2 })
    if (cache !== undefined) {
      // Keys read by a script on the tracked connection are tracked too (Redis 7.0, checked by test).
      cache.defineCommand('lkTokenRead', { lua: readLua, numberOfKeys: 1 })
      this.#batchTimer = setInterval(() => void this.#sendUses(), useBatchMs)
      this.#batchTimer.unref()
    }
  }

  async lookup(
    digest: string,
    use: { at: number; ip: string },
    flushEveryMs: number,
  ): Promise<{ token: CachedToken; flushDue: boolean } | null> {
    if (!(flushEveryMs > 0)) throw new RangeError('flushEveryMs must be positive')
    const cache = this.#cache
    if (cache === undefined || this.#tracked?.usable !== true) return this.#lookupInRedis(digest, use, flushEveryMs)
    const key = redisKeys.token(digest)
    let local: LocalToken | null | undefined
    if (cache.has(key)) {
      await afterPendingIo()
      // Looked up again: the yield may just have applied this key's invalidation.
      local = cache.get(key)
    }
    // Redis may not have expired the key yet (its expiry cycle samples); the local copy never outlives it.
    if (local === undefined || local === null || Date.now() >= local.keyExpiresAt) {
      const readAt = Date.now()
      const read = await redisCall(() =>
        cache.readThrough(
          key,
          async (reader): Promise<LocalToken | null> => {
            const [json, pttl] = await reader.lkTokenRead(key)
            return json === null ? null : { token: decodeToken(json), keyExpiresAt: readAt + pttl }
          },
          // Absent tokens are not kept: a miss goes to Postgres anyway, and its put invalidates the key.
          (fresh) => (fresh === null || fresh.keyExpiresAt < readAt ? undefined : fresh),
        ),
      )
      if (read === null) return null
      local = read
    }
    const token = copyToken(local.token)
    // Refusals of a locked account's token are not uses of it.
    if (token.locked) return { token, flushDue: false }
    const claimedUntil = this.#claims.get(digest)
    if (claimedUntil !== undefined && use.at < claimedUntil) {
      this.#noteUse(digest, use)
      return { token, flushDue: false }
    }
    // Once per period per token on this instance: record the use and try the flush marker in Redis
    // (SET NX: one instance per period gets flushDue); the uses in between are batched.
    this.#claims.set(digest, use.at + flushEveryMs)
    const due = await redisCall(() =>
      this.#redis.lkTokenRecordUse(
        redisKeys.tokenUse(digest),
        redisKeys.tokenFlush(digest),
        Math.floor(use.at),
        use.ip,
        tokenUseTtlMs,
        Math.ceil(flushEveryMs),
      ),
    )
    return { token, flushDue: due === 1 }
  }

  async #lookupInRedis(
    digest: string,
    use: { at: number; ip: string },
    flushEveryMs: number,
  ): Promise<{ token: CachedToken; flushDue: boolean } | null> {
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

  #noteUse(digest: string, use: { at: number; ip: string }): void {
    const pending = this.#uses.get(digest)
    if (pending === undefined) this.#uses.set(digest, { at: use.at, ip: use.ip })
    else if (pending.at <= use.at) {
      pending.at = use.at
      pending.ip = use.ip
    }
  }

  /** Sends the batched uses to Redis (pipelined, one script call per token). */
  async #sendUses(digests?: readonly string[]): Promise<void> {
    const now = Date.now()
    for (const [digest, until] of this.#claims) if (until <= now) this.#claims.delete(digest)
    if (this.#uses.size === 0) return
    const batch: Array<[string, PendingUse]> = []
    for (const digest of digests ?? [...this.#uses.keys()]) {
      const use = this.#uses.get(digest)
      if (use === undefined) continue
      this.#uses.delete(digest)
      batch.push([digest, use])
    }
    await Promise.all(
      batch.map(([digest, use]) =>
        this.#redis
          .lkTokenRecordUse(redisKeys.tokenUse(digest), redisKeys.tokenFlush(digest), use.at, use.ip, tokenUseTtlMs, 0)
          // Redis is away: not worth retrying, the next use writes a fresher record.
          .catch(() => undefined),
      ),
    )
  }

  /** Stops batching and sends what is left. */
  async close(): Promise<void> {
    if (this.#batchTimer !== undefined) clearInterval(this.#batchTimer)
    await this.#sendUses()
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
    const key = redisKeys.token(digest)
    try {
      await redisCall(() => this.#redis.lkTokenPut(key, redisKeys.tokenEvicted(digest), json, Math.ceil(ttlMs)))
    } finally {
      this.#cache?.drop(key)
    }
  }

  async isUnknown(digest: string): Promise<boolean> {
    const key = redisKeys.tokenUnknown(digest)
    const marks = this.#unknownMarks
    if (marks === undefined || this.#tracked?.usable !== true)
      return (await redisCall(() => this.#redis.exists(key))) === 1
    // A flood of one unknown token is answered from memory for the mark's lifetime.
    if (marks.has(key)) {
      await afterPendingIo()
      const until = marks.get(key)
      if (typeof until === 'number' && Date.now() < until) return true
    }
    const readAt = Date.now()
    const [mark] = await redisCall(() =>
      marks.readThrough(
        key,
        (reader) => reader.lkTokenRead(key),
        ([value, ttl]) => (value === null || ttl < 0 ? undefined : readAt + ttl),
      ),
    )
    return mark !== null
  }

  async putUnknown(digest: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    await redisCall(() => this.#redis.set(redisKeys.tokenUnknown(digest), '1', 'PX', Math.ceil(ttlMs)))
  }

  async clearUnknown(digests: string[]): Promise<void> {
    if (digests.length === 0) return
    const keys = digests.map((digest) => redisKeys.tokenUnknown(digest))
    try {
      await redisCall(() => Promise.all(keys.map((key) => this.#redis.del(key))))
    } finally {
      const marks = this.#unknownMarks
      if (marks !== undefined) for (const key of keys) marks.drop(key)
      // A token about to be created must not be refused by another instance's remembered mark.
      await this.#tracked?.fence(this.#redis, keys)
    }
  }

  async evict(digests: string[]): Promise<void> {
    if (digests.length === 0) return
    const keys = digests.map((digest) => redisKeys.token(digest))
    try {
      await redisCall(() =>
        Promise.all(
          digests.map((digest) =>
            this.#redis.lkTokenEvict(redisKeys.token(digest), redisKeys.tokenEvicted(digest), evictionGuardMs),
          ),
        ),
      )
    } finally {
      // This instance forgets them at once, without waiting for Redis's invalidation to come back.
      const cache = this.#cache
      if (cache !== undefined) for (const key of keys) cache.drop(key)
      // Other instances' caches: return only once the invalidations have left Redis.
      await this.#tracked?.fence(this.#redis, keys)
    }
  }

  async lastUses(digests: Digest[]): Promise<Map<Digest, { at: number; ip: string }>> {
    const unique = [...new Set(digests)]
    // This instance's own batched uses first, so it reads its writes; other instances' lag by a batch.
    await this.#sendUses(unique)
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
