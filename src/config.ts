import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { parseAdminKeys } from './domain/admin-keys.js'

/**
 * The only reader of process.env. Every setting, its default and its meaning; validated once at
 * start-up and frozen. The README's configuration table is written from this list.
 */
const Int = (minimum: number, fallback: number, description: string) =>
  Type.Integer({ minimum, default: fallback, description })

const Env = Type.Object({
  PORT: Int(0, 3000, 'listen port'),
  HOST: Type.String({ default: '0.0.0.0', description: 'listen address' }),
  DATABASE_URL: Type.Optional(
    Type.String({ minLength: 1, description: 'Postgres connection string; unset: embedded PGlite in DATA_DIR' }),
  ),
  REDIS_URL: Type.Optional(
    Type.String({ minLength: 1, description: 'Redis connection string; unset: embedded in-process store' }),
  ),
  REDIS_KEY_PREFIX: Type.String({
    default: '',
    description: 'prefix for every Redis key, to share one Redis between deployments',
  }),
  DATA_DIR: Type.String({
    default: './.data',
    description: 'where embedded Postgres and the generated secrets key live',
  }),
  SECRETS_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'comma-separated base64 32-byte keys for secrets at rest, current first; unset: generated into DATA_DIR (refused in production)',
    }),
  ),
  BCRYPT_COST: Int(4, 12, 'bcrypt work factor'),
  SIGNUP_ENABLED: Type.Boolean({ default: true, description: 'whether SignUp is open' }),
  ACCOUNT_PAGE_ENABLED: Type.Boolean({
    default: true,
    description: 'whether GET /account serves the self-service page',
  }),
  TRUST_PROXY: Type.String({
    default: 'false',
    description: 'Fastify trustProxy: true, false, a hop count, or comma-separated addresses/CIDRs',
  }),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    {
      default: 'info',
      description: 'pino level',
    },
  ),
  NODE_ENV: Type.String({
    default: 'development',
    description: 'production makes DATABASE_URL, REDIS_URL and SECRETS_KEY mandatory',
  }),
  BODY_LIMIT_BYTES: Int(1024, 65536, 'largest accepted request body (larger: HTTP 413)'),
  BATCH_LIMIT: Int(1, 20, 'most calls in one JSON-RPC batch'),
  SESSION_IDLE_SECONDS: Int(60, 86400, 'a session ends this long after its last use'),
  SESSION_ABSOLUTE_SECONDS: Int(60, 604800, 'a session ends this long after sign-in, used or not'),
  TWO_FACTOR_PENDING_SECONDS: Int(30, 300, 'lifetime of an lk2_ pending sign-in token'),
  TWO_FACTOR_PENDING_ATTEMPTS: Int(1, 5, 'wrong codes an lk2_ token survives'),
  TWO_FACTOR_ENROL_SECONDS: Int(60, 600, 'lifetime of a pending enrolment (Get2FAConfig)'),
  TWO_FACTOR_ENROL_ATTEMPTS: Int(1, 5, 'wrong Enable2FA codes before the enrolment is dropped'),
  TWO_FACTOR_LOCK_THRESHOLD: Int(1, 10, 'second-factor failures per account before it locks'),
  TWO_FACTOR_LOCK_BASE_SECONDS: Int(1, 60, 'first lock; it doubles with each further failure'),
  TWO_FACTOR_LOCK_MAX_SECONDS: Int(1, 86400, 'longest lock'),
  TOTP_ISSUER: Type.String({ minLength: 1, default: 'latchkey', description: 'issuer shown by authenticator apps' }),
  SIGNIN_WINDOW_SECONDS: Int(1, 900, 'window of the sign-in failure counters'),
  SIGNIN_MAX_PER_LOGIN_IP: Int(1, 10, 'failures per (login, IP) per window'),
  SIGNIN_MAX_PER_IP: Int(1, 100, 'failures per IP per window'),
  SIGNIN_MAX_PER_LOGIN: Int(1, 1000, 'failures per login across all IPs per window'),
  SIGNUP_MAX_PER_IP: Int(1, 20, 'SignUp calls per client IP per SIGNUP_WINDOW_SECONDS'),
  SIGNUP_WINDOW_SECONDS: Int(1, 3600, 'window of the per-IP SignUp limit'),
  ANONYMOUS_CALLS_MAX_PER_IP: Int(
    1,
    300,
    'calls of methods that take no credential (auth none), per client IP per ANONYMOUS_CALLS_WINDOW_SECONDS; each call of a batch counts',
  ),
  ANONYMOUS_CALLS_WINDOW_SECONDS: Int(1, 60, 'window of the per-IP limit on calls that take no credential'),
  TOKEN_MAX_PER_ACCOUNT: Int(1, 100, 'personal access tokens per account'),
  TOKEN_CACHE_SECONDS: Int(1, 300, 'how long a PAT lookup stays cached in Redis (revocation evicts it at once)'),
  TOKEN_UNKNOWN_CACHE_SECONDS: Int(
    1,
    30,
    'how long a PAT digest that matched no live token is remembered as unknown (no Postgres read meanwhile)',
  ),
  TOKEN_LAST_USED_FLUSH_SECONDS: Int(1, 60, 'at most one lastUsedAt write to Postgres per token per this period'),
  API_CATALOG_FILE: Type.String({
    default: 'config/api-catalog.json',
    description: 'the platform API methods a PAT may be granted',
  }),
  SHUTDOWN_GRACE_SECONDS: Int(1, 10, 'how long SIGTERM waits for in-flight calls'),
  REQUEST_TIMEOUT_SECONDS: Int(
    1,
    30,
    "longest time for a request's headers and body to arrive (then HTTP 408 and the connection closes)",
  ),
  KEEP_ALIVE_SECONDS: Int(1, 72, 'an idle keep-alive connection closes after this long'),
  STORE_TIMEOUT_MS: Int(
    50,
    3000,
    'longest wait on Postgres and Redis within one call, all waits together (then UNAVAILABLE)',
  ),
  ADMIN_API_KEYS: Type.Optional(
    Type.String({
      description: 'name:sha256hex,… of the operator (lka_) keys; unset: the admin API answers FORBIDDEN to everyone',
    }),
  ),
})

export type Config = Readonly<Static<typeof Env>>

export const configSchema = Env

/** Reads and validates the environment once. Throws a readable error listing every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(Env.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const converted = Value.Convert(Env, Value.Default(Env, raw))
  const errors = [...Value.Errors(Env, converted)]
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.path.slice(1) || '(root)'}: ${e.message}`)
    throw new Error(`invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  const config = converted as Static<typeof Env>
  try {
    parseAdminKeys(config.ADMIN_API_KEYS)
  } catch (error) {
    throw new Error(`invalid configuration: ${(error as Error).message}`)
  }
  if (config.NODE_ENV === 'production') {
    const missing = (['DATABASE_URL', 'REDIS_URL', 'SECRETS_KEY'] as const).filter((k) => config[k] === undefined)
    if (missing.length > 0)
      throw new Error(`invalid configuration: ${missing.join(', ')} must be set when NODE_ENV=production`)
  }
  return Object.freeze(config)
}
