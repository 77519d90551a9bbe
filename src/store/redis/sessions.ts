import type { Result } from 'ioredis'
import type { SessionRecord, SessionStore } from '../ports/index.js'
import { redisCall, type RedisClient } from './connection.js'
import { redisKeys } from './keys.js'
import { afterPendingIo, type CacheSpace, type TrackedCache } from './tracked-cache.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lkSessionCreate(
      key: string,
      record: string,
      lastSeenAt: number,
      absoluteExpiresAt: number,
      twoFactor: string,
      ttlMs: number,
      requiredBy: string,
    ): Result<number, Context>
    lkSessionIndexAdd(indexKey: string, id: string, digest: string, ttlMs: number): Result<number, Context>
    lkSessionAuthenticate(
      key: string,
      now: number,
      idleMs: number,
      touchEveryMs: number,
    ): Result<[string, string, string, string | null] | null, Context>
    lkSessionTake(key: string, accountId: string): Result<string | null, Context>
    lkSessionSetCopy(key: string, accountId: string, field: CopiedField, value: string): Result<number, Context>
  }
}

/*
 * A session is a hash: `r` (the record's fixed fields as JSON), `seen` (lastSeenAt), `abs`
 * (absoluteExpiresAt), `tfa` ('1' or '0') and `req` (the 2FA deadline in ms, '' for none), so the
 * hot path and the copy refreshes change a field without re-encoding JSON in Lua.
 */

// Replaces any previous session under the digest and gives it its TTL in the same step, so a
// session key never exists without one.
const createLua = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'r', ARGV[1], 'seen', ARGV[2], 'abs', ARGV[3], 'tfa', ARGV[4], 'req', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`

// The index lives at least as long as the longest session it lists.
const indexAddLua = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1`

// The hot path: one round trip, and a write only when lastSeenAt is older than touchEveryMs.
const authenticateLua = `
local v = redis.call('HMGET', KEYS[1], 'r', 'seen', 'abs', 'tfa', 'req')
if not v[1] then return false end
local now, idle, touch = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local seen, abs = tonumber(v[2]), tonumber(v[3])
if now >= abs or now - seen >= idle then
  redis.call('DEL', KEYS[1])
  return false
end
if now - seen < touch then return {v[1], v[2], v[4], v[5]} end
redis.call('HSET', KEYS[1], 'seen', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.min(idle, abs - now))
return {v[1], ARGV[1], v[4], v[5]}`

// Deletes the account's session and hands back its record, so SignOut learns the id to unindex.
const takeLua = `
local r = redis.call('HGET', KEYS[1], 'r')
if not r or cjson.decode(r).accountId ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
return r`

/** The account's fields a session carries a copy of: the 2FA flag, the 2FA deadline. */
type CopiedField = 'tfa' | 'req'

// Rewrites one copied field; never recreates an expired session (a bare HSET would, without a TTL).
const setCopyLua = `
local r = redis.call('HGET', KEYS[1], 'r')
if not r or cjson.decode(r).accountId ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1`

type StoredFields = Omit<SessionRecord, 'lastSeenAt' | 'twoFactorEnabled' | 'twoFactorRequiredBy'>

function encode(session: SessionRecord): string {
  const fields: StoredFields = {
    id: session.id,
    accountId: session.accountId,
    login: session.login,
    createdAt: session.createdAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    ip: session.ip,
    userAgent: session.userAgent,
  }
  return JSON.stringify(fields)
}

const isStringOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string'

const flag = (enabled: boolean) => (enabled ? '1' : '0')
const deadline = (requiredBy: number | null) => (requiredBy === null ? '' : String(requiredBy))
/** A missing field (a session written before the field existed) reads as no deadline. */
function parseDeadline(value: string | null): number | null {
  const ms = value === null || value === '' ? Number.NaN : Number(value)
  return Number.isFinite(ms) ? ms : null
}

