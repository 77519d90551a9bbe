import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { connectRedis } from '../../src/store/redis/connection.js'

export const testRedisUrl = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

/** A port nothing listens on: connections are refused at once. */
export const unreachableRedisUrl = 'redis://127.0.0.1:1'

/**
 * A client on the test Redis whose keys all carry a fresh random prefix, so suites running in
 * parallel (and the service's own keys) never meet. `cleanup` deletes those keys and disconnects.
 */
export function testRedis(): { redis: Redis; prefix: string; cleanup(): Promise<void> } {
  const prefix = `lktest:${randomBytes(6).toString('hex')}:`
  const redis = connectRedis(testRedisUrl, { keyPrefix: prefix })
  return {
    redis,
    prefix,
    async cleanup() {
      // SCAN patterns and the keys it returns carry no automatic prefix; DEL adds it back.
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
        cursor = next
        if (keys.length > 0) await redis.unlink(...keys.map((key) => key.slice(prefix.length)))
      } while (cursor !== '0')
      await redis.quit()
    },
  }
}

/** How many keys under this client's prefix exist (for "everything has a TTL" checks). */
export async function prefixedKeys(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
    cursor = next
    found.push(...keys.map((key) => key.slice(prefix.length)))
  } while (cursor !== '0')
  return found
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
