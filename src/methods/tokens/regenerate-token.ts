import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { credentialDigest, newPersonalAccessToken, tokenHint } from '../../domain/credentials.js'
import { Params, Password, Uuid } from '../schemas.js'

export const regenerateToken = defineMethod({
  name: 'RegenerateToken',
  summary:
    'Give a token a new secret, keeping its id, description, apiList and expiry; the old secret stops working at once.',
  auth: 'session',
  sensitive: true,
  params: Params({ id: Uuid, password: Password }),
  result: Type.Object({
    id: Uuid,
    token: Type.String({ description: 'the new lkp_… token; shown only here' }),
  }),
  errors: ['NOT_FOUND'],
  async handle({ params, caller, origin, services }) {
    const token = newPersonalAccessToken()
    const replaced = await services.stores.tokens.replaceDigest(
      caller.accountId,
      params.id,
      credentialDigest(token),
      tokenHint(token),
      {
        type: 'token.regenerated',
        ...origin,
        detail: { tokenId: params.id },
      },
    )
    if (replaced === null) throw new AppError('NOT_FOUND', 'This account has no token with that id.')
    return { id: params.id, token }
  },
})
