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
  // Hot path: one object literal of a fixed shape (no spreads); optional members added only when due.
  async handle({ params, caller, services }) {
    const deadline = twoFactorSetupDeadline(caller)
    const { apiMethod } = params
    // Past the deadline the pipeline names what this credential may still call; `allowed` says the same.
    const { restrictedTo } = caller
    const reply: Reply =
      caller.kind === 'session'
        ? {
            accountId: caller.accountId,
            login: caller.login,
            twoFactorEnabled: caller.twoFactorEnabled,
            authType: 'session',
            expiresAt: iso(caller.expiresAt),
          }
        : {
            accountId: caller.accountId,
            login: caller.login,
            twoFactorEnabled: caller.twoFactorEnabled,
            authType: 'token',
            expiresAt: caller.expiresAt === null ? null : iso(caller.expiresAt),
            apiList: caller.apiList,
          }
    if (restrictedTo !== undefined) reply.twoFactorSetupRequired = true
    if (deadline !== null) reply.twoFactorSetupRequiredBy = iso(deadline)
    if (apiMethod !== undefined) {
      if (restrictedTo !== undefined) reply.allowed = restrictedTo.has(apiMethod)
      else if (caller.kind === 'session') reply.allowed = true
      // Besides GetSession itself, a PAT reaches only catalog methods its apiList allows.
      else
        reply.allowed =
          apiMethod === name || (services.catalog.names.has(apiMethod) && apiListAllows(caller.apiList, apiMethod))
    }
    return reply
  },
})

interface Reply {
  accountId: string
  login: string
  twoFactorEnabled: boolean
  authType: 'session' | 'token'
  expiresAt: string | null
  apiList?: string[] | null
  allowed?: boolean
  twoFactorSetupRequired?: true
  twoFactorSetupRequiredBy?: string
}
