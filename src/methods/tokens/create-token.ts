import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import type { ApiCatalog } from '../../api-catalog.js'
import { unknownApiListEntries } from '../../domain/api-list.js'
import { credentialDigest, credentialPrefixes, newPersonalAccessToken, tokenHint } from '../../domain/credentials.js'
import { Nullable, Params, Password, Timestamp, Uuid, iso } from '../schemas.js'

export const TokenDescription = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'what the token is for (1–200 characters)',
})
/** Names are checked against the catalog in the handler, so the error can name each unknown entry. */
export const TokenApiList = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
  maxItems: 200,
  uniqueItems: true,
  description: 'method names from GetTokenApiList or prefix wildcards such as "environment.*"',
})
export const TokenExpiresAt = Type.String({ format: 'date-time', description: 'ISO-8601; must be in the future' })

/** A credential pasted where a method name belongs must not come back in the error. */
const looksLikeCredential = (entry: string) =>
  Object.values(credentialPrefixes).some((prefix) => entry.startsWith(prefix))
const describeEntry = (entry: string) =>
  looksLikeCredential(entry) ? '(a credential, not shown)' : JSON.stringify(entry)

/** Refuses apiList entries that match nothing in the catalog: a typo must not silently grant nothing. */
export function assertKnownApiList(apiList: readonly string[], catalog: ApiCatalog): void {
  const unknown = unknownApiListEntries(apiList, catalog.names)
  if (unknown.length === 0) return
  throw new AppError(
    'INVALID_PARAMS',
    `Unknown apiList ${unknown.length === 1 ? 'entry' : 'entries'}: ${unknown.map(describeEntry).join(', ')}. See GetTokenApiList.`,
    {
      errors: unknown.map((entry) => ({
        field: `/apiList/${apiList.indexOf(entry)}`,
        message: `unknown method or wildcard ${describeEntry(entry)}`,
        ...(looksLikeCredential(entry) ? {} : { entry }),
      })),
    },
  )
}

/** A token that is born expired is a mistake (often a time zone one), not a request. */
export function futureExpiry(value: string, now: Date): Date {
  const expiresAt = new Date(value)
  if (expiresAt.getTime() <= now.getTime()) {
    throw new AppError('INVALID_PARAMS', 'Invalid params: /expiresAt must be in the future.', {
      errors: [{ field: '/expiresAt', message: 'must be in the future' }],
    })
  }
  return expiresAt
}

export const createToken = defineMethod({
  name: 'CreateToken',
  summary:
    'Create a personal access token limited to apiList (absent: every catalog method); the token is shown only in this reply.',
  auth: 'session',
  sensitive: true,
  params: Params({
    password: Password,
    description: TokenDescription,
    apiList: Type.Optional(TokenApiList),
    expiresAt: Type.Optional(TokenExpiresAt),
  }),
  result: Type.Object({
    id: Uuid,
    token: Type.String({ description: 'lkp_… personal access token; shown only here and by RegenerateToken' }),
    description: Type.String(),
    apiList: Nullable(Type.Array(Type.String())),
    expiresAt: Nullable(Timestamp),
    createdAt: Timestamp,
  }),
  errors: ['CONFLICT'],
  async handle({ params, caller, origin, services, now }) {
    const apiList = params.apiList ?? null
    if (apiList !== null) assertKnownApiList(apiList, services.catalog)
    const expiresAt = params.expiresAt === undefined ? null : futureExpiry(params.expiresAt, now)

    const token = newPersonalAccessToken()
    // The cap is checked in the same transaction as the insert, so parallel creates cannot pass it.
    const record = await services.stores.tokens.create(
      {
        accountId: caller.accountId,
        digest: credentialDigest(token),
        description: params.description,
        apiList,
        hint: tokenHint(token),
        expiresAt,
      },
      services.config.TOKEN_MAX_PER_ACCOUNT,
      { type: 'token.created', ...origin, detail: { description: params.description } },
    )
    return {
      id: record.id,
      token,
      description: record.description,
      apiList: record.apiList,
      expiresAt: record.expiresAt === null ? null : iso(record.expiresAt),
      createdAt: iso(record.createdAt),
    }
  },
})
