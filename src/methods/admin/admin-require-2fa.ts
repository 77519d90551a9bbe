import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { maxGraceDays, twoFactorDeadline } from '../../domain/two-factor-requirement.js'
import { accountByLogin, operatorAudit } from '../../auth/operator-actions.js'
import { Login, Nullable, OperatorReason, Params, Timestamp, iso } from '../schemas.js'

export const adminRequire2FA = defineMethod({
  name: 'AdminRequire2FA',
  summary:
    'Operators: require 2FA of an account by a deadline graceDays from now (0: at once), or lift the requirement. Past the deadline, an account without 2FA can only enrol; Disable2FA is refused while required.',
  auth: 'admin',
  sensitive: false,
  params: Params({
    login: Login,
    required: Type.Boolean(),
    graceDays: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: maxGraceDays,
        default: 7,
        description: 'days from now until the deadline; ignored with required: false',
      }),
    ),
    reason: OperatorReason,
  }),
  result: Type.Object({ twoFactorRequired: Type.Boolean(), twoFactorRequiredBy: Nullable(Timestamp) }),
  errors: ['NOT_FOUND'],
  async handle({ params, caller, origin, services, now }) {
    const account = await accountByLogin(services, params.login)
    // A new call sets a new deadline from now: extending and shortening are the same call.
    const requiredBy = params.required ? twoFactorDeadline(now.getTime(), params.graceDays ?? 7) : null
    // The store rewrites the sessions' copies of the deadline and evicts the cached PATs after the commit.
    await services.stores.accounts.setTwoFactorRequiredBy(
      account.id,
      requiredBy === null ? null : new Date(requiredBy),
      operatorAudit('admin.2fa.required', caller, origin, params.reason),
      now,
    )
    return { twoFactorRequired: requiredBy !== null, twoFactorRequiredBy: requiredBy === null ? null : iso(requiredBy) }
  },
})
