import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { parseAdminKeys } from './domain/admin-keys.js'

/**
 * The only reader of process.env. Every setting, its default and its meaning; validated once at
 * start-up and frozen. The README's configuration table is written from this list.
 */
const Int = (minimum: number, fallback: number, description: string, maximum?: number) =>
  Type.Integer({ minimum, default: fallback, description, ...(maximum === undefined ? {} : { maximum }) })

const Port = (fallback: number, description: string, minimum = 1) => Int(minimum, fallback, description, 65535)

const OneOf = <const T extends string[]>(values: T, fallback: T[number], description: string) =>
  Type.Union(
    values.map((value) => Type.Literal(value)),
    { default: fallback, description },
  )

const Env = Type.Object({
  PORT: Port(3000, 'listen port'),
  HOST: Type.String({ default: '0.0.0.0', description: 'listen address' }),
  DATABASE_URL: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Postgres connection string (postgres:// or postgresql://); unset: embedded PGlite in DATA_DIR',
    }),
  ),
  REDIS_URL: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Redis connection string (redis:// or rediss://); unset: embedded in-process store',
    }),
  ),
  REDIS_CLUSTER_NODES: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Redis Cluster seed nodes, comma-separated host:port (instead of REDIS_URL)',
    }),
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
  BCRYPT_COST: Int(4, 12, 'bcrypt work factor', 15),
  SIGNUP_ENABLED: Type.Boolean({ default: true, description: 'whether SignUp is open' }),
  ACCOUNT_PAGE_ENABLED: Type.Boolean({
    default: true,
    description: 'whether GET /account serves the self-service page',
  }),
  TRUST_PROXY: Type.String({
    default: 'false',
    description: 'Fastify trustProxy: true, false, a hop count, or comma-separated addresses/CIDRs',
  }),
  LOG_LEVEL: OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'pino level'),
  NODE_ENV: OneOf(
    ['development', 'test', 'production'],
    'development',
    'production makes DATABASE_URL, REDIS_URL (or REDIS_CLUSTER_NODES) and SECRETS_KEY mandatory',
  ),
  METRICS_PORT: Port(9464, 'Prometheus /metrics listener port; 0 turns it off', 0),
  METRICS_HOST: Type.Optional(Type.String({ minLength: 1, description: 'Prometheus listener address; unset: HOST' })),
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

/** A `host:port` list as REDIS_CLUSTER_NODES spells it, or null when any entry is malformed. */
export function parseHostPorts(value: string): Array<{ host: string; port: number }> | null {
  const nodes = value.split(',').map((entry) => {
    const match = /^\s*(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})\s*$/.exec(entry)
    const port = Number(match?.[2])
    return match?.[1] !== undefined && port >= 1 && port <= 65535
      ? { host: match[1].replace(/^\[|\]$/g, ''), port }
      : null
  })
  return nodes.every((node) => node !== null) ? nodes : null
}

/** Settings whose value must parse as a URL of one of these schemes. */
const urlSchemes: Partial<Record<keyof Static<typeof Env>, string[]>> = {
  DATABASE_URL: ['postgres:', 'postgresql:'],
  REDIS_URL: ['redis:', 'rediss:'],
}

function hasScheme(value: string, schemes: string[]): boolean {
  try {
    return schemes.includes(new URL(value).protocol)
  } catch {
    return false
  }
}

/** What a setting accepts and its default, read from its schema, for the error message. */
function allowed(name: string): string {
  const schema = Env.properties[name as keyof typeof Env.properties] as TSchema | undefined
  if (schema === undefined) return ''
  const fallback = schema.default === undefined ? 'unset' : JSON.stringify(schema.default)
  let accepts: string
  if (name in urlSchemes)
    accepts = `a URL starting with ${(urlSchemes[name as keyof typeof urlSchemes] ?? []).map((s) => `${s}//`).join(' or ')}`
  else if (name === 'REDIS_CLUSTER_NODES') accepts = 'a comma-separated list of host:port'
  else if (Array.isArray(schema.anyOf))
    accepts = `one of ${schema.anyOf.map((s: TSchema) => String(s.const)).join(', ')}`
  else if (schema.type === 'integer')
    accepts = `an integer from ${schema.minimum}${schema.maximum === undefined ? ' up' : ` to ${schema.maximum}`}`
  else if (schema.type === 'boolean') accepts = 'true or false'
  else accepts = 'a non-empty string'
  return `must be ${accepts} (default: ${fallback})`
}

/**
 * Reads and validates the environment once. Throws one line naming every bad setting, what it
 * accepts and its default; values are not echoed (some hold secrets).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(Env.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  // Default and Convert change their argument in place; `raw` keeps the strings as written.
  const converted = Value.Convert(Env, Value.Default(Env, { ...raw }))
  const bad = new Set([...Value.Errors(Env, converted)].map((e) => e.path.split('/')[1] ?? '(root)'))
  // Convert would truncate "12.5" to 12; a setting that is not written as an integer is refused.
  for (const [name, schema] of Object.entries(Env.properties) as Array<[string, TSchema]>) {
    const value = raw[name]
    if (schema.type === 'integer' && typeof value === 'string' && !/^-?\d+$/.test(value.trim())) bad.add(name)
  }
  for (const [name, schemes] of Object.entries(urlSchemes)) {
    const value = raw[name]
    if (typeof value === 'string' && !hasScheme(value, schemes)) bad.add(name)
  }
  if (typeof raw['REDIS_CLUSTER_NODES'] === 'string' && parseHostPorts(raw['REDIS_CLUSTER_NODES']) === null)
    bad.add('REDIS_CLUSTER_NODES')
  const problems = [...bad].map((name) => `${name} ${allowed(name)}`)
  const config = converted as Static<typeof Env>
  try {
    parseAdminKeys(config.ADMIN_API_KEYS)
  } catch (error) {
    problems.push((error as Error).message)
  }
  if (config.REDIS_URL !== undefined && config.REDIS_CLUSTER_NODES !== undefined)
    problems.push('REDIS_URL and REDIS_CLUSTER_NODES are both set: set one (one Redis, or a Redis Cluster)')
  if (config.NODE_ENV === 'production') {
    const missing = [
      config.DATABASE_URL === undefined ? 'DATABASE_URL' : null,
      config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES === undefined
        ? 'REDIS_URL (or REDIS_CLUSTER_NODES)'
        : null,
      config.SECRETS_KEY === undefined ? 'SECRETS_KEY' : null,
    ].filter((name) => name !== null)
    if (missing.length > 0) problems.push(`${missing.join(', ')} must be set when NODE_ENV=production`)
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  return Object.freeze(config)
}

/** A setting is malformed: the start stops at once (an unreachable but valid address is waited for). */
export class ConfigError extends Error {
  override name = 'ConfigError'
}
