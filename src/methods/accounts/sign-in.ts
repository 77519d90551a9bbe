import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { canonicalLogin } from '../../domain/logins.js'
import { issueSession } from '../../auth/issue-session.js'
import { startPendingSignIn } from '../../auth/pending-sign-in.js'
import { assertSignInAllowed, countSignInFailure, forgiveSignInFailures } from '../../auth/signin-limits.js'
import { Login, Params, Password, Timestamp } from '../schemas.js'

export const signIn = defineMethod({
  name: 'SignIn',
  summary:
    'Sign in with login and password. Without 2FA: a session. With 2FA: a pending lk2_ token for Verify2FACode. Failures are rate limited per (login, IP), per IP and per login.',
  auth: 'none',
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
  errors: ['INVALID_CREDENTIALS', 'RATE_LIMITED'],
  async handle({ params, origin, services, now }) {
    const login = canonicalLogin(params.login)
    const { stores, passwords } = services
    await assertSignInAllowed(services, login, origin.ip)

    const account = await stores.accounts.findByLogin(login)
    // Unknown logins pay for a bcrypt check too: same answer, same time.
    const passwordOk =
      account === null
        ? await passwords.verifyAgainstDummy(params.password)
        : await passwords.verify(params.password, account.passwordHash)
    if (account === null || !passwordOk) {
      await countSignInFailure(services, login, origin.ip)
      await stores.audit.record(
        account?.id ?? null,
        { type: 'signin.failure', ...origin, detail: account === null ? { login } : undefined },
        now,
      )
      throw new AppError('INVALID_CREDENTIALS', 'Wrong login or password.')
    }

    await forgiveSignInFailures(services, login, origin.ip)
    if (account.twoFactorEnabled) {
      await stores.audit.record(
        account.id,
        { type: 'signin.success', ...origin, detail: { secondFactor: 'required' } },
        now,
      )
      return startPendingSignIn(services, account, now)
    }
    // Audit first: a session must not exist unless its sign-in is on record and the reply can carry it.
    await stores.audit.record(account.id, { type: 'signin.success', ...origin }, now)
    return issueSession(services, account, origin, now)
  },
})
