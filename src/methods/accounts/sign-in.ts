import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { canonicalLogin } from '../../domain/logins.js'
import { accountLocked, issueSession } from '../../auth/issue-session.js'
import { twoFactorSetupOverdue } from '../../domain/two-factor-requirement.js'
import { startPendingSignIn } from '../../auth/pending-sign-in.js'
import { reservePasswordAttempt } from '../../auth/signin-limits.js'
import { Login, Params, Password, Timestamp, iso } from '../schemas.js'

export const signIn = defineMethod({
  name: 'SignIn',
  summary:
    'Sign in with login and password. Without 2FA: a session. With 2FA: a pending lk2_ token for Verify2FACode. Failures are rate limited per (login, IP), per IP and per login.',
  auth: 'none',
  limits: ['anonymous'],
  sensitive: false,
  params: Params({ login: Login, password: Password }),
  result: Type.Union([
    Type.Object({
      session: Type.String({ description: 'lks_… full session credential' }),
      expiresAt: Timestamp,
      twoFactorSetupRequiredBy: Type.Optional({
        ...Timestamp,
        description: 'an operator requires 2FA: the deadline for turning it on (until then, sign-in works as usual)',
      }),
      twoFactorSetupRequired: Type.Optional(
        Type.Literal(true, {
          description:
            "the operator's deadline has passed: this session may call only GetSession, Get2FAStatus, Get2FAConfig, Enable2FA and SignOut until 2FA is on",
        }),
      ),
    }),
    Type.Object({
      twoFactorRequired: Type.Literal(true),
      twoFactorToken: Type.String({ description: 'lk2_… pending token; only Verify2FACode accepts it' }),
      expiresAt: Timestamp,
      methods: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('recovery')])),
    }),
  ]),
  errors: ['INVALID_CREDENTIALS', 'FORBIDDEN'],
  async handle({ params, origin, services, now }) {
    const login = canonicalLogin(params.login)
    const { stores, passwords } = services
    // Counted before the check: parallel guesses cannot all slip under the limit at once.
    const attempt = await reservePasswordAttempt(services, login, origin.ip)

    const account = await stores.accounts.findByLogin(login)
    // Unknown logins pay for a bcrypt check too: same answer, same time.
    const passwordOk =
      account === null
        ? await passwords.verifyAgainstDummy(params.password)
        : await passwords.verify(params.password, account.passwordHash)
    if (account === null || !passwordOk) {
      // The failure keeps its place in the counters.
      await stores.audit.record(
        account?.id ?? null,
        { type: 'signin.failure', ...origin, detail: account === null ? { login } : undefined },
        now,
      )
      throw new AppError('INVALID_CREDENTIALS', 'Wrong login or password.')
    }

    await attempt.succeeded()
    if (account.lockedAt !== null) {
      // The right password, refused: worth a line in the owner's history (a wrong one is a plain failure above).
      await stores.audit.record(account.id, { type: 'signin.failure', ...origin, detail: { locked: true } }, now)
      throw accountLocked()
    }
    // The credential is written first, the audit event last: it is the decisive write, so no
    // `signin.success` is ever on record for a sign-in that did not happen (and vice versa).
    const audited = (detail?: { secondFactor: 'required' }) => () =>
      stores.audit.record(account.id, { type: 'signin.success', ...origin, ...(detail && { detail }) }, now)
    if (account.twoFactorEnabled)
      return startPendingSignIn(services, account, now, audited({ secondFactor: 'required' }))
    const requiredBy = account.twoFactorRequiredBy?.getTime() ?? null
    const { session, expiresAt } = await issueSession(
      services,
      { ...account, twoFactorRequiredBy: requiredBy },
      origin,
      now,
      audited(),
    )
    if (requiredBy === null) return { session, expiresAt }
    return twoFactorSetupOverdue({ twoFactorEnabled: false, twoFactorRequiredBy: requiredBy }, now.getTime())
      ? { session, expiresAt, twoFactorSetupRequired: true as const }
      : { session, expiresAt, twoFactorSetupRequiredBy: iso(requiredBy) }
  },
})
