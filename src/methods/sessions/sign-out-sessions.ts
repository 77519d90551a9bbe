import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { Ids, Params } from '../schemas.js'

export const signOutSessions = defineMethod({
  name: 'SignOutSessions',
  summary:
    'End sessions of this account by id, or all but the calling one with "*". An id that is not a live session of this account is NOT_FOUND and nothing ends.',
  auth: 'session',
  sensitive: false,
  params: Params({ ids: Ids }),
  result: Type.Object({ count: Type.Integer({ minimum: 0 }) }),
  errors: ['NOT_FOUND'],
  async handle({ params, caller, origin, services, now }) {
    const { sessions, audit } = services.stores
    if (params.ids !== '*') {
      const live = new Set((await sessions.list(caller.accountId, now.getTime())).map((s) => s.id))
      const unknown = params.ids.filter((id) => !live.has(id))
      if (unknown.length > 0)
        throw new AppError('NOT_FOUND', `No live session of this account has id ${unknown[0]}.`, { ids: unknown })
    }
    // As in SignOut: the revocation decides; a failed audit after it is logged, not answered.
    const count = await sessions.revoke(caller.accountId, params.ids, caller.sessionId)
    await audit
      .record(caller.accountId, { type: 'sessions.revoked', ...origin, detail: { count } }, now)
      .catch((err: unknown) => services.log.warn({ err }, 'could not audit ended sessions'))
    return { count }
  },
})
