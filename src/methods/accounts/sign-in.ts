import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { canonicalLogin } from '../../domain/logins.js'
import { issueSession } from '../../auth/issue-session.js'
import { startPendingSignIn } from '../../auth/pending-sign-in.js'
import { reservePasswordAttempt } from '../../auth/signin-limits.js'
import { Login, Params, Password, Timestamp } from '../schemas.js'

export const signIn = defineMethod({
  name: 'SignIn',
  summary:
    'Sign in with login and password. Without 2FA: a session. With 2FA: a pending lk2_ token for Verify2FACode. Failures are rate limited per (login, IP), per IP and per login.',
  auth: 'none',
  limits: ['anonymous'],
  sensitive: false,
  params: Params({ login: Login, password: Password }),
  result: Type.Union([
    Type.Object({ session: Type.String({ description: 'lks_… full session credential' }), expiresAt: Timestamp }),
    Type.Object({
      twoFactorRequired: Type.Literal(true),
      twoFactorToken: Type.String({ description: 'lk2_… pending token; only Verify2FACode accepts it' }),
      expiresAt: Timestamp,
      methods: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('recovery')])),
    }),
  ]),
  errors: ['INVALID_CREDENTIALS'],
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
    // The credential is written first, the audit event last: it is the decisive write, so no
    // `signin.success` is ever on record for a sign-in that did not happen (and vice versa).
    const audited = (detail?: { secondFactor: 'required' }) => () =>
      stores.audit.record(account.id, { type: 'signin.success', ...origin, ...(detail && { detail }) }, now)
    if (account.twoFactorEnabled)
      return startPendingSignIn(services, account, now, audited({ secondFactor: 'required' }))
    const { session, expiresAt } = await issueSession(services, account, origin, now, audited())
    return { session, expiresAt }
  },
})
