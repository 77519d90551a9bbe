import type { AuditType } from '../../domain/audit-events.js'

export type { AuditType }

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
