import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { Empty, Nullable, RecoveryCodesLeft, Timestamp, iso } from '../schemas.js'

export const get2FAStatus = defineMethod({
  name: 'Get2FAStatus',
  summary: 'Whether two-factor sign-in is on for this account, since when, and how many recovery codes are unused.',
  auth: 'session',
  sensitive: false,
  params: Empty,
  result: Type.Object({
    enabled: Type.Boolean(),
    enabledAt: Nullable(Timestamp),
    recoveryCodesLeft: RecoveryCodesLeft('0 when 2FA is off'),
  }),
  errors: [],
  async handle({ caller, services }) {
    const status = await services.stores.twoFactor.status(caller.accountId)
    if (status === null) return { enabled: false, enabledAt: null, recoveryCodesLeft: 0 }
    return { enabled: true, enabledAt: iso(status.enabledAt), recoveryCodesLeft: status.recoveryCodesLeft }
  },
})
