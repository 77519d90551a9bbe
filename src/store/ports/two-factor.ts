import type { AuditEntry } from './audit.js'

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
  /**
   * Turns 2FA on with this secret and recovery set; `acceptedStep` (the enrolment's own code) is
   * recorded as the last accepted step in the same transaction. Throws CONFLICT when already on.
   */
  enable(
    accountId: string,
    secret: Uint8Array,
    recoveryCodes: string[],
    audit: AuditEntry,
    now: Date,
    acceptedStep?: number,
  ): Promise<void>
  /**
   * Destroys secret and codes. Throws CONFLICT when 2FA is off; with `unlessRequired`, FORBIDDEN
   * while an operator requires 2FA (checked under the account row's lock, so it cannot race AdminRequire2FA).
   */
  disable(accountId: string, audit: AuditEntry, options?: { unlessRequired?: boolean }): Promise<void>
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
  /** Whether an unused code matches `code` (normalised); a check that spends nothing. */
  hasUnusedRecoveryCode(accountId: string, code: string): Promise<boolean>
  /** In issue order. Throws CONFLICT when 2FA is off. */
  recoveryCodes(accountId: string): Promise<RecoveryCodeView[]>
  /** Replaces the whole set in one transaction. Throws CONFLICT when 2FA is off. */
  replaceRecoveryCodes(accountId: string, recoveryCodes: string[], audit: AuditEntry): Promise<void>
  /** Re-seals every secret and code under the current key; returns the rows rewritten. */
  resealAll(): Promise<number>
}
