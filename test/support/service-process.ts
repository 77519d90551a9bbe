import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { generateKeyMaterial } from '../../src/crypto/keyring.js'
import { eventually } from './calls.js'
import { createTestDatabase } from './postgres.js'
import { deleteKeysWithPrefix, testRedisUrl } from './redis.js'

export interface ServiceProcess {
  child: ChildProcess
  /** Everything the process wrote so far, stdout and stderr. */
  output(): string
}

/**
 * The real process (src/main.ts) as production runs it: real backends mandatory, nothing
 * embedded can stand in. `env` adds or overrides settings.
 */
export function spawnService(options: {
  databaseUrl: string
  redisPrefix: string
  port: number
  env?: Record<string, string>
}): ServiceProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: options.redisPrefix,
    SECRETS_KEY: generateKeyMaterial(),
    BCRYPT_COST: '4',
    PORT: String(options.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    METRICS_PORT: '0',
    ...options.env,
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  return { child, output: collectOutput(child) }
}

/** Everything a child writes to stdout and stderr, as one growing text. */
export function collectOutput(child: ChildProcess): () => string {
  let output = ''
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  return () => output
}

/** A fresh database and Redis key prefix for one service process; `release` drops both. */
export async function createProcessBacking(): Promise<{
  databaseUrl: string
  redisPrefix: string
  release(): Promise<void>
}> {
  const database = await createTestDatabase()
  const redisPrefix = `test:${randomBytes(6).toString('hex')}:`
  return {
    databaseUrl: database.url,
    redisPrefix,
    async release() {
      await deleteKeysWithPrefix(testRedisUrl, redisPrefix)
      await database.drop()
    },
  }
}

/** Waits for `${base}/readyz` to answer 200; fails at once, with its output, if the process exits. */
export async function untilReady(base: string, service: ServiceProcess, timeoutMs: number, what: string) {
  await eventually(
    async () => {
      assert.equal(service.child.exitCode, null, `the service exited: ${service.output()}`)
      return (await fetch(`${base}/readyz`).catch(() => null))?.status === 200
    },
    timeoutMs,
    what,
  )
}

/** SIGTERM, then waits for the exit; nothing when the process has already ended. */
export async function stopProcess(child: ChildProcess | null | undefined): Promise<void> {
  if (child === null || child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await exited
}
