/**
 * The one shape of every store port's contract suite: a list of adapters, each opened once, run
 * through one suite function. A new adapter (or a new Redis deployment) is added to a list here
 * or beside the port's suite, never by copying a suite.
 */
import { after, before, describe } from 'node:test'
import type { RedisClient } from '../../src/store/redis/connection.js'
import type { TrackedCache } from '../../src/store/redis/tracked-cache.js'
import { assertEveryKeyExpires, testRedis, trackedCache } from './redis.js'
import { openClusterBackend } from './redis-cluster.js'

/** What a suite tests, opened for the suite and closed after it. */
export interface Opened<S> {
  subject: S
  close(): Promise<void>
}

export interface Adapter<S> {
  name: string
  open(): Promise<Opened<S>> | Opened<S>
}

/**
 * Declares `suite` once per adapter, each on its own freshly opened subject. The suite reads the
 * subject through the getter, which is valid inside hooks and tests.
 */
export function contractSuite<S>(port: string, adapters: readonly Adapter<S>[], suite: (subject: () => S) => void) {
  for (const adapter of adapters) {
    describe(`${port} contract (${adapter.name})`, () => {
      let opened: Opened<S> | undefined
      before(async () => {
        opened = await adapter.open()
      })
      after(async () => {
        await opened?.close()
      })
      suite(() => {
        if (opened === undefined) throw new Error('subject used outside a test')
        return opened.subject
      })
    })
  }
}

/** A Redis the Redis adapters run on: a client whose keys all carry `prefix`. */
export interface RedisBackend {
  name: string
  open():
    | Promise<{ redis: RedisClient; prefix: string; cleanup(): Promise<void> }>
    | { redis: RedisClient; prefix: string; cleanup(): Promise<void> }
}

/**
 * Every Redis deployment the Redis adapters are proven on: one Redis, and a real 3-master Redis
 * Cluster (started per suite), where a script or command whose keys span slots fails with CROSSSLOT.
 */
export const redisBackends: readonly RedisBackend[] = [
  { name: 'redis', open: testRedis },
  { name: 'redis cluster', open: openClusterBackend },
]

/**
 * The port's Redis adapter on every backend. At the end of the suite every key it left behind
 * must carry a TTL.
 */
export function redisAdapters<S>(make: (redis: RedisClient) => S): Adapter<S>[] {
  return redisBackends.map((backend) => ({
    name: backend.name,
    async open() {
      const { redis, prefix, cleanup } = await backend.open()
      return {
        subject: make(redis),
        async close() {
          try {
            await assertEveryKeyExpires(redis, prefix)
          } finally {
            await cleanup()
          }
        },
      }
    },
  }))
}

/**
 * The port's Redis adapter with the in-process cache kept by Redis's client tracking in front
 * (confirmed before the suite starts), on every backend: on the cluster a tracked connection per
 * master, built on the adapter's own cluster client as the service does.
 */
export function trackedRedisAdapters<S>(make: (redis: RedisClient, cache: TrackedCache) => S): Adapter<S>[] {
  return redisBackends.map((backend) => ({
    name: `${backend.name} with tracked cache`,
    async open() {
      const { redis, prefix, cleanup } = await backend.open()
      const cache = await trackedCache(prefix, redis)
      return {
        subject: make(redis, cache),
        async close() {
          try {
            await assertEveryKeyExpires(redis, prefix)
          } finally {
            await cache.close()
            await cleanup()
          }
        },
      }
    },
  }))
}

/** The port's in-process adapter; `close` stops its sweep timers. */
export function memoryAdapter<S>(make: () => S, close: (subject: S) => void): Adapter<S> {
  return {
    name: 'memory',
    open() {
      const subject = make()
      return { subject, close: async () => close(subject) }
    },
  }
}
