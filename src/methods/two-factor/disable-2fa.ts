import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { Params, Password } from '../schemas.js'

export const disable2FA = defineMethod({
  name: 'Disable2FA',
  summary:
    'Turn two-factor sign-in off; the TOTP secret and recovery codes are destroyed. FORBIDDEN while an operator requires 2FA for the account.',
  auth: 'session',
  sensitive: true,
  params: Params({ password: Password }),
  result: Type.Object({}),
  errors: ['CONFLICT'],
  async handle({ caller, origin, services }) {
    // CONFLICT from the store when 2FA is already off, FORBIDDEN while an operator requires it; the
    // store refreshes the flag's copies after it.
    await services.stores.twoFactor.disable(
      caller.accountId,
      { type: '2fa.disabled', ...origin },
      { unlessRequired: true },
    )
    return {}
  },
})
