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

export interface AuditStore {
  /** For events with no change beside them (sign-in failures, sign-outs). `accountId` null: unknown login. */
  record(accountId: string | null, entry: AuditEntry, now: Date): Promise<void>
  /** Newest first. */
  list(accountId: string, limit: number): Promise<AuditEvent[]>
}
