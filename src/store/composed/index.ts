import type { FastifyBaseLogger } from 'fastify'
import type { Stores } from '../ports/index.js'
import { tokensWithCache } from './tokens.js'
import { twoFactorWithCopies } from './two-factor.js'
import { accountsWithCopies } from './accounts.js'

/**
 * The rules that span both stores, each in one place: a token change evicts its cached copies and
 * clears "unknown" marks; a 2FA change refreshes the copies of its flag after its commit; an
 * operator's lock or 2FA deadline reaches the sessions and cached PATs (accounts.ts).
 *
 * Composed per call over the call's budgeted stores (see budget.ts): each write inside is its own
 * budgeted wait, so a post-commit step that runs out of time fails alone (logged) instead of
 * turning the committed change into UNAVAILABLE.
 */
export function withCrossStoreRules(stores: Stores, log: FastifyBaseLogger): Stores {
  // Made on first use: most calls (the hot path) touch neither.
  let tokens: Stores['tokens'] | undefined
  let twoFactor: Stores['twoFactor'] | undefined
  let accounts: Stores['accounts'] | undefined
  const composedTokens = (): Stores['tokens'] => {
    tokens ??= tokensWithCache(stores.tokens, stores.tokenCache, log)
    return tokens
  }
  const composedTwoFactor = (): Stores['twoFactor'] => {
    twoFactor ??= twoFactorWithCopies(
      stores.twoFactor,
      { sessions: stores.sessions, tokens: composedTokens(), tokenCache: stores.tokenCache },
      log,
    )
    return twoFactor
  }
  const composedAccounts = (): Stores['accounts'] => {
    accounts ??= accountsWithCopies(
      stores.accounts,
      { sessions: stores.sessions, tokens: stores.tokens, tokenCache: stores.tokenCache },
      log,
    )
    return accounts
  }
  return new Proxy(stores, {
    get(target, key) {
      if (key === 'accounts') return composedAccounts()
      if (key === 'tokens') return composedTokens()
      if (key === 'twoFactor') return composedTwoFactor()
      return Reflect.get(target, key)
    },
  })
}
