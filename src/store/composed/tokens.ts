import type { FastifyBaseLogger } from 'fastify'
import { overriding } from '../members.js'
import type { Digest } from '../../domain/credentials.js'
import type { TokenCacheStore, TokenStore } from '../ports/index.js'

/**
 * Tokens whose cached copies follow every change. A change evicts the token's cache entry before
 * its commit (Redis down: the call fails and nothing changed; the eviction's guard keeps the old
 * grant from being re-cached meanwhile) and again after it, as a backstop that may fail without
 * failing the call: the commit is the decisive write. A new digest's "unknown" mark is cleared
 * before the commit that makes it known.
 */
export function tokensWithCache(tokens: TokenStore, cache: TokenCacheStore, log: FastifyBaseLogger): TokenStore {
  const evictAfterCommit = (digests: Digest[]) =>
    digests.length === 0
      ? Promise.resolve()
      : cache
          .evict(digests)
          .catch((err: unknown) => log.warn({ err }, 'could not evict token cache entries after a commit'))
  const digestsOf = async (accountId: string, ids: string[] | '*') =>
    (await tokens.list(accountId)).filter((token) => ids === '*' || ids.includes(token.id)).map((token) => token.digest)

  return overriding(tokens, {
    async create(input, maxPerAccount, audit) {
      await cache.clearUnknown([input.digest])
      return tokens.create(input, maxPerAccount, audit)
    },
    async update(accountId, id, changes, audit) {
      const digests = await digestsOf(accountId, [id])
      // An expired token is remembered as unknown; a new expiry may bring it back.
      await Promise.all([cache.evict(digests), cache.clearUnknown(digests)])
      const updated = await tokens.update(accountId, id, changes, audit)
      if (updated !== null) await evictAfterCommit([updated.digest])
      return updated
    },
    async replaceDigest(accountId, id, digest, hint, audit) {
      await Promise.all([cache.evict(await digestsOf(accountId, [id])), cache.clearUnknown([digest])])
      const replaced = await tokens.replaceDigest(accountId, id, digest, hint, audit)
      if (replaced !== null) await evictAfterCommit([replaced.oldDigest])
      return replaced
    },
    async deleteAllAudited(accountId, audit) {
      await cache.evict(await digestsOf(accountId, '*'))
      const removed = await tokens.deleteAllAudited(accountId, audit)
      await evictAfterCommit(removed)
      return removed
    },
    async delete(accountId, ids, audit) {
      await cache.evict(await digestsOf(accountId, ids))
      const removed = await tokens.delete(accountId, ids, audit)
      await evictAfterCommit(removed)
      return removed
    },
  })
}

/** Evicts the cached copies of every token of an account (a lock, a deadline or the 2FA flag changed). */
export async function evictAccountTokens(tokens: TokenStore, cache: TokenCacheStore, accountId: string): Promise<void> {
  const digests = (await tokens.list(accountId)).map((t) => t.digest)
  if (digests.length > 0) await cache.evict(digests)
}
