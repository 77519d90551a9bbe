import { FormatRegistry, Type, type TSchema } from '@sinclair/typebox'
import { loginPattern } from '../domain/logins.js'
import { recoveryCodeCount } from '../domain/recovery-codes.js'

// TypeBox's compiler knows no formats until told; RFC 3339 date-times as the API uses them.
FormatRegistry.Set(
  'date-time',
  (value) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value)),
)
// Deliberately loose: one @, no spaces; deliverability is not ours to judge.
FormatRegistry.Set('email', (value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
FormatRegistry.Set('uuid', (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))

/** Params objects refuse unknown members. */
export const Params = <T extends Record<string, TSchema>>(properties: T) =>
  Type.Object(properties, { additionalProperties: false })

export const Login = Type.String({
  pattern: loginPattern,
  description: '3–254 letters, digits and . _ - @ +; case-insensitive',
})
/** Length rules in code points are the domain's (passwordProblems); this only bounds the input. */
export const NewPassword = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: '8–256 characters (Unicode code points, NFKC); not a common password; must not contain the login',
})
export const Password = Type.String({ minLength: 1, maxLength: 1024, description: 'the account password' })
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601 UTC' })
export const Uuid = Type.String({ format: 'uuid' })
export const Empty = Type.Object({}, { additionalProperties: false })
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
export const Ids = Type.Union(
  [Type.Array(Uuid, { minItems: 1, maxItems: 100, uniqueItems: true }), Type.Literal('*')],
  {
    description: 'ids, or "*" for all',
  },
)

export const RecoveryCode = Type.String({
  pattern: '^[a-z0-9]{5}-[a-z0-9]{5}$',
  description: 'xxxxx-xxxxx; input ignores case, spaces and hyphens',
})
/** A whole set as it leaves the service: once, in the reply that created it. */
export const RecoveryCodeSet = Type.Array(RecoveryCode, { minItems: recoveryCodeCount, maxItems: recoveryCodeCount })
/** A whole set again, each code marked used or not. */
export const MarkedRecoveryCodeSet = Type.Array(Type.Object({ code: RecoveryCode, used: Type.Boolean() }), {
  minItems: recoveryCodeCount,
  maxItems: recoveryCodeCount,
})
export const RecoveryCodesLeft = (description?: string) =>
  Type.Integer({ minimum: 0, maximum: recoveryCodeCount, ...(description === undefined ? {} : { description }) })

const recentIso = new Map<number, string>()

/**
 * ISO-8601 UTC. The hot path formats the same few instants over and over (a cached session's
 * expiry), so recent ones are remembered; the memo is emptied when it grows past 10,000.
 */
export function iso(at: number | Date): string {
  const ms = typeof at === 'number' ? at : at.getTime()
  let text = recentIso.get(ms)
  if (text === undefined) {
    text = new Date(ms).toISOString()
    if (recentIso.size >= 10_000) recentIso.clear()
    recentIso.set(ms, text)
  }
  return text
}

/** Why an operator acts; the user reads it in their own sign-in history. */
export const OperatorReason = Type.String({
  minLength: 1,
  maxLength: 500,
  description: 'why (a ticket number, an incident); shown to the user in GetSigninHistory',
})
