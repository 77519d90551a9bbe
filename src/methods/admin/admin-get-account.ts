import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { accountByLogin } from '../../auth/operator-actions.js'
import { Login, Nullable, Params, Timestamp, Uuid, iso } from '../schemas.js'

export const adminGetAccount = defineMethod({
  name: 'AdminGetAccount',
  summary: 'Operators: one account by login, with its 2FA state, lock, and how many sessions and tokens it has.',
  auth: 'admin',
  sensitive: false,
  params: Params({ login: Login }),
  result: Type.Object({
    accountId: Uuid,
    login: Type.String(),
    email: Nullable(Type.String()),
    createdAt: Timestamp,
    twoFactorEnabled: Type.Boolean(),
    twoFactorRequired: Type.Boolean(),
    twoFactorRequiredBy: Nullable(Timestamp),
    recoveryCodesLeft: Type.Integer({ minimum: 0, maximum: 10, description: '0 when 2FA is off' }),
    locked: Type.Boolean(),
    sessions: Type.Integer({ minimum: 0, description: 'live sessions' }),
    tokens: Type.Integer({ minimum: 0, description: 'personal access tokens (expired ones included until deleted)' }),
    lastSignInAt: Nullable({ ...Timestamp, description: 'when a session was last issued' }),
  }),
  errors: ['NOT_FOUND'],
  async handle({ params, services, now }) {
    const account = await accountByLogin(services, params.login)
    const { sessions, tokens, twoFactor } = services.stores
    const [live, owned, status] = await Promise.all([
      sessions.list(account.id, now.getTime()),
      tokens.list(account.id),
      twoFactor.status(account.id),
    ])
    return {
      accountId: account.id,
      login: account.login,
      email: account.email,
      createdAt: iso(account.createdAt),
      twoFactorEnabled: status !== null,
      twoFactorRequired: account.twoFactorRequiredBy !== null,
      twoFactorRequiredBy: account.twoFactorRequiredBy === null ? null : iso(account.twoFactorRequiredBy),
      recoveryCodesLeft: status?.recoveryCodesLeft ?? 0,
      locked: account.lockedAt !== null,
      sessions: live.length,
      tokens: owned.length,
      lastSignInAt: account.lastSignInAt === null ? null : iso(account.lastSignInAt),
    }
  },
})
