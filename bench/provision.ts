/**
 * What the scenarios run against: a fresh database and Redis prefix (removed at the end), the
 * service as a child process, Baseline A (bare Fastify), and embedded starts of `npm start`.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { createTestDatabase } from '../test/support/postgres.js'
import { deleteKeysWithPrefix } from '../test/support/redis.js'
import { bcryptCost, options, redisUrl, root, threadPool } from './cli.js'
import { freePort, waitFor200 } from './lib.js'
import { childEnv, type Child, running, start, stop, workDir } from './processes.js'

export interface Backing {
  databaseUrl: string
  redisPrefix: string
  secretsKey: string
  release(): Promise<void>
}

export async function createBacking(): Promise<Backing> {
  const database = await createTestDatabase({ stem: 'latchkey_bench', durable: true })
  const redisPrefix = `bench:${randomBytes(6).toString('hex')}:`
  return {
    databaseUrl: database.url,
    redisPrefix,
    secretsKey: randomBytes(32).toString('base64'),
    async release() {
      await deleteKeysWithPrefix(redisUrl, redisPrefix)
      await database.drop()
    },
  }
}

export interface Target {
  baseUrl: string
  /** null: not a process of ours (--url). */
  child: Child | null
  /** For CPU and RSS: our child's, or --server-pid; null: n/a. */
  pid: number | null
}

export const huge = '1000000000'

export async function startService(backing: Backing, name: string, limits: 'raised' | 'default'): Promise<Target> {
  const port = await freePort()
  const env = childEnv(
    {
      NODE_ENV: 'production',
      DATABASE_URL: backing.databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: backing.redisPrefix,
      SECRETS_KEY: backing.secretsKey,
      LOG_LEVEL: 'info',
      PORT: String(port),
      HOST: '127.0.0.1',
      BCRYPT_COST: bcryptCost,
      UV_THREADPOOL_SIZE: threadPool,
      DATA_DIR: path.join(workDir, 'data'),
      // Load comes from one address: the per-IP call limits would measure themselves, not the service.
      SIGNUP_MAX_PER_IP: huge,
      ANONYMOUS_CALLS_MAX_PER_IP: huge,
      ...(limits === 'raised'
        ? { SIGNIN_MAX_PER_LOGIN_IP: huge, SIGNIN_MAX_PER_IP: huge, SIGNIN_MAX_PER_LOGIN: huge }
        : {}),
    },
    limits === 'default' ? ['SIGNIN_MAX_PER_LOGIN_IP', 'SIGNIN_MAX_PER_IP', 'SIGNIN_MAX_PER_LOGIN'] : [],
  )
  const profile =
    options.cpuProf === null
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
  // Through the same launcher as `npm start` and the Dockerfile, so the production memory settings apply.
  const child = start(name, path.join(root, 'bin/latchkey'), [], {
    ...env,
    LATCHKEY_NODE_ARGS: [...profile, ...options.nodeArgs].join(' '),
  })
  running.add({ child, group: false })
  const baseUrl = `http://127.0.0.1:${port}`
  try {
    await waitFor200(`${baseUrl}/readyz`, 60_000, () => !child.exited())
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n--- ${child.logFile}:\n${readFileSync(child.logFile, 'utf8').slice(-3000)}`,
    )
  }
  return { baseUrl, child, pid: child.pid }
}

export async function stopTarget(target: Target, graceMs?: number): Promise<void> {
  if (target.child === null) return
  await stop(target.child, false, graceMs)
}

export async function startBaselineFastify(): Promise<Target> {
  const port = await freePort()
  const child = start(
    'baseline-fastify',
    process.execPath,
    ['bench/baseline-fastify.mjs'],
    childEnv({ PORT: String(port) }),
  )
  running.add({ child, group: false })
  const baseUrl = `http://127.0.0.1:${port}`
  await waitFor200(`${baseUrl}/readyz`, 20_000, () => !child.exited())
  return { baseUrl, child, pid: child.pid }
}

/**
 * The embedded service (no DATABASE_URL / REDIS_URL) through bin/latchkey, as `npm start` runs it,
 * so its own pid gives CPU and RSS (npm would be the pid of `npm start`).
 */
export async function startEmbedded(dataDir: string): Promise<Target> {
  const port = await freePort()
  const env = childEnv(
    { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', BCRYPT_COST: bcryptCost },
    ['DATABASE_URL', 'REDIS_URL', 'REDIS_KEY_PREFIX', 'SECRETS_KEY', 'NODE_ENV'],
  )
  const child = start('embedded-load', path.join(root, 'bin/latchkey'), [], env)
  running.add({ child, group: false })
  const baseUrl = `http://127.0.0.1:${port}`
  await waitFor200(`${baseUrl}/readyz`, 60_000, () => !child.exited())
  return { baseUrl, child, pid: child.pid }
}

/** `npm start` with no DATABASE_URL / REDIS_URL (embedded PGlite + in-process store) until /readyz answers 200. */
export async function embeddedStart(dataDir: string, label: string): Promise<{ ms: number; note: string | null }> {
  const port = await freePort()
  const env = childEnv({ DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' }, [
    'DATABASE_URL',
    'REDIS_URL',
    'REDIS_KEY_PREFIX',
    'SECRETS_KEY',
    'NODE_ENV',
  ])
  const started = performance.now()
  // Detached: npm runs node through a shell; the whole group is stopped afterwards.
  const child = start(`embedded-${label}`, 'npm', ['start', '--silent'], env, true)
  running.add({ child, group: true })
  try {
    await waitFor200(`http://127.0.0.1:${port}/readyz`, 60_000, () => !child.exited())
    return { ms: performance.now() - started, note: null }
  } catch (error) {
    return { ms: Number.NaN, note: `${error instanceof Error ? error.message : String(error)} (log: ${child.logFile})` }
  } finally {
    await stop(child, true)
  }
}
