import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { Empty } from '../schemas.js'

export const signOut = defineMethod({
  name: 'SignOut',
  summary: 'End the calling session.',
  auth: 'session',
  sensitive: false,
  allowedDuringTwoFactorSetup: true,
  params: Empty,
  result: Type.Object({}),
  errors: [],
  async handle({ caller, origin, services, now }) {
    // Ending the session is the decisive write; its audit event, after it, must not turn the done
    // sign-out into an error (written first it could claim a sign-out that then failed).
    await services.stores.sessions.remove(caller.accountId, caller.sessionDigest)
    await services.stores.audit
      .record(caller.accountId, { type: 'signout', ...origin }, now)
      .catch((err: unknown) => services.log.warn({ err }, 'could not audit a sign-out'))
    return {}
  },
})
