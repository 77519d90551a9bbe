import type { FastifyBaseLogger } from 'fastify'
import { overriding } from '../members.js'
import { evictAccountTokens } from './tokens.js'
import type { SessionStore, TokenCacheStore, TokenStore, TwoFactorStore } from '../ports/index.js'

/**
 * Sessions and cached PATs carry a copy of the 2FA flag so the hot path needs no Postgres read.
 * Turning 2FA on or off commits first (the decisive write), then refreshes those copies. A
 * refresh that fails is logged, not answered: the change is done and the reply must say so (the
 * copies then catch up as sessions are re-issued and cached PATs expire, TOKEN_CACHE_SECONDS).
 */
export function twoFactorWithCopies(
  twoFactor: TwoFactorStore,
  copies: { sessions: SessionStore; tokens: TokenStore; tokenCache: TokenCacheStore },
  log: FastifyBaseLogger,
): TwoFactorStore {
  async function refresh(accountId: string, enabled: boolean): Promise<void> {
    try {
      await copies.sessions.setTwoFactorEnabled(accountId, enabled)
      await evictAccountTokens(copies.tokens, copies.tokenCache, accountId)
    } catch (err) {
      log.warn({ err, accountId }, 'could not refresh the copies of the 2FA flag after a commit')
    }
  }
  return overriding(twoFactor, {
    async enable(accountId, secret, recoveryCodes, audit, now, acceptedStep) {
      await twoFactor.enable(accountId, secret, recoveryCodes, audit, now, acceptedStep)
      await refresh(accountId, true)
    },
    async disable(accountId, audit, options) {
      await twoFactor.disable(accountId, audit, options)
      await refresh(accountId, false)
    },
  })
}
