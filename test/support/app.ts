import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { buildApp } from '../../src/app.js'
import { openRuntime } from '../../src/runtime.js'
import type { Services } from '../../src/services.js'
import { generateKeyMaterial } from '../../src/crypto/keyring.js'
import { createTestDatabase } from './postgres.js'
import { deleteKeysWithPrefix, testRedisUrl } from './redis.js'
import { startPrivateRedis, type PrivateRedis } from './redis-server.js'
import { startTcpProxyTo, type TcpProxy } from './tcp-proxy.js'

export { testRedisUrl }

export interface CallResult {
  status: number
  // Bodies are whatever the service answered; tests narrow them with assertions.
  body: Record<string, unknown> & {
    result?: Record<string, unknown>
    error?: { code: number; message: string; data: Record<string, unknown> }
  }
  headers: Record<string, string | string[] | number | undefined>
}

export interface CallOptions {
  bearer?: string
  headers?: Record<string, string>
}

/** What several app instances share: one database, one Redis prefix, one secrets key. */
interface Backing {
  env: Record<string, string>
  dataDir: string
  release(): Promise<void>
}

export interface TestApp {
  app: FastifyInstance
  services: Services
  backing: Backing
  /** Every log line the app wrote. */
  logLines: string[]
  rpc(method: string, params?: unknown, options?: CallOptions): Promise<CallResult>
  api(method: string, params?: unknown, options?: CallOptions): Promise<CallResult>
  signUp(login?: string): Promise<{ login: string; password: string; accountId: string }>
  signIn(login: string, password: string): Promise<string>
  /** A fresh account with a session, so tests never see each other's data. */
  signUpAndIn(): Promise<{ login: string; password: string; accountId: string; session: string }>
  close(): Promise<void>
}

let counter = 0
export const uniqueLogin = (stem = 'user') => `${stem}${process.pid}x${Date.now().toString(36)}${counter++}@example.com`
export const strongPassword = () => `Tr0ub4dor&${randomBytes(6).toString('hex')}`

async function createBacking(embedded: boolean): Promise<Backing> {
  const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-test-'))
  const base = { SECRETS_KEY: generateKeyMaterial(), DATA_DIR: dataDir }
  if (embedded) return { env: base, dataDir, release: () => rm(dataDir, { recursive: true, force: true }) }
  const db = await createTestDatabase()
  const prefix = `test:${randomBytes(6).toString('hex')}:`
  return {
    env: { ...base, DATABASE_URL: db.url, REDIS_URL: testRedisUrl, REDIS_KEY_PREFIX: prefix },
    dataDir,
    async release() {
      await deleteKeysWithPrefix(testRedisUrl, prefix)
      await db.drop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * A fresh app on real Postgres and real Redis (or the embedded backends), talked to with inject().
 * `share` starts a second instance on the same backing stores, as a second server would be.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: { embedded?: boolean; share?: TestApp } = {},
): Promise<TestApp> {
  const backing = options.share?.backing ?? (await createBacking(options.embedded === true))
  const owner = options.share === undefined
  const config = loadConfig({
    BCRYPT_COST: '4',
    LOG_LEVEL: 'info',
    // Tests sign up and sign in many times from one address; the tests of these limits set their own.
    SIGNUP_MAX_PER_IP: '100000',
    ANONYMOUS_CALLS_MAX_PER_IP: '100000',
    API_CATALOG_FILE: 'config/api-catalog.json',
    // Tests never take the metrics port (main alone listens on it; 0 also skips process metrics).
    METRICS_PORT: '0',
    ...backing.env,
    ...env,
  })
  const logLines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString())
      done()
    },
  })
  const logger = createLogger(config.LOG_LEVEL, sink)
  const runtime = await openRuntime(config, logger)
  const app = buildApp({ services: runtime.services, logger })
  await app.ready()

  const call = async (url: string, payload: unknown, options: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
    if (options.bearer !== undefined) headers['authorization'] = `Bearer ${options.bearer}`
    const response = await app.inject({
      method: 'POST',
      url,
      headers,
      payload: payload === undefined ? '' : JSON.stringify(payload),
    })
    const body = response.body === '' ? {} : (JSON.parse(response.body) as CallResult['body'])
    return { status: response.statusCode, body, headers: response.headers }
  }

  const testApp: TestApp = {
    app,
    services: runtime.services,
    backing,
    logLines,
    rpc: (method, params, options) =>
      call('/rpc', { jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) }, options),
    api: (method, params, options) => call(`/api/${method}`, params, options),
    async signUp(login = uniqueLogin()) {
      const password = strongPassword()
      const reply = await call('/api/SignUp', { login, password })
      if (reply.status !== 200) throw new Error(`SignUp failed: ${JSON.stringify(reply.body)}`)
      return { login, password, accountId: String(reply.body['accountId']) }
    },
    async signIn(login, password) {
      const reply = await call('/api/SignIn', { login, password })
      if (reply.status !== 200 || typeof reply.body['session'] !== 'string')
        throw new Error(`SignIn failed: ${JSON.stringify(reply.body)}`)
      return reply.body['session']
    },
    async signUpAndIn() {
      const account = await testApp.signUp()
      return { ...account, session: await testApp.signIn(account.login, account.password) }
    },
    async close() {
      await app.close()
      await runtime.close()
      if (owner) await backing.release()
    },
  }
  return testApp
}

export interface TwoInstances {
  a: TestApp
  b: TestApp
  close(): Promise<void>
}

/** Two app instances on the same backing stores, as two servers behind one load balancer. */
export async function startTwoInstances(env: Record<string, string> = {}): Promise<TwoInstances> {
  const a = await startTestApp(env)
  const b = await startTestApp(env, { share: a })
  return {
    a,
    b,
    async close() {
      await b.close()
      await a.close()
    },
  }
}

export interface ProxiedPostgresApp {
  t: TestApp
  /** Pause it to take Postgres away from the app; the database itself stays up. */
  proxy: TcpProxy
  /** The app's own test database; its `url` bypasses the proxy. */
  database: Awaited<ReturnType<typeof createTestDatabase>>
  close(): Promise<void>
}

/** An app on a fresh test database that it reaches only through a pausable TCP proxy. */
export async function startBehindPostgresProxy(): Promise<ProxiedPostgresApp> {
  const database = await createTestDatabase()
  const proxy = await startTcpProxyTo(database.url)
  const t = await startTestApp({ DATABASE_URL: proxy.via(database.url) })
  return {
    t,
    proxy,
    database,
    async close() {
      proxy.resume()
      await t.close()
      await proxy.close()
      await database.drop()
    },
  }
}

export interface PrivateRedisApp {
  t: TestApp
  /** Kill it to take Redis away from the app (everything in it is lost); start it to bring it back. */
  redis: PrivateRedis
  close(): Promise<void>
}

/** An app whose Redis is a private redis-server of its own. */
export async function startOnPrivateRedis(): Promise<PrivateRedisApp> {
  const redis = await startPrivateRedis()
  const t = await startTestApp({ REDIS_URL: redis.url })
  return {
    t,
    redis,
    async close() {
      // The app closes more cleanly with its Redis up.
      await redis.start().catch(() => undefined)
      await t.close()
      await redis.kill()
    },
  }
}
