import { Type, type Static } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import type { Services } from '../../services.js'
import type { Digest } from '../../domain/credentials.js'
import type { TokenRecord } from '../../store/ports/index.js'
import { Empty, Nullable, Timestamp, Uuid, iso } from '../schemas.js'

/** What anyone holding a session may see of a token: never the secret, never its digest. */
export const PublicToken = Type.Object({
  id: Uuid,
  description: Type.String(),
  apiList: Nullable(
    Type.Array(Type.String(), { description: 'method names and prefix wildcards; null: every catalog method' }),
  ),
  createdAt: Timestamp,
  expiresAt: Nullable(Timestamp),
  lastUsedAt: Nullable(Timestamp),
  lastUsedIp: Nullable(Type.String()),
  hint: Type.String({ description: 'the last 4 characters of the token' }),
})

export type PublicTokenView = Static<typeof PublicToken>

/**
 * Public fields with the freshest last use. The hot path records every use in Redis but writes
 * Postgres at most once per TOKEN_LAST_USED_FLUSH_SECONDS, so either side may be ahead.
 */
export async function publicTokens(
  services: Services,
  tokens: ReadonlyArray<TokenRecord & { digest: Digest }>,
): Promise<PublicTokenView[]> {
  const digests = tokens.map((t) => t.digest)
  // Uses recorded only in Redis are a refinement: without them the durable ones are shown, so
  // this never fails a call whose change has committed (EditToken).
  const cachedUses =
    digests.length === 0
      ? new Map<Digest, { at: number; ip: string }>()
      : await services.stores.tokenCache.lastUses(digests).catch((err: unknown) => {
          services.log.warn({ err }, 'could not read recent token uses')
          return new Map<Digest, { at: number; ip: string }>()
        })
  return tokens.map((token) => {
    const cached = cachedUses.get(token.digest)
    const durableAt = token.lastUsedAt?.getTime() ?? null
    const fresher = cached !== undefined && (durableAt === null || cached.at > durableAt)
    return {
      id: token.id,
      description: token.description,
      apiList: token.apiList,
      createdAt: iso(token.createdAt),
      expiresAt: token.expiresAt === null ? null : iso(token.expiresAt),
      lastUsedAt: fresher ? iso(cached.at) : durableAt === null ? null : iso(durableAt),
      lastUsedIp: fresher ? cached.ip : token.lastUsedIp,
      hint: token.hint,
    }
  })
}

export const getTokens = defineMethod({
  name: 'GetTokens',
  summary: "The account's personal access tokens, newest first; shows a 4-character hint, never the secret.",
  auth: 'session',
  sensitive: false,
  params: Empty,
  result: Type.Object({ tokens: Type.Array(PublicToken) }),
  errors: [],
  async handle({ caller, services }) {
    const tokens = await services.stores.tokens.list(caller.accountId)
    const sorted = [...tokens].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id))
    return { tokens: await publicTokens(services, sorted) }
  },
})
