import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { canonicalLogin } from '../../domain/logins.js'
import { Nullable, Params, Timestamp, Uuid, iso } from '../schemas.js'

const cursorVersion = 'v1:'

/** Opaque to clients: the last login of the page, so the next page starts after it (keyset, no offsets). */
function encodeCursor(login: string): string {
  return Buffer.from(cursorVersion + login, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  if (
    !text.startsWith(cursorVersion) ||
    text.length === cursorVersion.length ||
    encodeCursor(text.slice(cursorVersion.length)) !== cursor
  )
    throw new AppError('INVALID_PARAMS', 'Invalid params: /cursor is not a cursor this method returned.', {
      errors: [{ field: '/cursor', message: 'not a cursor this method returned' }],
    })
  return text.slice(cursorVersion.length)
}

export const adminListAccounts = defineMethod({
  name: 'AdminListAccounts',
  summary:
    'Operators: accounts in login order, a page at a time. twoFactor "off" lists accounts without 2FA, "overdue" those of them past an operator deadline (the compliance report).',
  auth: 'admin',
  sensitive: false,
  params: Params({
    twoFactor: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off'), Type.Literal('overdue')])),
    loginPrefix: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, description: 'only logins starting with this (case-insensitive)' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'nextCursor of the previous page, same filters' }),
    ),
  }),
  result: Type.Object({
    accounts: Type.Array(
      Type.Object({
        accountId: Uuid,
        login: Type.String(),
        twoFactorEnabled: Type.Boolean(),
        twoFactorRequiredBy: Nullable(Timestamp),
        locked: Type.Boolean(),
        createdAt: Timestamp,
      }),
    ),
    nextCursor: Nullable(Type.String({ description: 'pass as cursor for the next page; null on the last page' })),
  }),
  errors: [],
  async handle({ params, services, now }) {
    const limit = params.limit ?? 100
    const after = params.cursor === undefined ? undefined : decodeCursor(params.cursor)
    // One row past the page says whether another page follows, so the last page has no cursor.
    const rows = await services.stores.accounts.list({
      ...(params.twoFactor === undefined ? {} : { twoFactor: params.twoFactor }),
      ...(params.loginPrefix === undefined ? {} : { loginPrefix: canonicalLogin(params.loginPrefix) }),
      ...(after === undefined ? {} : { after }),
      limit: limit + 1,
      now,
    })
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return {
      accounts: page.map((a) => ({
        accountId: a.id,
        login: a.login,
        twoFactorEnabled: a.twoFactorEnabled,
        twoFactorRequiredBy: a.twoFactorRequiredBy === null ? null : iso(a.twoFactorRequiredBy),
        locked: a.locked,
        createdAt: iso(a.createdAt),
      })),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.login) : null,
    }
  },
})
