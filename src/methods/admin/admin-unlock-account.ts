import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { accountByLogin, operatorAudit } from '../../auth/operator-actions.js'
import { Login, OperatorReason, Params } from '../schemas.js'

export const adminUnlockAccount = defineMethod({
  name: 'AdminUnlockAccount',
  summary:
    'Operators: lift a lock. Sign-in works again, and so do the PATs the account still has (sessions ended by the lock stay ended).',
  auth: 'admin',
  sensitive: false,
  params: Params({ login: Login, reason: OperatorReason }),
  result: Type.Object({}),
  errors: ['NOT_FOUND'],
  async handle({ params, caller, origin, services, now }) {
    const account = await accountByLogin(services, params.login)
    // The store evicts the cached PATs' "locked" copies: the next use reads Postgres.
    await services.stores.accounts.setLocked(
      account.id,
      false,
      operatorAudit('admin.unlocked', caller, origin, params.reason),
      now,
    )
    return {}
  },
})
