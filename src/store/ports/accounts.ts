import type { AuditEntry } from './audit.js'

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
  /** `now` becomes passwordChangedAt. */
  changePassword(accountId: string, passwordHash: string, audit: AuditEntry, now: Date): Promise<void>
}
