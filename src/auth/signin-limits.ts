import { AppError } from '../errors.js'
import type { CounterRule } from '../store/ports/index.js'
import type { Services } from '../services.js'

/**
 * Failed password checks are counted per (login, IP), per IP and per login. The per-login ceiling
 * is much higher, so attackers elsewhere cannot lock the owner out of their own IP before it.
 */
function rules(services: Services, login: string, ip: string): CounterRule[] {
  const { config } = services
  const windowMs = config.SIGNIN_WINDOW_SECONDS * 1000
  return [
    { key: `signin:login-ip:${login}:${ip}`, limit: config.SIGNIN_MAX_PER_LOGIN_IP, windowMs },
    { key: `signin:ip:${ip}`, limit: config.SIGNIN_MAX_PER_IP, windowMs },
    { key: `signin:login:${login}`, limit: config.SIGNIN_MAX_PER_LOGIN, windowMs },
  ]
}

export function rateLimited(blockedMs: number, what: string): AppError {
  const retryAfter = Math.max(1, Math.ceil(blockedMs / 1000))
  return new AppError('RATE_LIMITED', `Too many ${what}; retry in ${retryAfter} s.`, { retryAfter })
}

/** Throws RATE_LIMITED while any counter is at its limit, even before the password is checked. */
export async function assertSignInAllowed(services: Services, login: string, ip: string): Promise<void> {
  const blockedMs = await services.stores.limits.blockedFor(rules(services, login, ip))
  if (blockedMs > 0) throw rateLimited(blockedMs, 'failed sign-ins')
}

export async function countSignInFailure(services: Services, login: string, ip: string): Promise<void> {
  await services.stores.limits.hit(rules(services, login, ip))
}

/** The owner got in from this IP: their own mistakes there are forgiven. */
export async function forgiveSignInFailures(services: Services, login: string, ip: string): Promise<void> {
  const [loginIp] = rules(services, login, ip)
  if (loginIp !== undefined) await services.stores.limits.reset([loginIp.key])
}
