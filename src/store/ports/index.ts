/**
 * Every piece of I/O the methods do goes through these small ports. Postgres (Prisma) holds the
 * durable aggregates, Redis the ephemeral ones; each port has an embedded adapter too (PGlite,
 * in-process memory) and one contract suite that runs against every adapter.
 *
 * Conventions: times are `Date` in, `Date` out for durable records and epoch milliseconds for
 * ephemeral ones; `now` is passed in wherever a rule depends on the clock. Adapters throw
 * `StoreUnavailableError` when their server cannot be reached, `AppError` for contract outcomes.
 */

export type * from './audit.js'
export type * from './accounts.js'
export type * from './two-factor.js'
export type * from './tokens.js'
export type * from './sessions.js'
export type * from './attempt-box.js'
export type * from './limits.js'
export type * from './token-cache.js'

import type { AccountStore } from './accounts.js'
import type { AuditStore } from './audit.js'
import type { TwoFactorStore } from './two-factor.js'
import type { TokenStore } from './tokens.js'
import type { SessionStore } from './sessions.js'
import type { AttemptBoxStore } from './attempt-box.js'
import type { LimitStore } from './limits.js'
import type { TokenCacheStore } from './token-cache.js'

export interface Stores {
  accounts: AccountStore
  audit: AuditStore
  twoFactor: TwoFactorStore
  tokens: TokenStore
  sessions: SessionStore
  pendingSignIns: AttemptBoxStore
  enrolments: AttemptBoxStore
  limits: LimitStore
  tokenCache: TokenCacheStore
  /** Both backends answer (for /readyz). */
  ping(): Promise<{ postgres: boolean; redis: boolean }>
  close(): Promise<void>
}
