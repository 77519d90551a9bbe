import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { generateRecoveryCodes, recoveryCodeCount } from '../../domain/recovery-codes.js'
import { Params, Password, RecoveryCodeSet } from '../schemas.js'

export const regenerateRecoveryCodes = defineMethod({
  name: 'RegenerateRecoveryCodes',
  summary: `Issue a new set of ${recoveryCodeCount} recovery codes; the old set stops working at once.`,
  auth: 'session',
  sensitive: true,
  params: Params({ password: Password }),
  result: Type.Object({ recoveryCodes: RecoveryCodeSet }),
  errors: ['CONFLICT'],
  async handle({ caller, origin, services }) {
    const codes = generateRecoveryCodes()
    // The store replaces the set and audits in one transaction; CONFLICT when 2FA is off.
    await services.stores.twoFactor.replaceRecoveryCodes(caller.accountId, codes, {
      type: 'recovery.regenerated',
      ...origin,
    })
    return { recoveryCodes: codes }
  },
})