function decode(
  json: string,
  lastSeenAt: string | null,
  twoFactor: string | null,
  requiredBy: string | null,
): SessionRecord | null {
  const value: unknown = JSON.parse(json)
  if (typeof value !== 'object' || value === null) return null
  const { id, accountId, login, createdAt, absoluteExpiresAt, ip, userAgent } = value as Record<string, unknown>
  const seen = Number(lastSeenAt)
  if (typeof id !== 'string' || typeof accountId !== 'string' || typeof login !== 'string') return null
  if (typeof createdAt !== 'number' || typeof absoluteExpiresAt !== 'number' || !Number.isFinite(seen)) return null
  if (!isStringOrNull(ip) || !isStringOrNull(userAgent)) return null
  return {
    id,
    accountId,
    login,
    twoFactorEnabled: twoFactor === '1',
    twoFactorRequiredBy: parseDeadline(requiredBy),
    createdAt,
    lastSeenAt: seen,
    absoluteExpiresAt,
    ip,
    userAgent,
  }
}

type AuthenticateReply = [string, string, string, string | null] | null

export class RedisSessionStore implements SessionStore {
  readonly #redis: RedisClient
  /** Sessions this instance read, kept current by Redis (null: known absent); undefined: none. */
  readonly #cache: CacheSpace<SessionRecord> | undefined
  readonly #tracked: TrackedCache | undefined

  constructor(redis: RedisClient, cache?: TrackedCache) {
    this.#redis = redis
    this.#tracked = cache
    this.#cache = cache?.space<SessionRecord>()
    redis.defineCommand('lkSessionCreate', { lua: createLua, numberOfKeys: 1 })
    redis.defineCommand('lkSessionIndexAdd', { lua: indexAddLua, numberOfKeys: 1 })
    redis.defineCommand('lkSessionAuthenticate', { lua: authenticateLua, numberOfKeys: 1 })
    redis.defineCommand('lkSessionTake', { lua: takeLua, numberOfKeys: 1 })
    redis.defineCommand('lkSessionSetCopy', { lua: setCopyLua, numberOfKeys: 1 })
    // Keys read by a script on the tracked connection are tracked too (Redis 7.0, checked by test).
    cache?.defineCommand('lkSessionAuthenticate', { lua: authenticateLua, numberOfKeys: 1 })
  }

