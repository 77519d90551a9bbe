import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Services } from '../services.js'
import { rateLimited } from '../auth/signin-limits.js'
import { redisCall } from '../store/redis/connection.js'
import { MemoryRateLimitStore } from '../store/memory/rate-limit-store.js'
import type { CallLimit } from './define-method.js'

/** Counts one call against a per-IP limit; throws RATE_LIMITED (with retryAfter) past it. */
export type CallLimiter = (limit: CallLimit, request: FastifyRequest) => Promise<void>

type Check = ReturnType<FastifyInstance['createRateLimit']>

/**
 * @fastify/rate-limit on the shared Redis (an in-memory store when embedded), used per call
 * inside the pipeline rather than per HTTP request: `createRateLimit()` checks one key at a
 * time, so each call of a JSON-RPC batch counts as if it had come alone.
 */
export function registerCallLimits(app: FastifyInstance, services: Services): CallLimiter {
  const { config, redis } = services
  void app.register(rateLimit, {
    global: false,
    ...(redis === null ? { store: MemoryRateLimitStore } : { redis, nameSpace: 'lk:rate:' }),
  })
  const windows: Record<CallLimit, { max: number; timeWindow: number; what: string; rule: string }> = {
    anonymous: {
      max: config.ANONYMOUS_CALLS_MAX_PER_IP,
      timeWindow: config.ANONYMOUS_CALLS_WINDOW_SECONDS * 1000,
      what: 'calls without a credential from this address',
      rule: 'anonymous_calls',
    },
    signUp: {
      max: config.SIGNUP_MAX_PER_IP,
      timeWindow: config.SIGNUP_WINDOW_SECONDS * 1000,
      what: 'sign-ups from this address',
      rule: 'signup',
    },
  }
  // Made on first use: the plugin's decorator exists once the app has loaded its plugins.
  const checks = new Map<CallLimit, Check>()
  const checkFor = (limit: CallLimit): Check => {
    const known = checks.get(limit)
    if (known !== undefined) return known
    const { max, timeWindow } = windows[limit]
    // request.ip is the client address under TRUST_PROXY, as everywhere else.
    const made = app.createRateLimit({ max, timeWindow, keyGenerator: (request) => `${limit}:${request.ip}` })
    checks.set(limit, made)
    return made
  }

  return async (limit, request) => {
    const outcome = await redisCall(() => checkFor(limit)(request))
    if (!outcome.isAllowed && outcome.isExceeded)
      throw rateLimited(outcome.ttl, windows[limit].what, windows[limit].rule)
  }
}
