import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { credentialDigest, credentialKind } from '../../domain/credentials.js'
import { accountLocked, issueSession } from '../../auth/issue-session.js'
import { rateLimited } from '../../auth/signin-limits.js'
import { checkSecondFactor, parsePendingSignIn, secondFactorLockRule } from '../../auth/second-factor.js'
import { Params, RecoveryCodesLeft, Timestamp } from '../schemas.js'

const unknownToken = () =>
  new AppError('UNAUTHENTICATED', 'The two-factor token is unknown, expired or used up; sign in again.')

export const verify2FACode = defineMethod({
  name: 'Verify2FACode',
  summary:
    "Complete a sign-in with the lk2_ token from SignIn and a TOTP code or an unused recovery code. Five wrong codes end the token; failures across tokens lock the account's second factor for an increasing time.",
  auth: 'none',
  limits: ['anonymous'],
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
    recoveryCodesLeft: RecoveryCodesLeft(),
  }),
  errors: ['UNAUTHENTICATED', 'INVALID_2FA_CODE', 'FORBIDDEN'],
  async handle({ params, origin, services, now }) {
    const { stores, log } = services
    if (credentialKind(params.twoFactorToken) !== 'pending') throw unknownToken()
    const digest = credentialDigest(params.twoFactorToken)
    const box = await stores.pendingSignIns.get(digest)
    const pending = box === null ? null : parsePendingSignIn(box.payload)
    if (pending === null) throw unknownToken()

    // An operator's lock: no code is spent and no attempt counted on a session that could not be
    // issued (issueSession checks again, for a lock that lands while the code is being checked).
    const account = await stores.accounts.findById(pending.accountId)
    if (account?.lockedAt != null) throw accountLocked()

    // Reserve first, in the account's lock and then in the token's attempts: a refused attempt
    // checks no code and lengthens no lock; an admitted one is already counted as a failure.
    const lock = secondFactorLockRule(services, pending.accountId)
    const admitted = await stores.limits.reserve([lock])
    if (!admitted.ok) throw rateLimited(admitted.retryAfterMs, 'wrong second-factor codes', 'second_factor_lock')
    // This place started the account's lock: it stands if the code turns out wrong.
    const startsLock = admitted.startedLock === true
    const reserved = await stores.pendingSignIns.reserve(digest)
    if (reserved === null) {
      await stores.limits.release([lock])
      throw unknownToken()
    }

    const wrongCode = async (): Promise<never> => {
      if (startsLock) services.metrics.twoFactorLocked()
      const { attemptsLeft } = reserved
      await stores.audit.record(pending.accountId, { type: '2fa.failure', ...origin, detail: { attemptsLeft } }, now)
      throw new AppError(
        'INVALID_2FA_CODE',
        attemptsLeft > 0
          ? 'The code is wrong, already used or malformed.'
          : 'The code is wrong, already used or malformed; this two-factor token is used up, sign in again.',
        { attemptsLeft },
      )
    }

    const check = await checkSecondFactor(services, pending.accountId, params.code, origin, now)
    if (!check.ok) return wrongCode()
    // A right code claims the token before anything is spent: of two right codes in parallel
    // (TOTP and recovery, two steps, two instances) one goes on, the other spends nothing.
    if (!(await stores.pendingSignIns.claim(digest, claimLeaseMs))) {
      await stores.limits.release([lock])
      throw unknownToken()
    }

    let issued: Awaited<ReturnType<typeof issueSession<{ recoveryCodesLeft: number }>>>
    try {
      // The session first, the spent code last (the decisive write): a store failing in between
      // leaves the code unspent and no session.
      issued = await issueSession(
        services,
        {
          id: pending.accountId,
          login: pending.login,
          twoFactorEnabled: true,
          twoFactorRequiredBy: account?.twoFactorRequiredBy?.getTime() ?? null,
        },
        origin,
        now,
        async () => {
          const spent = await check.spend()
          if (spent === null) throw new SpentMeanwhile()
          return spent
        },
      )
    } catch (error) {
      await stores.pendingSignIns
        .unclaim(digest)
        .catch((err: unknown) => log.warn({ err }, 'could not give back a pending sign-in claim'))
      // Used by a parallel call between check and spend: a checked failure like any other.
      if (error instanceof SpentMeanwhile) return wrongCode()
      throw error
    }

    // Done: consuming the token and clearing the lock count must not turn this into an error (the
    // token stays claimed, so unusable, until it expires).
    await Promise.all([stores.pendingSignIns.take(digest), stores.limits.reset([lock.key])]).catch((err: unknown) =>
      log.warn({ err }, 'could not settle a completed second-factor sign-in'),
    )
    return { session: issued.session, expiresAt: issued.expiresAt, recoveryCodesLeft: issued.decided.recoveryCodesLeft }
  },
})

/** Longest time a claim may be held between the check and the spend; far above STORE_TIMEOUT_MS. */
const claimLeaseMs = 60_000

class SpentMeanwhile extends Error {}
