import type { FastifyBaseLogger } from 'fastify'
import { overriding } from '../members.js'
import { evictAccountTokens } from './tokens.js'
import type { AccountStore, SessionStore, TokenCacheStore, TokenStore } from '../ports/index.js'

/**
 * An operator's lock and 2FA deadline live in Postgres; sessions and cached PATs act on copies.
 *
 * - A lock ends every session and evicts every cached PAT before its commit (Redis down: the call
 *   fails and nothing is locked) and again after it, best effort: a session issued in between is
 *   caught there or by issueSession's own check, and a PAT read from Postgres in between cannot be
 *   cached again (eviction leaves a guard). An unlock evicts the cached "locked" copies after its
 *   commit (and before, so none is re-cached from a read that raced it).
 * - A new deadline is written to every session's copy and the PATs are evicted after the commit.
 *
 * Follow-up work after the commit is logged when it fails, never answered: the change is done.
 */
export function accountsWithCopies(
  accounts: AccountStore,
  copies: { sessions: SessionStore; tokens: TokenStore; tokenCache: TokenCacheStore },
  log: FastifyBaseLogger,
): AccountStore {
  const evictTokens = (accountId: string) => evictAccountTokens(copies.tokens, copies.tokenCache, accountId)
  const endSessionsAndEvictTokens = async (accountId: string) => {
    await copies.sessions.revoke(accountId, '*', null)
    await evictTokens(accountId)
  }
  const afterCommit = (accountId: string, work: () => Promise<unknown>) =>
    work().then(
      () => undefined,
      (err: unknown) =>
        log.warn({ err, accountId }, 'could not update the copies of an operator change after its commit'),
    )

  return overriding(accounts, {
    async setLocked(accountId, locked, audit, now) {
      const cut = locked ? endSessionsAndEvictTokens : evictTokens
      await cut(accountId)
      await accounts.setLocked(accountId, locked, audit, now)
      await afterCommit(accountId, () => cut(accountId))
    },
    async setTwoFactorRequiredBy(accountId, requiredBy, audit, now) {
      await accounts.setTwoFactorRequiredBy(accountId, requiredBy, audit, now)
      await afterCommit(accountId, async () => {
        await copies.sessions.setTwoFactorRequiredBy(accountId, requiredBy?.getTime() ?? null)
        await evictTokens(accountId)
      })
    },
  })
}
