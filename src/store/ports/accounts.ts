import type { AuditEntry } from './audit.js'

export interface AccountRecord {
  id: string
  /** Canonical (lower-case) login. */
  login: string
  email: string | null
  passwordHash: string
  createdAt: Date
  twoFactorEnabled: boolean
  /** Set while an operator has locked the account. */
  lockedAt: Date | null
  /** An operator's deadline for 2FA; null: not required. */
  twoFactorRequiredBy: Date | null
  lastSignInAt: Date | null
}

/** What issuing a session needs to know, read in the same statement that records the sign-in. */
export interface SignInState {
  locked: boolean
  twoFactorRequiredBy: Date | null
}

export interface AccountListQuery {
  /** off: 2FA off; overdue: 2FA off and past the deadline at `now`. */
  twoFactor?: 'on' | 'off' | 'overdue'
  /** Canonical (lower-case) prefix of the login. */
  loginPrefix?: string
  /** Logins after this one (keyset pagination in login order). */
  after?: string
  limit: number
  now: Date
}

export interface AccountSummary {
  id: string
  login: string
  createdAt: Date
  twoFactorEnabled: boolean
  twoFactorRequiredBy: Date | null
  locked: boolean
}

export interface AccountStore {
  /** Throws AppError CONFLICT when the (canonical) login is taken. */
  create(
    input: { login: string; email: string | null; passwordHash: string },
    audit: AuditEntry,
  ): Promise<AccountRecord>
  findByLogin(login: string): Promise<AccountRecord | null>
  findById(id: string): Promise<AccountRecord | null>
  /** `now` becomes passwordChangedAt. */
  changePassword(accountId: string, passwordHash: string, audit: AuditEntry, now: Date): Promise<void>
  /** Stamps lastSignInAt and answers the state a new session must honour; null when the account is gone. */
  recordSignIn(accountId: string, now: Date): Promise<SignInState | null>
  /** Locks or unlocks (idempotent), with the audit event in the same transaction. */
  setLocked(accountId: string, locked: boolean, audit: AuditEntry, now: Date): Promise<void>
  /** Sets or clears the 2FA deadline, with the audit event in the same transaction. */
  setTwoFactorRequiredBy(accountId: string, requiredBy: Date | null, audit: AuditEntry, now: Date): Promise<void>
  /** In login order, from `after` on, at most `limit`. */
  list(query: AccountListQuery): Promise<AccountSummary[]>
}
