import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { apiListAllows } from '../../domain/api-list.js'
import { twoFactorSetupDeadline } from '../../domain/two-factor-requirement.js'
import { Nullable, Params, Timestamp, Uuid, iso } from '../schemas.js'

/** Every valid credential may call GetSession, whatever its apiList, so `allowed` is true for it. */
const name = 'GetSession'

export const getSession = defineMethod({
  name,
  summary:
    'Describe the calling credential. Accepts every valid session or PAT whatever its apiList: this is how other services check a credential. With apiMethod, `allowed` says whether this credential may call it.',
  auth: 'any',
  sensitive: false,
  ignoresApiList: true,
  allowedDuringTwoFactorSetup: true,
  params: Params({ apiMethod: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
  result: Type.Object({
    accountId: Uuid,
    login: Type.String(),
    authType: Type.Union([Type.Literal('session'), Type.Literal('token')]),
    twoFactorEnabled: Type.Boolean(),
    expiresAt: Nullable(Timestamp),
    apiList: Type.Optional(
      Nullable(Type.Array(Type.String(), { description: 'PATs only; null: every catalog method' })),
    ),
    allowed: Type.Optional(Type.Boolean()),
    twoFactorSetupRequired: Type.Optional(
      Type.Literal(true, {
        description:
          "an operator's 2FA deadline has passed and 2FA is off: a session may call only GetSession, Get2FAStatus, Get2FAConfig, Enable2FA and SignOut, a PAT only GetSession",
      }),
    ),
    twoFactorSetupRequiredBy: Type.Optional({
      ...Timestamp,
      description: 'an operator requires 2FA and it is off: the deadline for turning it on',
    }),
  }),
  errors: [],
  async handle({ params, caller, services }) {
    const deadline = twoFactorSetupDeadline(caller)
    const base = {
      accountId: caller.accountId,
      login: caller.login,
      twoFactorEnabled: caller.twoFactorEnabled,
      ...(caller.restrictedTo === undefined ? {} : { twoFactorSetupRequired: true as const }),
      ...(deadline === null ? {} : { twoFactorSetupRequiredBy: iso(deadline) }),
    }
    const { apiMethod } = params
    // Past the deadline the pipeline names what this credential may still call; `allowed` says the same.
    const { restrictedTo } = caller
    if (caller.kind === 'session') {
      return {
        ...base,
        authType: 'session' as const,
        expiresAt: iso(caller.expiresAt),
        ...(apiMethod === undefined ? {} : { allowed: restrictedTo === undefined || restrictedTo.has(apiMethod) }),
      }
    }
    // Besides GetSession itself, a PAT reaches only catalog methods its apiList allows.
    const allowed =
      apiMethod === undefined
        ? undefined
        : restrictedTo !== undefined
          ? restrictedTo.has(apiMethod)
          : apiMethod === name || (services.catalog.names.has(apiMethod) && apiListAllows(caller.apiList, apiMethod))
    return {
      ...base,
      authType: 'token' as const,
      expiresAt: caller.expiresAt === null ? null : iso(caller.expiresAt),
      apiList: caller.apiList,
      ...(allowed === undefined ? {} : { allowed }),
    }
  },
})
