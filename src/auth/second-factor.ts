import type { Services } from '../services.js'
import type { Origin } from '../rpc/define-method.js'
import type { CounterRule } from '../store/ports/index.js'
import { isTotpCodeFormat, matchTotpStep } from '../domain/totp.js'
import { normalizeRecoveryCode } from '../domain/recovery-codes.js'
import type { PendingSignIn } from './pending-sign-in.js'

/** Failures older than this no longer count towards the per-account lock. */
const lockWindowMs = 60 * 60 * 1000

/**
 * Second-factor failures are counted per account across all its pending tokens; past the
 * threshold the account's second factor locks for an increasing time.
 */
export function secondFactorLockRule(services: Services, accountId: string): CounterRule {
  const { config } = services
  return {
    key: `2fa:${accountId}`,
    limit: config.TWO_FACTOR_LOCK_THRESHOLD,
    windowMs: lockWindowMs,
    lock: { baseMs: config.TWO_FACTOR_LOCK_BASE_SECONDS * 1000, maxMs: config.TWO_FACTOR_LOCK_MAX_SECONDS * 1000 },
  }
}

/**
 * A code found right, not spent yet. `spend` is the decisive write: a guarded UPDATE that accepts
 * the TOTP step only if later than the last one, or marks the recovery code used only while
 * unused, with its audit event in the same transaction. Null: a parallel spend got there first.
 */
export type SecondFactorCheck =
  | { ok: false }
  | { ok: true; method: 'totp' | 'recovery'; spend(): Promise<{ recoveryCodesLeft: number } | null> }

/** Checks a TOTP or recovery code without spending it. Anything that is neither format fails like a wrong code. */
export async function checkSecondFactor(
  services: Services,
  accountId: string,
  input: string,
  origin: Origin,
  now: Date,
): Promise<SecondFactorCheck> {
  const { twoFactor } = services.stores
  // Authenticator apps show "123 456"; people copy the space along.
  const totp = input.replace(/\s/g, '')
  if (isTotpCodeFormat(totp)) {
    const stored = await twoFactor.secret(accountId)
    if (stored === null) return { ok: false }
    const step = matchTotpStep(stored.secret, totp, now.getTime())
    if (step === null || step <= stored.lastStep) return { ok: false }
    // Read before the decisive write: nothing after it may fail the call.
    const status = await twoFactor.status(accountId)
    const recoveryCodesLeft = status?.recoveryCodesLeft ?? 0
    return {
      ok: true,
      method: 'totp',
      spend: async () =>
        (await twoFactor.acceptStep(accountId, step, { type: '2fa.success', ...origin, detail: { method: 'totp' } }))
          ? { recoveryCodesLeft }
          : null,
    }
  }
  const recovery = normalizeRecoveryCode(input)
  if (recovery === null || !(await twoFactor.hasUnusedRecoveryCode(accountId, recovery))) return { ok: false }
  return {
    ok: true,
    method: 'recovery',
    spend: async () => {
      const left = await twoFactor.useRecoveryCode(accountId, recovery, { type: 'recovery.used', ...origin }, now)
      return left === null ? null : { recoveryCodesLeft: left }
    },
  }
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
