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
 * turning the committed change into UNAVAILABLE. The composed stores are made on first use: most
 * calls (the hot path) touch none of them.
 */
class WithCrossStoreRules implements Stores {
  #tokens: Stores['tokens'] | undefined
  #twoFactor: Stores['twoFactor'] | undefined
  #accounts: Stores['accounts'] | undefined

  constructor(
    private readonly stores: Stores,
    private readonly log: FastifyBaseLogger,
  ) {}

  get tokens(): Stores['tokens'] {
    this.#tokens ??= tokensWithCache(this.stores.tokens, this.stores.tokenCache, this.log)
    return this.#tokens
  }
  get twoFactor(): Stores['twoFactor'] {
    const { stores } = this
    this.#twoFactor ??= twoFactorWithCopies(
      stores.twoFactor,
      { sessions: stores.sessions, tokens: stores.tokens, tokenCache: stores.tokenCache },
      this.log,
    )
    return this.#twoFactor
  }
  get accounts(): Stores['accounts'] {
    const { stores } = this
    this.#accounts ??= accountsWithCopies(
      stores.accounts,
      { sessions: stores.sessions, tokens: stores.tokens, tokenCache: stores.tokenCache },
      this.log,
    )
    return this.#accounts
  }
  get audit() {
    return this.stores.audit
  }
  get sessions() {
    return this.stores.sessions
  }
  get pendingSignIns() {
    return this.stores.pendingSignIns
  }
  get enrolments() {
    return this.stores.enrolments
  }
  get limits() {
    return this.stores.limits
  }
  get tokenCache() {
    return this.stores.tokenCache
  }
  ping() {
    return this.stores.ping()
  }
  close() {
    return this.stores.close()
  }
}

export function withCrossStoreRules(stores: Stores, log: FastifyBaseLogger): Stores {
  return new WithCrossStoreRules(stores, log)
}
