import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient } from './store/redis/connection.js'
import type { Config } from './config.js'
import type { Stores } from './store/ports/index.js'
import type { PasswordHasher } from './crypto/password-hash.js'
import type { ApiCatalog } from './api-catalog.js'
import type { SecretBox } from './crypto/secret-box.js'
import type { Clock } from './clock.js'
import type { Metrics } from './metrics.js'

/** What a method handler may use: configuration, the stores and a few stateless helpers. */
export interface Services {
  config: Config
  stores: Stores
  passwords: PasswordHasher
  catalog: ApiCatalog
  /** Seals secrets that must rest outside Postgres too (pending enrolments in Redis). */
  secretBox: SecretBox
  /** Within a call, the request's logger (its lines carry the request id). */
  log: FastifyBaseLogger
  clock: Clock
  /** The shared Redis client, for @fastify/rate-limit's store; null when running embedded. */
  redis: RedisClient | null
  /** Counters an operator alerts on; the pipeline records every call itself. */
  metrics: Metrics
}
