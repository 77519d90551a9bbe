import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { accountByLogin, operatorAudit } from '../../auth/operator-actions.js'
import { Login, OperatorReason, Params } from '../schemas.js'

export const adminSignOut = defineMethod({
  name: 'AdminSignOut',
  summary:
    'Operators: end every session of an account and, with tokens: true, delete its personal access tokens too (they stop working at once).',
  auth: 'admin',
  sensitive: false,
  params: Params({
    login: Login,
    tokens: Type.Optional(Type.Boolean({ default: false, description: 'also delete every PAT of the account' })),
    reason: OperatorReason,
  }),
  result: Type.Object({
    sessions: Type.Integer({ minimum: 0, description: 'sessions ended' }),
    tokens: Type.Integer({ minimum: 0, description: 'PATs deleted (0 without tokens: true)' }),
  }),
  errors: ['NOT_FOUND'],
  async handle({ params, caller, origin, services, now }) {
    const account = await accountByLogin(services, params.login)
    const { sessions, tokens, audit } = services.stores
    const entry = operatorAudit('admin.signed_out', caller, origin, params.reason)
    // Sessions first: if Postgres then fails, ending them was safe and the operator retries.
    const ended = await sessions.revoke(account.id, '*', null)
    if (params.tokens !== true) {
      await audit.record(account.id, entry, now)
      return { sessions: ended, tokens: 0 }
    }
    // The store evicts the cached copies before and after the commit.
    const removed = await tokens.deleteAllAudited(account.id, entry)
    return { sessions: ended, tokens: removed.length }
  },
})
