import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Cluster } from 'ioredis'
import type { Logger } from 'pino'
import { parseHostPorts, type Config } from './config.js'
import type { Services } from './services.js'
import type { Stores } from './store/ports/index.js'
import { createPasswordHasher } from './crypto/password-hash.js'
import { generateKeyMaterial, parseKeyring } from './crypto/keyring.js'
import { createSecretBox } from './crypto/secret-box.js'
import { buildApiCatalog, loadPlatformCatalog } from './api-catalog.js'
import { methodTable } from './rpc/methods.js'
import { openPrisma } from './store/postgres/client.js'
import { openPostgresStores } from './store/postgres/index.js'
import { connectRedis, connectRedisCluster, type RedisClient } from './store/redis/connection.js'
import { openRedisStores } from './store/redis/index.js'
import { ClusterTrackedCache, ServerTrackedCache, type TrackedCache } from './store/redis/tracked-cache.js'
import { openMemoryStores } from './store/memory/index.js'
import { systemClock } from './clock.js'
import { createMetrics, type MetricsRegistry } from './metrics.js'

export interface Runtime {
  services: Services
  /** The registry behind services.metrics, served on METRICS_PORT by main. */
  metrics: MetricsRegistry
  /** One line for the start-up log: which backends, where the data lives. */
  description: string
  close(): Promise<void>
}

/** SECRETS_KEY, or in development a key generated once into DATA_DIR (config refuses this in production). */
export async function loadSecretsKey(config: Config): Promise<{ value: string; source: string }> {
  if (config.SECRETS_KEY !== undefined) return { value: config.SECRETS_KEY, source: 'SECRETS_KEY' }
  const file = resolve(config.DATA_DIR, 'secrets.key')
  try {
    return { value: (await readFile(file, 'utf8')).trim(), source: file }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(config.DATA_DIR, { recursive: true })
  await writeFile(file, `${generateKeyMaterial()}\n`, { mode: 0o600, flag: 'wx' })
  return { value: (await readFile(file, 'utf8')).trim(), source: `${file} (generated)` }
}

/** Opens every backend the configuration names (embedded ones when a URL is unset). */
export async function openRuntime(config: Config, log: Logger): Promise<Runtime> {
  const key = await loadSecretsKey(config)
  const secretBox = createSecretBox(parseKeyring(key.value))
  // Independent start-up work overlaps: the dummy bcrypt hash runs on the thread pool meanwhile.
  const [passwords, platform, db] = await Promise.all([
    createPasswordHasher(config.BCRYPT_COST),
    loadPlatformCatalog(config.API_CATALOG_FILE),
    openPrisma({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      storeTimeoutMs: config.STORE_TIMEOUT_MS,
    }),
  ])
  const own = methodTable.filter((m) => m.auth === 'any').map((m) => ({ name: m.name, description: m.summary }))
  const catalog = buildApiCatalog(own, platform)

  const { ping: pingPostgres, ...durable } = openPostgresStores(db.prisma, secretBox)
  const redis = openRedisClient(config)
  const {
    ping: pingRedis,
    close: closeRedis,
    ...ephemeral
  } = redis === null ? openMemoryStores() : openRedisStores(redis, openCredentialCache(config, redis))

  const stores: Stores = {
    ...durable,
    ...ephemeral,
    async ping() {
      const [postgres, redis] = await Promise.all([pingPostgres(), pingRedis()])
      return { postgres, redis }
    },
    async close() {
      await Promise.allSettled([closeRedis(), db.close()])
    },
  }

  const redisWhere =
    config.REDIS_CLUSTER_NODES !== undefined
      ? `redis cluster at ${config.REDIS_CLUSTER_NODES}`
      : config.REDIS_URL === undefined
        ? 'embedded in-process store (nothing shared, nothing kept)'
        : `redis at ${redactUrl(config.REDIS_URL)}`
  const description = `postgres: ${db.kind === 'pglite' ? `embedded PGlite in ${db.location}` : `server at ${redactUrl(db.location)}`}; ${redisWhere}; secrets key from ${key.source}`
  const metrics = createMetrics({
    methods: methodTable.map((m) => m.name),
    storesUp: () => stores.ping(),
    processMetrics: config.METRICS_PORT !== 0,
  })
  return {
    services: { config, stores, passwords, catalog, log, secretBox, clock: systemClock, redis, metrics },
    metrics,
    description,
    close: () => stores.close(),
  }
}

/** The configured Redis or Redis Cluster client; null means the embedded store. */
function openRedisClient(config: Config): RedisClient | null {
  const options = {
    keyPrefix: config.REDIS_KEY_PREFIX,
    commandTimeoutMs: config.STORE_TIMEOUT_MS,
    connectTimeoutMs: config.STORE_TIMEOUT_MS,
  }
  if (config.REDIS_CLUSTER_NODES !== undefined) {
    // loadConfig has checked the list; an empty result cannot reach here.
    return connectRedisCluster(parseHostPorts(config.REDIS_CLUSTER_NODES) ?? [], options)
  }
  return config.REDIS_URL === undefined ? null : connectRedis(config.REDIS_URL, options)
}

/**
 * The in-process credential cache kept by Redis's client tracking. On one Redis server: a tracked
 * connection and an invalidation subscriber of its own. On a cluster each key's invalidations come
 * from its master: a pair per master, found through the cluster client's slot map, and the whole
 * cache dropped on every topology change (tracked-cache.ts).
 */
function openCredentialCache(config: Config, redis: RedisClient): TrackedCache | undefined {
  const options = { keyPrefix: config.REDIS_KEY_PREFIX, timeoutMs: config.STORE_TIMEOUT_MS }
  if (redis instanceof Cluster) return new ClusterTrackedCache(redis, options)
  return config.REDIS_URL === undefined ? undefined : new ServerTrackedCache(config.REDIS_URL, options)
}

/** Connection strings may carry passwords; logs get host and database only. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = parsed.password === '' ? '' : '***'
    return parsed.toString()
  } catch {
    return '(unparsable url)'
  }
}
