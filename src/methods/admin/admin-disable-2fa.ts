import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { accountByLogin, afterCommit, operatorAudit } from '../../auth/operator-actions.js'
import { Login, OperatorReason, Params } from '../schemas.js'

export const adminDisable2FA = defineMethod({
  name: 'AdminDisable2FA',
  summary:
    'Operators: turn 2FA off for a user who lost both the authenticator and the recovery codes (after verifying them out of band). Secret and codes are destroyed and every session ends; PATs stay.',
  auth: 'admin',
  sensitive: false,
  params: Params({ login: Login, reason: OperatorReason }),
  result: Type.Object({}),
  errors: ['NOT_FOUND', 'CONFLICT'],
  async handle({ params, caller, origin, services }) {
    const account = await accountByLogin(services, params.login)
    if (!account.twoFactorEnabled) throw new AppError('CONFLICT', 'Two-factor authentication is not on.')
    const { sessions, twoFactor } = services.stores
    // Sessions end before the commit (Redis down: nothing else changed) and again after it, for
    // one issued meanwhile. The store refreshes the PATs' copies of the 2FA flag.
    await sessions.revoke(account.id, '*', null)
    // CONFLICT from the store if it went off meanwhile.
    await twoFactor.disable(account.id, operatorAudit('admin.2fa.disabled', caller, origin, params.reason))
    await afterCommit(services, 'AdminDisable2FA', () => sessions.revoke(account.id, '*', null))
    return {}
  },
})
