import { Type } from '@sinclair/typebox'
import { auditTypes } from '../../domain/audit-events.js'
import { defineMethod } from '../../rpc/define-method.js'
import { Nullable, Params, Timestamp, iso } from '../schemas.js'

export const getSigninHistory = defineMethod({
  name: 'GetSigninHistory',
  summary: 'Security events of this account, newest first.',
  auth: 'session',
  sensitive: false,
  params: Params({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) }),
  result: Type.Object({
    events: Type.Array(
      Type.Object({
        type: Type.String({ description: auditTypes.join(', ') }),
        at: Timestamp,
        ip: Nullable(Type.String()),
        userAgent: Nullable(Type.String()),
        detail: Type.Optional(
          Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
        ),
      }),
    ),
  }),
  errors: [],
  async handle({ params, caller, services }) {
    const events = await services.stores.audit.list(caller.accountId, params.limit ?? 20)
    return {
      events: events.map((e) => ({
        type: e.type,
        at: iso(e.at),
        ip: e.ip,
        userAgent: e.userAgent,
        ...(e.detail === undefined ? {} : { detail: e.detail }),
      })),
    }
  },
})
