import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { accountByLogin, operatorAudit } from '../../auth/operator-actions.js'
import { Login, OperatorReason, Params } from '../schemas.js'

export const adminLockAccount = defineMethod({
  name: 'AdminLockAccount',
  summary:
    'Operators: lock an account under attack. Every session ends, its PATs stop working on every instance at once (UNAUTHENTICATED), and SignIn with the right password answers FORBIDDEN. Repeating it is harmless.',
  auth: 'admin',
  sensitive: false,
  params: Params({ login: Login, reason: OperatorReason }),
  result: Type.Object({}),
  errors: ['NOT_FOUND'],
  async handle({ params, caller, origin, services, now }) {
    const account = await accountByLogin(services, params.login)
    // The store ends the sessions and evicts the cached PATs, before the commit and after it.
    await services.stores.accounts.setLocked(
      account.id,
      true,
      operatorAudit('admin.locked', caller, origin, params.reason),
      now,
    )
    return {}
  },
})
