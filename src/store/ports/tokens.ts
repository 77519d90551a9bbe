import type { Digest } from '../../domain/credentials.js'
import type { AuditEntry } from './audit.js'

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
      digest: Digest
      description: string
      apiList: string[] | null
      hint: string
      expiresAt: Date | null
    },
    maxPerAccount: number,
    audit: AuditEntry,
  ): Promise<TokenRecord>
  list(accountId: string): Promise<Array<TokenRecord & { digest: Digest }>>
  /** By digest, whoever owns it; null when unknown. Expiry is the caller's business. */
  findByDigest(
    digest: Digest,
  ): Promise<
    | (TokenRecord & { login: string; twoFactorEnabled: boolean; twoFactorRequiredBy: Date | null; locked: boolean })
    | null
  >
  /** Edits this account's token; null when it has no such token. Returns the old digest for cache eviction. */
  update(
    accountId: string,
    id: string,
    changes: { description?: string; apiList?: string[] | null; expiresAt?: Date | null },
    audit: AuditEntry,
  ): Promise<{ token: TokenRecord; digest: Digest } | null>
  /** Swaps the digest; null when this account has no such token. Returns the old digest. */
  replaceDigest(
    accountId: string,
    id: string,
    digest: Digest,
    hint: string,
    audit: AuditEntry,
  ): Promise<{ oldDigest: Digest } | null>
  /** Deletes this account's tokens among `ids` (or all with '*'); returns the digests removed. */
  delete(accountId: string, ids: string[] | '*', audit: AuditEntry): Promise<Digest[]>
  /** Deletes every token of the account and records `audit` in the same transaction, even when there was none. */
  deleteAllAudited(accountId: string, audit: AuditEntry): Promise<Digest[]>
  /** Coalesced last-use write. */
  recordUse(id: string, at: Date, ip: string): Promise<void>
}
