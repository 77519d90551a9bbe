import type { Stores } from '../ports/index.js'
import { RedisAttemptBoxStore } from './attempt-box.js'
import { isRedisHealthy, redisCall, type RedisClient } from './connection.js'
import { RedisLimitStore } from './limits.js'
import { RedisSessionStore } from './sessions.js'
import { RedisTokenCacheStore } from './token-cache.js'
import type { TrackedCache } from './tracked-cache.js'

export interface EphemeralStores
  extends Pick<Stores, 'sessions' | 'pendingSignIns' | 'enrolments' | 'limits' | 'tokenCache'> {
  /** The backend answers, and a cluster reports itself healthy (for /readyz). */
  ping(): Promise<boolean>
  close(): Promise<void>
}

/**
 * The ephemeral stores on one Redis client; `close` ends that client. With `cache` (on one Redis
 * server or a Redis Cluster), sessions and cached tokens are served from process memory kept
 * current by Redis (see tracked-cache.ts).
 */
export function openRedisStores(redis: RedisClient, cache?: TrackedCache): EphemeralStores {
  const tokenCache = new RedisTokenCacheStore(redis, cache)
  return {
    sessions: new RedisSessionStore(redis, cache),
    pendingSignIns: new RedisAttemptBoxStore(redis, 'pending'),
    enrolments: new RedisAttemptBoxStore(redis, 'enrol'),
    limits: new RedisLimitStore(redis),
    tokenCache,
    async ping() {
      try {
        return await redisCall(() => isRedisHealthy(redis))
      } catch {
        return false
      }
    },
    async close() {
      // Batched token uses go out before the connections close.
      await tokenCache.close()
      await cache?.close()
      // QUIT lets replies in flight arrive; when Redis is down it cannot be sent, so just drop the socket.
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
