import { randomBytes } from 'node:crypto'
import assert from 'node:assert/strict'
import { Cluster, Redis } from 'ioredis'
import { StoreUnavailableError } from '../../src/errors.js'
import { connectRedis, type RedisClient } from '../../src/store/redis/connection.js'
import {
  ClusterTrackedCache,
  type NodeTracker,
  ServerTrackedCache,
  type TrackedCache,
} from '../../src/store/redis/tracked-cache.js'
import { eventually } from './calls.js'

export const testRedisUrl = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

/** A port nothing listens on: connections are refused at once. */
export const unreachableRedisUrl = 'redis://127.0.0.1:1'

/**
 * A client on the test Redis whose keys all carry a fresh random prefix (or `prefix`, to share
 * one), so suites running in parallel (and the service's own keys) never meet. `cleanup` deletes
 * those keys and disconnects.
 */
export function testRedis(prefix = `lktest:${randomBytes(6).toString('hex')}:`): {
  redis: Redis
  prefix: string
  cleanup(): Promise<void>
} {
  const redis = connectRedis(testRedisUrl, { keyPrefix: prefix })
  return {
    redis,
    prefix,
    async cleanup() {
      await deleteKeysWithPrefix(testRedisUrl, prefix)
      await redis.quit()
    },
  }
}

/** The keys under this client's prefix, without it (SCAN matches and returns full names; a cluster is scanned master by master). */
export async function prefixedKeys(redis: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = []
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      found.push(...keys.map((key) => key.slice(prefix.length)))
    } while (cursor !== '0')
  }
  return found
}

/** The call must reject with StoreUnavailableError, and quickly: an outage must never hang a request. */
export async function assertUnavailableFast(call: () => Promise<unknown>, withinMs = 2_000): Promise<void> {
  const started = performance.now()
  await assert.rejects(call, StoreUnavailableError)
  const took = performance.now() - started
  assert.ok(took < withinMs, `took ${Math.round(took)} ms`)
}

/** A client pointed where nothing listens, as the service would see a Redis outage. */
export function unreachableRedis(): Redis {
  return connectRedis(unreachableRedisUrl)
}

/** Records the name of every command the client sends (round trips of one call). */
export function recordCommands(client: RedisClient): { names: string[]; stop(): void } {
  // A cluster client's sendCommand takes one more (optional) argument: the widest signature fits both.
  const redis: { sendCommand(...args: Parameters<Cluster['sendCommand']>): unknown } = client
  const names: string[] = []
  const original = redis.sendCommand
  redis.sendCommand = (...args: Parameters<Cluster['sendCommand']>) => {
    names.push(args[0].name)
    return original.apply(redis, args)
  }
  return { names, stop: () => void Reflect.deleteProperty(redis, 'sendCommand') }
}

/** Every key under the prefix must be on its way out: nothing ephemeral may live forever. */
export async function assertEveryKeyExpires(redis: RedisClient, prefix: string): Promise<void> {
  const keys = await prefixedKeys(redis, prefix)
  const ttls = await Promise.all(keys.map((key) => redis.pttl(key)))
  const immortal = keys.filter((_, i) => (ttls[i] ?? 0) === -1)
  assert.deepEqual(immortal, [], 'keys without a TTL')
}

/** Deletes every key under `prefix` on the Redis at `url` (what a test app or bench run left). */
export async function deleteKeysWithPrefix(url: string, prefix: string): Promise<void> {
  const redis = connectRedis(url, { keyPrefix: prefix })
  try {
    const keys = await prefixedKeys(redis, prefix)
    // UNLINK takes the keys without the prefix; the client adds it back.
    for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500))
  } finally {
    redis.disconnect()
  }
}

/**
 * A tracked in-process cache under `prefix`, once Redis confirmed its tracking (on every master):
 * on the cluster `on` is a client of (built on that client, as the service does), else on the
 * test Redis.
 */
export async function trackedCache(prefix: string, on?: RedisClient): Promise<TrackedCache> {
  const cache =
    on instanceof Cluster
      ? new ClusterTrackedCache(on, { keyPrefix: prefix })
      : new ServerTrackedCache(testRedisUrl, { keyPrefix: prefix })
  await eventually(async () => cache.usable, 10_000, 'client tracking confirmed', 10)
  return cache
}

/** A plain connection to the node a tracker is on (to kill its connections there). */
export async function onTrackedNode<T>(tracker: NodeTracker, work: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({ host: tracker.reader.options.host, port: tracker.reader.options.port })
  try {
    return await work(node)
  } finally {
    node.disconnect()
  }
}
