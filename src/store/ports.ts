/**
 * Every piece of I/O the methods do goes through these small ports. Postgres (Prisma) holds the
 * durable aggregates, Redis the ephemeral ones; each port has an embedded adapter too (PGlite,
 * in-process memory) and one contract suite that runs against every adapter.
 *
 * Conventions: times are `Date` in, `Date` out for durable records and epoch milliseconds for
 * ephemeral ones; `now` is passed in wherever a rule depends on the clock. Adapters throw
 * `StoreUnavailableError` when their server cannot be reached, `AppError` for contract outcomes.
 */

export type AuditType =
  | 'signup'
  | 'signin.success'
  | 'signin.failure'
  | '2fa.success'
  | '2fa.failure'
  | 'recovery.used'
  | '2fa.enabled'
  | '2fa.disabled'
  | 'recovery.regenerated'
  | 'password.changed'
  | 'token.created'
  | 'token.edited'
  | 'token.regenerated'
  | 'token.deleted'
  | 'signout'
  | 'sessions.revoked'

/** What an audited change records beside itself, in the same transaction. */
export interface AuditEntry {
  type: AuditType
  ip: string | null
  userAgent: string | null
  detail?: Record<string, string | number | boolean | null>
}

export interface AuditEvent extends AuditEntry {
  at: Date
}

// ---------------------------------------------------------------- Postgres aggregates

export interface AccountRecord {
  id: string
  /** Canonical (lower-case) login. */
  login: string
  email: string | null
  passwordHash: string
  createdAt: Date
  twoFactorEnabled: boolean
}

export interface AccountStore {
  /** Throws AppError CONFLICT when the (canonical) login is taken. */
  create(
    input: { login: string; email: string | null; passwordHash: string },
    audit: AuditEntry,
  ): Promise<AccountRecord>
  findByLogin(login: string): Promise<AccountRecord | null>
  findById(id: string): Promise<AccountRecord | null>
  changePassword(accountId: string, passwordHash: string, audit: AuditEntry): Promise<void>
}

export interface AuditStore {
  /** For events with no change beside them (sign-in failures, sign-outs). `accountId` null: unknown login. */
  record(accountId: string | null, entry: AuditEntry, now: Date): Promise<void>
  /** Newest first. */
  list(accountId: string, limit: number): Promise<AuditEvent[]>
}

export interface TwoFactorStatus {
  enabledAt: Date
  recoveryCodesLeft: number
}

export interface RecoveryCodeView {
  code: string
  used: boolean
}

/** Plain secrets go in and come out; the adapter seals them (AES-256-GCM, key id, row id as AAD). */
export interface TwoFactorStore {
  status(accountId: string): Promise<TwoFactorStatus | null>
  /** The plain TOTP secret (20 bytes) and the last accepted step, or null when 2FA is off. */
  secret(accountId: string): Promise<{ secret: Uint8Array; lastStep: number } | null>
  /** Turns 2FA on with this secret and recovery set. Throws CONFLICT when already on. */
  enable(accountId: string, secret: Uint8Array, recoveryCodes: string[], audit: AuditEntry, now: Date): Promise<void>
  /** Destroys secret and codes. Throws CONFLICT when 2FA is off. */
  disable(accountId: string, audit: AuditEntry): Promise<void>
  /**
   * Accepts `step` only if it is later than the last accepted one (guarded UPDATE), recording
   * `audit` in the same transaction. False: replayed or 2FA off.
   */
  acceptStep(accountId: string, step: number, audit: AuditEntry): Promise<boolean>
  /**
   * Marks the unused code whose normalised form is `code` as used (guarded UPDATE) and returns
   * how many codes are left, or null when no unused code matches. Audits in the same transaction.
   */
  useRecoveryCode(accountId: string, code: string, audit: AuditEntry, now: Date): Promise<number | null>
  /** In issue order. Throws CONFLICT when 2FA is off. */
  recoveryCodes(accountId: string): Promise<RecoveryCodeView[]>
  /** Replaces the whole set in one transaction. Throws CONFLICT when 2FA is off. */
  replaceRecoveryCodes(accountId: string, recoveryCodes: string[], audit: AuditEntry): Promise<void>
  /** Re-seals every secret and code under the current key; returns the rows rewritten. */
  resealAll(): Promise<number>
}

export interface TokenRecord {
  id: string
  accountId: string
  description: string
  /** null: every method in the catalog. */
  apiList: string[] | null
  hint: string
  createdAt: Date
  expiresAt: Date | null
  lastUsedAt: Date | null
  lastUsedIp: string | null
}

