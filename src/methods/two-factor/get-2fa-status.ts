import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { Empty, Nullable, RecoveryCodesLeft, Timestamp, iso } from '../schemas.js'

export const get2FAStatus = defineMethod({
  name: 'Get2FAStatus',
  summary:
    'Whether two-factor sign-in is on for this account, since when, how many recovery codes are unused, and whether an operator requires it (by when).',
  auth: 'session',
  sensitive: false,
  allowedDuringTwoFactorSetup: true,
  params: Empty,
  result: Type.Object({
    enabled: Type.Boolean(),
    enabledAt: Nullable(Timestamp),
    recoveryCodesLeft: RecoveryCodesLeft('0 when 2FA is off'),
    required: Type.Boolean({ description: 'an operator requires 2FA for this account (then Disable2FA is FORBIDDEN)' }),
    requiredBy: Nullable({ ...Timestamp, description: "the operator's deadline for turning 2FA on, or null" }),
  }),
  errors: [],
  async handle({ caller, services }) {
    const { accounts, twoFactor } = services.stores
    const [status, account] = await Promise.all([
      twoFactor.status(caller.accountId),
      accounts.findById(caller.accountId),
    ])
    const requiredBy = account?.twoFactorRequiredBy ?? null
    const requirement = { required: requiredBy !== null, requiredBy: requiredBy === null ? null : iso(requiredBy) }
    if (status === null) return { enabled: false, enabledAt: null, recoveryCodesLeft: 0, ...requirement }
    return {
      enabled: true,
      enabledAt: iso(status.enabledAt),
      recoveryCodesLeft: status.recoveryCodesLeft,
      ...requirement,
    }
  },
})
