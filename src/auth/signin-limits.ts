import { AppError } from '../errors.js'
import type { CounterRule } from '../store/ports/index.js'
import type { Services } from '../services.js'

/**
 * Failed password checks are counted per (login, IP), per IP and per login. The per-login ceiling
 * is much higher, so attackers elsewhere cannot lock the owner out of their own IP before it.
 */
function rules(services: Services, login: string, ip: string): [CounterRule, CounterRule, CounterRule] {
  const { config } = services
  const windowMs = config.SIGNIN_WINDOW_SECONDS * 1000
  return [
    { key: `signin:login-ip:${login}:${ip}`, limit: config.SIGNIN_MAX_PER_LOGIN_IP, windowMs },
    { key: `signin:ip:${ip}`, limit: config.SIGNIN_MAX_PER_IP, windowMs },
    { key: `signin:login:${login}`, limit: config.SIGNIN_MAX_PER_LOGIN, windowMs },
  ]
}

/** `rule` names the limit in metrics (`latchkey_rate_limited_total{rule}`). */
export function rateLimited(blockedMs: number, what: string, rule: string): AppError {
  const retryAfter = Math.max(1, Math.ceil(blockedMs / 1000))
  const error = new AppError('RATE_LIMITED', `Too many ${what}; retry in ${retryAfter} s.`, { retryAfter })
  error.rule = rule
  return error
}

/**
 * A password check about to happen, already counted as a failure in every counter it falls under
 * (so parallel guesses cannot all pass a count that none of them has raised yet). Throws
 * RATE_LIMITED, unchecked and uncounted, while any counter is full, even for the right password.
 */
export interface PasswordAttempt {
  /** The password was right: the owner's own mistakes from this IP are forgiven, the place given back. */
  succeeded(): Promise<void>
  /** The password was right, as a confirmation: the place is given back. */
  confirmed(): Promise<void>
}

export async function reservePasswordAttempt(services: Services, login: string, ip: string): Promise<PasswordAttempt> {
  const { limits } = services.stores
  const counted = rules(services, login, ip)
  const reservation = await limits.reserve(counted)
  if (!reservation.ok) throw rateLimited(reservation.retryAfterMs, 'failed sign-ins', 'signin')
  const [loginIp, ...others] = counted
  return {
    async succeeded() {
      await Promise.all([limits.reset([loginIp.key]), limits.release(others)])
    },
    confirmed: () => limits.release(counted),
  }
}