export interface TokenStore {
  /** Throws CONFLICT past `maxPerAccount` (checked in the same transaction). */
  create(
    input: {
      accountId: string
      digest: Buffer
      description: string
      apiList: string[] | null
      hint: string
      expiresAt: Date | null
    },
    maxPerAccount: number,
    audit: AuditEntry,
  ): Promise<TokenRecord>
  list(accountId: string): Promise<Array<TokenRecord & { digest: Buffer }>>
  /** By digest, whoever owns it; null when unknown. Expiry is the caller's business. */
  findByDigest(digest: Buffer): Promise<(TokenRecord & { login: string; twoFactorEnabled: boolean }) | null>
  /** Edits this account's token; null when it has no such token. Returns the old digest for cache eviction. */
  update(
    accountId: string,
    id: string,
    changes: { description?: string; apiList?: string[] | null; expiresAt?: Date | null },
    audit: AuditEntry,
  ): Promise<{ token: TokenRecord; digest: Buffer } | null>
  /** Swaps the digest; null when this account has no such token. Returns the old digest. */
  replaceDigest(
    accountId: string,
    id: string,
    digest: Buffer,
    hint: string,
    audit: AuditEntry,
  ): Promise<{ oldDigest: Buffer } | null>
  /** Deletes this account's tokens among `ids` (or all with '*'); returns the digests removed. */
  delete(accountId: string, ids: string[] | '*', audit: AuditEntry): Promise<Buffer[]>
  /** Coalesced last-use write. */
  recordUse(id: string, at: Date, ip: string): Promise<void>
}

// ---------------------------------------------------------------- Redis aggregates

export interface SessionRecord {
  /** Public id (shown by GetSessions, taken by SignOutSessions); not the credential. */
  id: string
  accountId: string
  /** Copied in so the hot path needs no Postgres read; kept current by `setTwoFactorEnabled`. */
  login: string
  twoFactorEnabled: boolean
  createdAt: number
  lastSeenAt: number
  /** createdAt + absolute lifetime. */
  absoluteExpiresAt: number
  ip: string | null
  userAgent: string | null
}

export interface SessionStore {
  /** Stores the session under the credential's digest and indexes it under the account. */
  create(digest: string, session: SessionRecord, idleMs: number): Promise<void>
  /**
   * The live session for this digest, or null. Slides the idle expiry, writing at most once per
   * `touchEveryMs` so the hot path is one round trip and usually no write.
   */
  authenticate(digest: string, now: number, idleMs: number, touchEveryMs: number): Promise<SessionRecord | null>
  /** Live sessions of the account (stale index entries are pruned). */
  list(accountId: string, now: number): Promise<SessionRecord[]>
  /** Ends the account's sessions with these public ids, or all except `keepId` with '*'. Returns how many ended. */
  revoke(accountId: string, ids: string[] | '*', keepId: string | null): Promise<number>
  /** Ends one session by digest (SignOut). */
  remove(accountId: string, digest: string): Promise<void>
  /** Rewrites the copied 2FA flag in every live session of the account (after Enable2FA/Disable2FA). */
  setTwoFactorEnabled(accountId: string, enabled: boolean): Promise<void>
}

/**
 * A short-lived record that allows a limited number of wrong guesses: pending sign-ins (`lk2_`
 * tokens) and pending 2FA enrolments. All operations are atomic in the store.
 */
export interface AttemptBoxStore {
  put(key: string, payload: string, attempts: number, ttlMs: number): Promise<void>
  get(key: string): Promise<{ payload: string; attemptsLeft: number } | null>
  /** Spends one attempt; at zero the box is deleted. Returns attempts left, or null if there was no box. */
  fail(key: string): Promise<number | null>
  /** Deletes the box and returns its payload; of concurrent takers exactly one gets it. */
  take(key: string): Promise<string | null>
}

export interface CounterRule {
  key: string
  limit: number
  windowMs: number
}

export interface LimitStore {
  /** Milliseconds until every rule is under its limit again; 0 when none is at or past it. */
  blockedFor(rules: CounterRule[]): Promise<number>
  /** Counts one failure against each rule (fixed window starting at the first failure). */
  hit(rules: CounterRule[]): Promise<void>
  reset(keys: string[]): Promise<void>
  /**
   * Counts a failure on an escalating lock: from the `threshold`-th failure within `windowMs`,
   * the key locks for baseMs × 2^(failures − threshold), at most maxMs. Returns the lock in ms (0: none).
   */
  hitEscalating(
    key: string,
    rule: { threshold: number; windowMs: number; baseMs: number; maxMs: number },
  ): Promise<number>
  /** Milliseconds left on an escalating lock (0: none). */
  lockedFor(key: string): Promise<number>
}

export interface CachedToken {
  id: string
  accountId: string
  login: string
  twoFactorEnabled: boolean
  apiList: string[] | null
  expiresAt: number | null
}

export interface TokenCacheStore {
  /**
   * The cached token for this digest, recording its use in the same round trip. `flushDue` is
   * true at most once per `flushEveryMs` per token: then the caller writes the use to Postgres.
   */
  lookup(
    digest: string,
    use: { at: number; ip: string },
    flushEveryMs: number,
  ): Promise<{ token: CachedToken; flushDue: boolean } | null>
  put(digest: string, token: CachedToken, ttlMs: number): Promise<void>
  /** Revocation: takes effect on every instance at once. */
  evict(digests: string[]): Promise<void>
  /** The freshest recorded uses, for GetTokens. */
  lastUses(digests: string[]): Promise<Map<string, { at: number; ip: string }>>
}

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
