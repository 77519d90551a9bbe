import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { Ids, Params, Password } from '../schemas.js'

export const deleteTokens = defineMethod({
  name: 'DeleteTokens',
  summary:
    'Delete tokens of this account by id, or all with "*"; they stop working at once. Ids that are not this account\'s tokens are not counted.',
  auth: 'session',
  sensitive: true,
  params: Params({ ids: Ids, password: Password }),
  result: Type.Object({ count: Type.Integer({ minimum: 0, description: 'tokens deleted' }) }),
  errors: [],
  async handle({ params, caller, origin, services }) {
    const removed = await services.stores.tokens.delete(caller.accountId, params.ids, {
      type: 'token.deleted',
      ...origin,
      detail: { ids: params.ids === '*' ? '*' : params.ids.join(',') },
    })
    return { count: removed.length }
  },
})
