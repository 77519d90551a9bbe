import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { credentialDigest, credentialKind } from '../../domain/credentials.js'
import { issueSession } from '../../auth/issue-session.js'
import { rateLimited } from '../../auth/signin-limits.js'
import {
  parsePendingSignIn,
  secondFactorLockKey,
  secondFactorLockRule,
  spendSecondFactor,
} from '../../auth/second-factor.js'
import { Params, Timestamp } from '../schemas.js'

const unknownToken = () =>
  new AppError('UNAUTHENTICATED', 'The two-factor token is unknown, expired or used up; sign in again.')

export const verify2FACode = defineMethod({
  name: 'Verify2FACode',
  summary:
    "Complete a sign-in with the lk2_ token from SignIn and a TOTP code or an unused recovery code. Five wrong codes end the token; failures across tokens lock the account's second factor for an increasing time.",
  auth: 'none',
  sensitive: false,
  acceptsPendingToken: true,
  params: Params({
    twoFactorToken: Type.String({ maxLength: 256, description: 'lk2_… from SignIn' }),
    code: Type.String({
      maxLength: 64,
      description: 'a 6-digit TOTP code, or a recovery code (case, spaces and hyphens ignored)',
    }),
  }),
  result: Type.Object({
    session: Type.String({ description: 'lks_… full session credential' }),
    expiresAt: Timestamp,
    recoveryCodesLeft: Type.Integer({ minimum: 0, maximum: 10 }),
  }),
  errors: ['UNAUTHENTICATED', 'INVALID_2FA_CODE', 'RATE_LIMITED'],
  async handle({ params, origin, services, now }) {
    const { stores } = services
    if (credentialKind(params.twoFactorToken) !== 'pending') throw unknownToken()
    const digest = credentialDigest(params.twoFactorToken)
    const box = await stores.pendingSignIns.get(digest)
    const pending = box === null ? null : parsePendingSignIn(box.payload)
    if (pending === null) throw unknownToken()

    const lockKey = secondFactorLockKey(pending.accountId)
    // A locked account's codes are not even checked, so guessing during the lock costs nothing and gains nothing.
    const lockedMs = await stores.limits.lockedFor(lockKey)
    if (lockedMs > 0) throw rateLimited(lockedMs, 'wrong second-factor codes')

    // The attempt is spent before the code is checked: parallel guesses on one token can never
    // get more than its attempts checked. Null: another request used the last attempt or consumed it.
    const reserved = await stores.pendingSignIns.fail(digest)
    if (reserved === null) throw unknownToken()

    const outcome = await spendSecondFactor(services, pending.accountId, params.code, origin, now)
    if (outcome.ok) {
      // Consume the token. Its box may already be gone (our reservation was the last attempt, or
      // a parallel one drained it), but this request holds an attempt and its code was spent
      // atomically, so it is the success; a replayed code cannot get here twice.
      await stores.pendingSignIns.take(digest)
      await stores.limits.reset([lockKey])
      const issued = await issueSession(
        services,
        { id: pending.accountId, login: pending.login, twoFactorEnabled: true },
        origin,
        now,
      )
      return { ...issued, recoveryCodesLeft: outcome.recoveryCodesLeft }
    }

    const attemptsLeft = reserved
    await stores.limits.hitEscalating(lockKey, secondFactorLockRule(services))
    await stores.audit.record(pending.accountId, { type: '2fa.failure', ...origin, detail: { attemptsLeft } }, now)
    throw new AppError(
      'INVALID_2FA_CODE',
      attemptsLeft > 0
        ? 'The code is wrong, already used or malformed.'
        : 'The code is wrong, already used or malformed; this two-factor token is used up, sign in again.',
      { attemptsLeft },
    )
  },
})
