import type { Services } from '../services.js'
import type { Origin } from '../rpc/define-method.js'
import { isTotpCodeFormat, matchTotpStep } from '../domain/totp.js'
import { normalizeRecoveryCode } from '../domain/recovery-codes.js'
import type { PendingSignIn } from './pending-sign-in.js'

/** Second-factor failures are counted per account across all its pending tokens under this key. */
export function secondFactorLockKey(accountId: string): string {
  return `2fa:${accountId}`
}

/** Failures older than this no longer count towards the per-account lock. */
const lockWindowMs = 60 * 60 * 1000

export function secondFactorLockRule(services: Services) {
  const { config } = services
  return {
    threshold: config.TWO_FACTOR_LOCK_THRESHOLD,
    windowMs: lockWindowMs,
    baseMs: config.TWO_FACTOR_LOCK_BASE_SECONDS * 1000,
    maxMs: config.TWO_FACTOR_LOCK_MAX_SECONDS * 1000,
  }
}

export type SecondFactorOutcome = { ok: true; method: 'totp' | 'recovery'; recoveryCodesLeft: number } | { ok: false }

/**
 * Checks a TOTP or recovery code and spends it, atomically in the store: a TOTP step is accepted
 * only if later than the last one, a recovery code only while unused. Both record their audit
 * event in the same transaction. Anything that is neither format fails like a wrong code.
 */
export async function spendSecondFactor(
  services: Services,
  accountId: string,
  input: string,
  origin: Origin,
  now: Date,
): Promise<SecondFactorOutcome> {
  const { twoFactor } = services.stores
  // Authenticator apps show "123 456"; people copy the space along.
  const totp = input.replace(/\s/g, '')
  if (isTotpCodeFormat(totp)) {
    const stored = await twoFactor.secret(accountId)
    if (stored === null) return { ok: false }
    const step = matchTotpStep(stored.secret, totp, now.getTime())
    if (step === null) return { ok: false }
    if (!(await twoFactor.acceptStep(accountId, step, { type: '2fa.success', ...origin, detail: { method: 'totp' } })))
      return { ok: false }
    const status = await twoFactor.status(accountId)
    return { ok: true, method: 'totp', recoveryCodesLeft: status?.recoveryCodesLeft ?? 0 }
  }
  const recovery = normalizeRecoveryCode(input)
  if (recovery === null) return { ok: false }
  const left = await twoFactor.useRecoveryCode(accountId, recovery, { type: 'recovery.used', ...origin }, now)
  return left === null ? { ok: false } : { ok: true, method: 'recovery', recoveryCodesLeft: left }
}

/** The payload startPendingSignIn wrote; null when it is not one (never trusted blindly). */
export function parsePendingSignIn(payload: string): PendingSignIn | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const { accountId, login } = parsed as Record<string, unknown>
  return typeof accountId === 'string' && typeof login === 'string' ? { accountId, login } : null
}

/**
 * Sessions and cached PATs carry a copy of the 2FA flag so the hot path needs no Postgres read;
 * after Enable2FA/Disable2FA both are refreshed so GetSession tells other services the truth.
 */
export async function publishTwoFactorState(services: Services, accountId: string, enabled: boolean): Promise<void> {
  const { sessions, tokens, tokenCache } = services.stores
  await sessions.setTwoFactorEnabled(accountId, enabled)
  const digests = (await tokens.list(accountId)).map((t) => t.digest.toString('hex'))
  if (digests.length > 0) await tokenCache.evict(digests)
}
