import { Redis } from 'ioredis'
import { StoreUnavailableError } from '../../errors.js'

export interface RedisConnectionOptions {
  /** Prepended to every key (tests use a random one per suite). Lua scripts see keys only through KEYS. */
  keyPrefix?: string
  /** Connection-level errors; ioredis reconnects by itself, so these are for logging only. */
  onError?: (error: Error) => void
  /** Bounds every command (the service passes STORE_TIMEOUT_MS): a black-holed server never closes the socket. */
  commandTimeoutMs?: number
  connectTimeoutMs?: number
}

const reconnectCapMs = 2_000
const defaultTimeoutMs = 1_500

/**
 * A client that fails fast while Redis is down and recovers on its own when it returns. Calls made
 * during the very first connection attempt wait for it (so start-up order does not matter); from
 * then on the offline queue is off, so an outage answers at once instead of piling up calls.
 */
export function connectRedis(url: string, options: RedisConnectionOptions = {}): Redis {
  const redis = new Redis(url, {
    keyPrefix: options.keyPrefix ?? '',
    lazyConnect: false,
    connectTimeout: options.connectTimeoutMs ?? defaultTimeoutMs,
    commandTimeout: options.commandTimeoutMs ?? defaultTimeoutMs,
    // Zero: calls queued or in flight when a connection drops are rejected at that moment, never
    // resent (a resent `fail` or `hit` script would count twice).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Commands issued in the same tick leave in one write: the hot path is one script call per
    // request, and under load this saves a syscall and a buffer copy per request.
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt - 1, 10), reconnectCapMs),
  })
  const failFast = () => {
    redis.options.enableOfflineQueue = false
    redis.off('ready', failFast).off('reconnecting', failFast)
  }
  redis.on('ready', failFast).on('reconnecting', failFast)
  // Without a listener ioredis prints every reconnect failure; calls report the outage instead.
  redis.on('error', options.onError ?? (() => undefined))
  return redis
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
])
const unavailableMessages = ['Connection is closed', "Stream isn't writeable", 'Command timed out']
// Server replies that mean "not now" rather than "wrong": loading, a busy script, failover.
const unavailableReplies = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/

/** True for errors that say Redis could not answer, as opposed to a script or usage error. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'MaxRetriesPerRequestError') return true
  const code = 'code' in error ? error.code : undefined
  if (typeof code === 'string' && unavailableCodes.has(code)) return true
  if (unavailableMessages.some((m) => error.message.includes(m))) return true
  return unavailableReplies.test(error.message)
}

/** Runs Redis work, turning connection failures into StoreUnavailableError; script and usage errors pass. */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error
    if (isRedisUnavailable(error)) throw new StoreUnavailableError('redis', { cause: error })
    throw error
  }
}
