import { Type } from '@sinclair/typebox'
import { auditTypes } from '../../domain/audit-events.js'
import { defineMethod } from '../../rpc/define-method.js'
import type { Services } from '../../services.js'
import { Nullable, Params, Timestamp, iso } from '../schemas.js'

export const HistoryLimit = Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 }))

export const SigninHistory = Type.Object({
  events: Type.Array(
    Type.Object({
      type: Type.String({
        description: `${auditTypes.join(', ')}; the admin.* events carry detail.admin (the operator key's name) and detail.reason`,
      }),
      at: Timestamp,
      ip: Nullable(Type.String()),
      userAgent: Nullable(Type.String()),
      detail: Type.Optional(
        Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
      ),
    }),
  ),
})

/** The account's events newest first, as the user and operators both see them. */
export async function signinHistory(services: Services, accountId: string, limit: number | undefined) {
  const events = await services.stores.audit.list(accountId, limit ?? 20)
  return {
    events: events.map((e) => ({
      type: e.type,
      at: iso(e.at),
      ip: e.ip,
      userAgent: e.userAgent,
      ...(e.detail === undefined ? {} : { detail: e.detail }),
    })),
  }
}

export const getSigninHistory = defineMethod({
  name: 'GetSigninHistory',
  summary: 'Security events of this account, newest first, operator actions included.',
  auth: 'session',
  sensitive: false,
  params: Params({ limit: HistoryLimit }),
  result: SigninHistory,
  errors: [],
  handle: ({ params, caller, services }) => signinHistory(services, caller.accountId, params.limit),
})
