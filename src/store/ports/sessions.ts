import type { Digest } from '../../domain/credentials.js'

export interface SessionRecord {
  /** Public id (shown by GetSessions, taken by SignOutSessions); not the credential. */
  id: string
  accountId: string
  /** Copied in so the hot path needs no Postgres read; kept current by `setTwoFactorEnabled`. */
  login: string
  twoFactorEnabled: boolean
  /** The operator's 2FA deadline (epoch ms) or null; kept current by `setTwoFactorRequiredBy`. */
  twoFactorRequiredBy: number | null
  createdAt: number
  lastSeenAt: number
  /** createdAt + absolute lifetime. */
  absoluteExpiresAt: number
  ip: string | null
  userAgent: string | null
}

export interface SessionStore {
  /** Stores the session under the credential's digest and indexes it under the account. */
  create(digest: Digest, session: SessionRecord, idleMs: number): Promise<void>
  /**
   * The live session for this digest, or null. Slides the idle expiry, writing at most once per
   * `touchEveryMs` so the hot path is one round trip and usually no write.
   */
  authenticate(digest: Digest, now: number, idleMs: number, touchEveryMs: number): Promise<SessionRecord | null>
  /** Live sessions of the account (stale index entries are pruned). */
  list(accountId: string, now: number): Promise<SessionRecord[]>
  /** Ends the account's sessions with these public ids, or all except `keepId` with '*'. Returns how many ended. */
  revoke(accountId: string, ids: string[] | '*', keepId: string | null): Promise<number>
  /** Ends one session by digest (SignOut). */
  remove(accountId: string, digest: Digest): Promise<void>
  /** Rewrites the copied 2FA flag in every live session of the account (after Enable2FA/Disable2FA). */
  setTwoFactorEnabled(accountId: string, enabled: boolean): Promise<void>
  /** Rewrites the copied 2FA deadline in every live session of the account (after an operator changes it). */
  setTwoFactorRequiredBy(accountId: string, requiredBy: number | null): Promise<void>
}
