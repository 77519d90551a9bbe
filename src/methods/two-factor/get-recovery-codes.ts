import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { MarkedRecoveryCodeSet, Params, Password } from '../schemas.js'

export const getRecoveryCodes = defineMethod({
  name: 'GetRecoveryCodes',
  summary: 'Show the current recovery codes again, each marked used or not.',
  auth: 'session',
  sensitive: true,
  params: Params({ password: Password }),
  result: Type.Object({ recoveryCodes: MarkedRecoveryCodeSet }),
  errors: ['CONFLICT'],
  async handle({ caller, services }) {
    // CONFLICT from the store when 2FA is off.
    const codes = await services.stores.twoFactor.recoveryCodes(caller.accountId)
    return { recoveryCodes: codes.map(({ code, used }) => ({ code, used })) }
  },
})
