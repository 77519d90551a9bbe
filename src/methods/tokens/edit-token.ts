import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { Nullable, Params, Password, Uuid } from '../schemas.js'
import { TokenApiList, TokenDescription, TokenExpiresAt, assertKnownApiList, futureExpiry } from './create-token.js'
import { PublicToken, publicTokens } from './get-tokens.js'

export const editToken = defineMethod({
  name: 'EditToken',
  summary:
    "Change a token's description, apiList (null: every catalog method) or expiresAt (null: never); absent fields stay as they are, and the change applies from the very next call.",
  auth: 'session',
  sensitive: true,
  params: Params({
    id: Uuid,
    password: Password,
    description: Type.Optional(TokenDescription),
    apiList: Type.Optional(Nullable(TokenApiList)),
    expiresAt: Type.Optional(Nullable(TokenExpiresAt)),
  }),
  result: PublicToken,
  errors: ['NOT_FOUND'],
  async handle({ params, caller, origin, services, now }) {
    const { description, apiList, expiresAt } = params
    if (apiList !== undefined && apiList !== null) assertKnownApiList(apiList, services.catalog)
    const changes = {
      ...(description === undefined ? {} : { description }),
      ...(apiList === undefined ? {} : { apiList }),
      ...(expiresAt === undefined ? {} : { expiresAt: expiresAt === null ? null : futureExpiry(expiresAt, now) }),
    }

    const updated = await services.stores.tokens.update(caller.accountId, params.id, changes, {
      type: 'token.edited',
      ...origin,
      detail: { tokenId: params.id },
    })
    // Another account's token answers exactly like a missing one: ids reveal nothing.
    if (updated === null) throw new AppError('NOT_FOUND', 'This account has no token with that id.')

    const [view] = await publicTokens(services, [{ ...updated.token, digest: updated.digest }])
    if (view === undefined) throw new Error('publicTokens dropped a token')
    return view
  },
})
