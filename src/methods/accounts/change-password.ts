import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { NewPassword, Params, Password } from '../schemas.js'
import { refuseWeakPassword } from '../../auth/refuse-weak-password.js'

export const changePassword = defineMethod({
  name: 'ChangePassword',
  summary: 'Change the password. Every other session ends; personal access tokens stay.',
  auth: 'session',
  sensitive: true,
  params: Params({ password: Password, newPassword: NewPassword }),
  result: Type.Object({}),
  errors: [],
  async handle({ params, caller, origin, services, now }) {
    refuseWeakPassword(params.newPassword, caller.login, 'newPassword')
    const passwordHash = await services.passwords.hash(params.newPassword)
    // Sessions first: if Postgres then fails, the password is unchanged and ending sessions is safe;
    // the other order could leave a changed password with the old sessions alive.
    await services.stores.sessions.revoke(caller.accountId, '*', caller.sessionId)
    await services.stores.accounts.changePassword(
      caller.accountId,
      passwordHash,
      { type: 'password.changed', ...origin },
      now,
    )
    return {}
  },
})
