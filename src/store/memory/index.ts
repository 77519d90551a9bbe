import type { EphemeralStores } from '../redis/index.js'
import { MemoryAttemptBoxStore } from './attempt-box.js'
import { MemoryLimitStore } from './limits.js'
import { MemorySessionStore } from './sessions.js'
import { MemoryTokenCacheStore } from './token-cache.js'
import type { Clock } from './ttl-map.js'

/**
 * The ephemeral stores in this process, for running without REDIS_URL: same contract as Redis,
 * but nothing is shared between instances and nothing survives a restart.
 */
export function openMemoryStores(options: { now?: Clock } = {}): EphemeralStores {
  const sessions = new MemorySessionStore(options)
  const pendingSignIns = new MemoryAttemptBoxStore(options)
  const enrolments = new MemoryAttemptBoxStore(options)
  const limits = new MemoryLimitStore(options)
  const tokenCache = new MemoryTokenCacheStore(options)
  return {
    sessions,
    pendingSignIns,
    enrolments,
    limits,
    tokenCache,
    ping: async () => true,
    async close() {
      for (const store of [sessions, pendingSignIns, enrolments, limits, tokenCache]) store.close()
    },
  }
}