  async create(digest: string, session: SessionRecord, idleMs: number): Promise<void> {
    const lifetimeMs = Math.ceil(session.absoluteExpiresAt - session.lastSeenAt)
    const ttlMs = Math.ceil(Math.min(idleMs, lifetimeMs))
    if (!(ttlMs > 0)) throw new RangeError('session would be born expired')
    const key = redisKeys.session(digest)
    this.#cache?.drop(key)
    await redisCall(() =>
      this.#redis.lkSessionCreate(
        key,
        encode(session),
        session.lastSeenAt,
        session.absoluteExpiresAt,
        flag(session.twoFactorEnabled),
        ttlMs,
        deadline(session.twoFactorRequiredBy),
      ),
    )
    // Session first, index second (different slots): if indexing fails the caller never hands out
    // the credential, whereas an index entry without its session is merely pruned later.
    try {
      await redisCall(() =>
        this.#redis.lkSessionIndexAdd(redisKeys.accountSessions(session.accountId), session.id, digest, lifetimeMs),
      )
    } catch (error) {
      await this.#redis.del(key).catch(() => undefined)
      throw error
    }
  }

  async authenticate(digest: string, now: number, idleMs: number, touchEveryMs: number): Promise<SessionRecord | null> {
    const key = redisKeys.session(digest)
    const cache = this.#cache
    if (cache === undefined || this.#tracked?.usable !== true) {
      const reply = await redisCall(() => this.#redis.lkSessionAuthenticate(key, now, Math.ceil(idleMs), touchEveryMs))
      return decodeReply(reply)
    }
    if (cache.has(key)) {
      await afterPendingIo()
      // Looked up again: the yield may just have applied this key's invalidation.
      const hit = cache.get(key)
      if (hit === null) return null
      // Expired, or due for its idle-expiry slide: the script decides and writes.
      if (
        hit !== undefined &&
        now - hit.lastSeenAt < touchEveryMs &&
        now - hit.lastSeenAt < idleMs &&
        now < hit.absoluteExpiresAt
      )
        return hit
    }
    // The script's own slide (a write) invalidates the entry again, so a touched session is kept
    // only from the next read on; an expired one is deleted, i.e. known absent.
    return redisCall(() =>
      cache.readThrough(
        key,
        async (reader) => decodeReply(await reader.lkSessionAuthenticate(key, now, Math.ceil(idleMs), touchEveryMs)),
        (session) => session,
      ),
    )
  }

  async list(accountId: string, now: number): Promise<SessionRecord[]> {
    const indexKey = redisKeys.accountSessions(accountId)
    return redisCall(async () => {
      const entries = Object.entries(await this.#redis.hgetall(indexKey))
      const rows = await Promise.all(
        entries.map(([, digest]) => this.#redis.hmget(redisKeys.session(digest), 'r', 'seen', 'tfa', 'req')),
      )
      const live: SessionRecord[] = []
      const stale: string[] = []
      entries.forEach(([id], i) => {
        const [json, seen, twoFactor, requiredBy] = rows[i] ?? []
        const session = json ? decode(json, seen ?? null, twoFactor ?? null, requiredBy ?? null) : null
        if (session && session.id === id && session.accountId === accountId && now < session.absoluteExpiresAt)
          live.push(session)
        else stale.push(id)
      })
      if (stale.length > 0) await this.#redis.hdel(indexKey, ...stale)
      return live.sort(byCreation)
    })
  }

  async revoke(accountId: string, ids: string[] | '*', keepId: string | null): Promise<number> {
    const indexKey = redisKeys.accountSessions(accountId)
    return redisCall(async () => {
      let targets: Array<[string, string]>
      if (ids === '*') {
        targets = Object.entries(await this.#redis.hgetall(indexKey)).filter(([id]) => id !== keepId)
      } else {
        const unique = [...new Set(ids)]
        if (unique.length === 0) return 0
        const digests = await this.#redis.hmget(indexKey, ...unique)
        targets = unique.flatMap((id, i): Array<[string, string]> => {
          const digest = digests[i]
          return digest ? [[id, digest]] : []
        })
      }
      if (targets.length === 0) return 0
      // Sessions go before their index entries, so a failure in between leaves only stale entries.
      const deleted = await this.#dropping(
        targets.map(([, digest]) => redisKeys.session(digest)),
        (keys) => Promise.all(keys.map((key) => this.#redis.del(key))),
      )
      await this.#redis.hdel(indexKey, ...targets.map(([id]) => id))
      return deleted.reduce((sum, n) => sum + n, 0)
    })
  }

  async remove(accountId: string, digest: string): Promise<void> {
    await redisCall(async () => {
      const key = redisKeys.session(digest)
      const json = await this.#dropping([key], () => this.#redis.lkSessionTake(key, accountId))
      const session = json === null ? null : decode(json, '0', null, null)
      if (session) await this.#redis.hdel(redisKeys.accountSessions(accountId), session.id)
    })
  }

  setTwoFactorEnabled(accountId: string, enabled: boolean): Promise<void> {
    return this.#setCopies(accountId, 'tfa', flag(enabled))
  }

  setTwoFactorRequiredBy(accountId: string, requiredBy: number | null): Promise<void> {
    return this.#setCopies(accountId, 'req', deadline(requiredBy))
  }

  /** Rewrites a copied account field in every session of the account. */
  async #setCopies(accountId: string, field: CopiedField, value: string): Promise<void> {
    await redisCall(async () => {
      const digests = Object.values(await this.#redis.hgetall(redisKeys.accountSessions(accountId)))
      await this.#dropping(
        digests.map((digest) => redisKeys.session(digest)),
        (keys) => Promise.all(keys.map((key) => this.#redis.lkSessionSetCopy(key, accountId, field, value))),
      )
    })
  }

  /**
   * Runs a change of these sessions, then forgets them locally at once (this instance does not wait
   * for Redis's invalidation to come back). Also on failure: the change may have landed.
   */
  async #dropping<T>(keys: string[], change: (keys: string[]) => Promise<T>): Promise<T> {
    try {
      return await change(keys)
    } finally {
      const cache = this.#cache
      if (cache !== undefined) for (const key of keys) cache.drop(key)
      // Other instances' caches: the change returns only once its invalidations have left Redis.
      await this.#tracked?.fence(this.#redis, keys)
    }
  }
}

function decodeReply(reply: AuthenticateReply): SessionRecord | null {
  return reply === null ? null : decode(reply[0], reply[1], reply[2], reply[3])
}

function byCreation(a: SessionRecord, b: SessionRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
