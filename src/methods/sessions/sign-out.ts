import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { Empty } from '../schemas.js'

export const signOut = defineMethod({
  name: 'SignOut',
  summary: 'End the calling session.',
  auth: 'session',
  sensitive: false,
  params: Empty,
  result: Type.Object({}),
  errors: [],
  async handle({ caller, origin, services, now }) {
    await services.stores.sessions.remove(caller.accountId, caller.sessionDigest)
    await services.stores.audit.record(caller.accountId, { type: 'signout', ...origin }, now)
    return {}
  },
})
