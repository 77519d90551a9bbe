import { Cluster, Redis } from 'ioredis'
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

/** One Redis or a Redis Cluster: the stores use only commands and scripts that work on both. */
export type RedisClient = Redis | Cluster

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

/**
 * A Redis Cluster client from seed nodes (`host:port`). Same failure rules as one Redis: no resend,
 * no queue once up; a slot whose master is gone fails the call instead of waiting for a failover.
 */
export function connectRedisCluster(
  nodes: Array<{ host: string; port: number }>,
  options: RedisConnectionOptions = {},
): Cluster {
  const cluster = new Cluster(nodes, {
    keyPrefix: options.keyPrefix ?? '',
    enableReadyCheck: true,
    enableAutoPipelining: true,
    // CLUSTERDOWN and a refused node are answered at once: retrying inside one call would only
    // hold the request while the cluster decides, and a resent script could count twice.
    retryDelayOnClusterDown: 0,
    retryDelayOnFailover: 0,
    retryDelayOnTryAgain: 0,
    maxRedirections: 3,
    slotsRefreshTimeout: options.connectTimeoutMs ?? defaultTimeoutMs,
    clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt - 1, 10), reconnectCapMs),
    redisOptions: {
      connectTimeout: options.connectTimeoutMs ?? defaultTimeoutMs,
      commandTimeout: options.commandTimeoutMs ?? defaultTimeoutMs,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    },
  })
  const failFast = () => {
    cluster.options.enableOfflineQueue = false
    cluster.off('ready', failFast).off('reconnecting', failFast)
  }
  cluster.on('ready', failFast).on('reconnecting', failFast)
  cluster.on('error', options.onError ?? (() => undefined))
  cluster.on('node error', options.onError ?? (() => undefined))
  return cluster
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
const unavailableMessages = [
  'Connection is closed',
  "Stream isn't writeable",
  'Command timed out',
  // Cluster client: no node reachable, slot map unknown, or redirected past its limit while a
  // master is down.
  'Failed to refresh slots cache',
  'None of startup nodes is available',
  "Cluster isn't ready",
  'Cluster is disconnected',
  'Cluster is ended',
  'Too many Cluster redirections',
]
// Server replies that mean "not now" rather than "wrong": loading, a busy script, failover, and
// a redirection the cluster client gave up on (the slot's owner is down or the map is changing).
const unavailableReplies = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|MOVED|ASK)\b/

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

/**
 * Whether the backend can serve every key. One Redis: PING. A cluster: every master the slot map
 * names is connected and reports `cluster_state:ok` (a node answering PING proves nothing about
 * the slots of a master that is down).
 */
export async function isRedisHealthy(client: RedisClient): Promise<boolean> {
  if (!(client instanceof Cluster)) return (await client.ping()) === 'PONG'
  const masters = client.nodes('master')
  const owners = new Set(client.slots.flatMap((nodes) => nodes.slice(0, 1)))
  if (masters.length === 0 || owners.size === 0) return false
  const connected = new Set(masters.map((node) => `${node.options.host}:${node.options.port}`))
  if ([...owners].some((owner) => !connected.has(owner))) return false
  const infos = await Promise.all(masters.map((node) => node.cluster('INFO')))
  return infos.every((info) => /^cluster_state:ok\b/m.test(String(info)))
}
